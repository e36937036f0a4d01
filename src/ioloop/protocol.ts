/**
 * Messages between a {@link ThreadPoolExecutor} and its worker threads, and how errors cross
 * the thread boundary (internal to `tornado-ts/ioloop`).
 *
 * Structured cloning keeps an Error's message and stack but drops its class and extra fields
 * (`code`, `errno`), so errors travel as plain data and are rebuilt on the other side: same
 * class for the built-in error types, otherwise an `Error` with the original `name`; `code`
 * and other cloneable own fields kept; `cause` followed a few levels deep.
 *
 * @internal
 */

/** A task for a worker: a function's source, or a module export. */
export interface TaskMessage {
  id: number;
  source?: string;
  module?: string;
  exportName?: string;
  args: unknown[];
}

/** A worker's answer to one task. */
export interface ResultMessage {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: RemoteError;
}

/** A thrown value, as plain cloneable data. */
export interface RemoteError {
  /** False when the thrown value was not an Error; it is then in `value`. */
  isError: boolean;
  name: string;
  message: string;
  stack: string | undefined;
  /** Own enumerable fields of the error that could be cloned (`code`, `errno`, ...). */
  props: Record<string, unknown>;
  cause?: RemoteError;
  value?: unknown;
}

const CAUSE_DEPTH = 4;

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Turns any thrown value into {@link RemoteError} data that survives `postMessage`. */
export function serializeError(error: unknown, depth = 0): RemoteError {
  if (!(error instanceof Error)) {
    if (cloneable(error)) {
      return { isError: false, name: "", message: "", stack: undefined, props: {}, value: error };
    }
    return {
      isError: true,
      name: "Error",
      message: `executor task threw a value that cannot be cloned: ${String(error)}`,
      stack: undefined,
      props: {},
    };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (cloneable(value)) props[key] = value;
  }
  const out: RemoteError = {
    isError: true,
    name: error.name,
    message: error.message,
    stack: error.stack,
    props,
  };
  if (error.cause !== undefined && depth < CAUSE_DEPTH) {
    out.cause = serializeError(error.cause, depth + 1);
  }
  return out;
}

const BUILTIN_ERRORS: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuilds a thrown value from {@link RemoteError} data. */
export function deserializeError(remote: RemoteError): unknown {
  if (!remote.isError) return remote.value;
  const Builtin = BUILTIN_ERRORS[remote.name];
  const error = Builtin !== undefined ? new Builtin(remote.message) : new Error(remote.message);
  if (Builtin === undefined) {
    Object.defineProperty(error, "name", {
      value: remote.name,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  if (remote.stack !== undefined) error.stack = remote.stack;
  Object.assign(error, remote.props);
  if (remote.cause !== undefined) {
    Object.defineProperty(error, "cause", {
      value: deserializeError(remote.cause),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}
