/**
 * Helpers shared by the parts of `tornado-ts/ioloop`: argument checks and the way the loop runs
 * a callback (errors logged, never thrown).
 *
 * @internal
 */

import { CancelledError } from "../concurrent.js";
import { appLog } from "../log.js";

/** Any callback the loop runs. */
export type Callback = (...args: any[]) => unknown;

/** A TypeError with Node's `ERR_INVALID_ARG_TYPE` code. */
export function invalidArgument(message: string): TypeError {
  const error = new TypeError(message);
  (error as TypeError & { code: string }).code = "ERR_INVALID_ARG_TYPE";
  return error;
}

export function checkFunction(fn: unknown, what = "callback"): void {
  if (typeof fn !== "function") {
    throw invalidArgument(`${what} must be a function, got ${describeValue(fn)}`);
  }
}

export function checkTime(value: unknown, what: string): number {
  if (typeof value !== "number") {
    throw invalidArgument(`${what} must be a number of ms, got ${describeValue(value)}`);
  }
  if (Number.isNaN(value)) throw new RangeError(`${what} must not be NaN`);
  return value;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") return Object.prototype.toString.call(value);
  return `${typeof value} ${String(value)}`;
}

export function describe(fn: Callback): string {
  return fn.name ? `${fn.name}()` : "<anonymous function>";
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

export function isCancelled(error: unknown): boolean {
  return error instanceof CancelledError;
}

/**
 * Runs one callback the way the loop does: an exception is logged to `tornado.application`
 * ("Exception in callback f()"), a returned Promise's rejection too; a CancelledError is not.
 */
export function runCallback(fn: Callback, args: unknown[]): void {
  try {
    const result = args.length === 0 ? fn() : fn(...args);
    // Only thenables are watched; other return values ({} or [] included) are ignored.
    if (result !== undefined && isThenable(result)) {
      result.then(undefined, (error: unknown) => {
        if (!isCancelled(error)) appLog.error("Exception in callback %s", describe(fn), error);
      });
    }
  } catch (error) {
    if (!isCancelled(error)) appLog.error("Exception in callback %s", describe(fn), error);
  }
}
