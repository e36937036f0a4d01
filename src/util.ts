/**
 * Miscellaneous utilities: Tornado's `tornado.util`.
 *
 * - {@link Configurable} and {@link configurable}: a base class whose constructor builds the
 *   implementation chosen at runtime with `configure()` (`new AsyncHTTPClient()` gives a
 *   `SimpleAsyncHTTPClient` unless configured otherwise; `Resolver` works the same way).
 * - {@link GzipDecompressor} and {@link ZlibDecompressor}: streaming gzip/deflate decompression
 *   with a bound on the output of each call, so a compression bomb is never inflated past what
 *   the caller asked for.
 * - {@link reUnescape}, {@link errnoFromException}, {@link timedeltaToMs},
 *   {@link websocketMask}, and {@link TimeoutError}.
 */

import { constants as osConstants } from "node:os";
import zlib from "node:zlib";

/** Raised when an operation runs past its timeout or deadline (`withTimeout`, locks, queues, `runSync`). */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  readonly code = "ERR_TIMEOUT";
  constructor(message = "Timeout", options?: ErrorOptions) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Configurable

/** A class in a configurable hierarchy (the base or one of its implementations). */
export type ConfigurableClass = typeof Configurable;

/** Options given to a configurable constructor: Tornado's keyword arguments. */
export type ConfigurableOptions = object;

interface Configuration {
  impl: ConfigurableClass | null;
  defaults: ConfigurableOptions | undefined;
}

/** Saved state of one hierarchy, from {@link Configurable.saveConfiguration}. */
export interface SavedConfiguration {
  readonly base: ConfigurableClass;
  readonly configuration: Configuration | undefined;
}

/** Classes made configurable bases by {@link configurable} (the proxies users see). */
const bases = new WeakSet<object>();
/** Each base's configuration, set by `configure()`. */
const configurations = new WeakMap<object, Configuration>();

function invalidConfigurable(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_INVALID_CONFIGURABLE" });
}

/**
 * Base class for configurable interfaces: an interface whose constructor acts as a factory for
 * one of its implementation subclasses. The implementation, and default options for its
 * constructor, are chosen globally at runtime with {@link Configurable.configure}. Because the
 * constructor is the factory, the interface reads like a normal class and `instanceof` works.
 *
 * A hierarchy has a base, wrapped with {@link configurable} (the wrapper is what makes
 * `new Base()` a factory), which defines the static {@link Configurable.configurableDefault}.
 * Implementations are plain subclasses. A subclass can itself be wrapped with `configurable`
 * to become the base of an inner hierarchy with its own configuration.
 *
 * Constructors take one options object (Tornado's keyword arguments to `initialize`). When the
 * base is constructed, the configured defaults are merged under the given options; when an
 * implementation is constructed directly, its options are used as given.
 *
 * @remarks Tornado's implementations put their setup in `initialize()` because Python's
 * `__new__` builds the object; here the implementation's own constructor does that work, so
 * fields and `#private` members behave normally. Static `#private` members of a base are not
 * reachable through `this` in its static methods (it is a Proxy); use module-level state.
 *
 * @example
 * ```ts
 * export const Resolver = configurable(
 *   class Resolver extends Configurable {
 *     static override configurableDefault() {
 *       return DefaultResolver;
 *     }
 *     resolve(host: string, port: number): Promise<Address[]> {
 *       throw new Error("not implemented");
 *     }
 *   },
 * );
 * export type Resolver = InstanceType<typeof Resolver>;
 * class DefaultResolver extends Resolver {
 *   constructor(options: { timeout?: number } = {}) {
 *     super(options);
 *   }
 *   ...
 * }
 * Resolver.configure(OtherResolver, { timeout: 1000 });
 * new Resolver(); // an OtherResolver, built with {timeout: 1000}
 * ```
 */
export class Configurable {
  /**
   * @param _options - options for the implementation; `Configurable` itself ignores them.
   */
  constructor(_options?: ConfigurableOptions) {}

  /**
   * The base of this class's configurable hierarchy: the nearest class (this one or an
   * ancestor) wrapped with {@link configurable}. Override only to point elsewhere.
   * @throws TypeError (`ERR_INVALID_CONFIGURABLE`) when no ancestor is wrapped.
   */
  static configurableBase(): ConfigurableClass {
    for (let cls: unknown = this; typeof cls === "function"; cls = Object.getPrototypeOf(cls)) {
      if (bases.has(cls)) return cls as ConfigurableClass;
      if (cls === Configurable) break;
    }
    throw invalidConfigurable(`${this.name} has no base wrapped with configurable()`);
  }

  /**
   * The implementation used when none is configured. Every base must override this.
   * @throws Error when not overridden.
   */
  static configurableDefault(): ConfigurableClass {
    throw new Error(`${this.name} must define static configurableDefault()`);
  }

  /**
   * Sets the class the base builds, and default options merged under the options of each
   * `new Base(options)`. `null` keeps (or returns to) the default implementation.
   * Configuring replaces both the class and the defaults of any earlier call.
   * @throws TypeError (`ERR_INVALID_CONFIGURABLE`) when `impl` is not a subclass of this class.
   */
  static configure(impl: ConfigurableClass | null, defaults?: ConfigurableOptions): void {
    const base = this.configurableBase();
    if (impl !== null && impl !== this && !(impl.prototype instanceof this)) {
      throw invalidConfigurable(`Invalid subclass of ${this.name}: ${String(impl?.name ?? impl)}`);
    }
    configurations.set(base, {
      impl,
      defaults: defaults === undefined ? undefined : { ...defaults },
    });
  }

  /** The class `new Base()` currently builds: the configured one, else the default. */
  static configuredClass(): ConfigurableClass {
    const base = this.configurableBase();
    return configurations.get(base)?.impl ?? this.configurableDefault();
  }

  /** The default options set with {@link Configurable.configure}, if any. */
  static configuredDefaults(): Readonly<ConfigurableOptions> | undefined {
    return configurations.get(this.configurableBase())?.defaults;
  }

  /**
   * Builds the object for `new Base(...)` by calling `build()`. Override it on a base to hand
   * out existing instances instead, as Tornado's `AsyncHTTPClient` does (one per IOLoop unless
   * `forceInstance`). Only construction through the base comes here; an implementation
   * constructed directly is always new.
   *
   * @param build - constructs a new `impl` with the merged options.
   * @param _impl - the class `build` constructs.
   * @param _options - the merged options (the first constructor argument).
   * @returns the object `new Base(...)` evaluates to.
   */
  static instantiate(
    build: () => Configurable,
    _impl: ConfigurableClass,
    _options: ConfigurableOptions | undefined,
  ): Configurable {
    return build();
  }

  /** Snapshot of this hierarchy's configuration, for tests that configure temporarily. */
  static saveConfiguration(): SavedConfiguration {
    const base = this.configurableBase();
    return { base, configuration: configurations.get(base) };
  }

  /** Restores a snapshot from {@link Configurable.saveConfiguration}. */
  static restoreConfiguration(saved: SavedConfiguration): void {
    if (saved.configuration === undefined) configurations.delete(saved.base);
    else configurations.set(saved.base, saved.configuration);
  }
}

type AnyClass = abstract new (...args: any[]) => Configurable;

/**
 * Makes `cls` the base of a configurable hierarchy: `new Base(options, ...rest)` builds the
 * configured implementation (see {@link Configurable}) with the configured defaults merged
 * under `options`. Subclasses of the returned class construct normally.
 *
 * Usable as a function (`export const Base = configurable(class Base extends Configurable {…})`)
 * or as a standard class decorator (`@configurable`).
 *
 * The base must not be declared `abstract` in TypeScript, since `new Base()` is the point;
 * give methods that implementations must provide a body that throws.
 *
 * @returns a Proxy of `cls` that is the class users should see and extend.
 * @throws TypeError (`ERR_INVALID_CONFIGURABLE`) when `cls` does not extend {@link Configurable}.
 */
export function configurable<C extends AnyClass>(cls: C, _context?: ClassDecoratorContext<C>): C {
  if (!(cls.prototype instanceof Configurable)) {
    throw invalidConfigurable(`${cls.name} does not extend Configurable`);
  }
  const proxy: C = new Proxy(cls, {
    construct(target, args: unknown[], newTarget) {
      // A subclass's constructor reaches here through super(): construct normally.
      if (newTarget !== proxy) return Reflect.construct(target, args, newTarget);
      const base = proxy as unknown as ConfigurableClass;
      const impl = base.configuredClass();
      const defaults = base.configuredDefaults();
      if (defaults !== undefined) {
        const given = args[0];
        args = [{ ...defaults, ...(given as ConfigurableOptions | undefined) }, ...args.slice(1)];
      }
      // An implementation that is itself a configurable base dispatches again in its own trap.
      const build = (): Configurable =>
        (impl as unknown) === proxy
          ? Reflect.construct(target, args, newTarget)
          : Reflect.construct(impl, args);
      return base.instantiate(build, impl, args[0] as ConfigurableOptions | undefined);
    },
  });
  bases.add(proxy);
  return proxy;
}

// ---------------------------------------------------------------------------------------------
// Gzip

/** Failure of a {@link ZlibDecompressor}: corrupt or truncated data, or too much output. */
export class DecompressionError extends Error {
  override name = "DecompressionError";
  /**
   * `ERR_DECOMPRESS_DATA` (corrupt input; `zlibCode` says how), `ERR_DECOMPRESS_TRUNCATED` (input ended
   * inside the stream, found by `flush()`), `ERR_DECOMPRESS_TOO_LARGE` (`flush()` past its limit),
   * `ERR_DECOMPRESS_CLOSED` (used after `flush()` or an error; that error is the `cause`).
   */
  readonly code:
    | "ERR_DECOMPRESS_DATA"
    | "ERR_DECOMPRESS_TRUNCATED"
    | "ERR_DECOMPRESS_TOO_LARGE"
    | "ERR_DECOMPRESS_CLOSED";
  /** zlib's code (`Z_DATA_ERROR`, `Z_BUF_ERROR`, …) when zlib reported the error. */
  readonly zlibCode: string | undefined;
  constructor(
    message: string,
    code: DecompressionError["code"],
    zlibCode?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.zlibCode = zlibCode;
  }
}

/** The synchronous zlib handle behind `zlib.gunzipSync`, driven here one bounded step at a time. */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  onerror: (message: string, errno: number, code: string) => void;
  close(): void;
}

const EMPTY = Buffer.alloc(0);

function badMaxLength(maxLength: unknown): RangeError {
  return Object.assign(new RangeError(`maxLength must be a non-negative integer: ${maxLength}`), {
    code: "ERR_OUT_OF_RANGE",
  });
}
/** Output buffer size per zlib step, in bytes. */
const STEP = 64 * 1024;

/** Options for {@link ZlibDecompressor}. */
export interface ZlibDecompressorOptions {
  /**
   * `"gzip"` (a gzip file or `Content-Encoding: gzip`), `"deflate"` (zlib-wrapped, HTTP's
   * `deflate`) or `"raw"` (bare deflate, as WebSocket permessage-deflate sends it).
   * @defaultValue "gzip"
   */
  format?: "gzip" | "deflate" | "raw";
  /** The window size, 8 to 15 (a peer's negotiated `max_window_bits`). @defaultValue 15 */
  windowBits?: number;
}

/**
 * Streaming decompressor for gzip, zlib and raw deflate data, like Python's
 * `zlib.decompressobj`: feed compressed chunks to {@link ZlibDecompressor.decompress}, then call
 * {@link ZlibDecompressor.flush} when the input ends (a WebSocket, whose messages end with a
 * sync flush, never needs to).
 *
 * With a `maxLength`, `decompress` produces at most that many bytes and never inflates more:
 * the input it did not get to is kept in {@link ZlibDecompressor.unconsumedTail}, which the
 * caller passes back in the next call. This bounds memory on hostile input (a few KiB that
 * inflate to gigabytes).
 *
 * @remarks Built on the synchronous zlib handle that `zlib.gunzipSync` uses (Node's streams
 * only offer it asynchronously). Concatenated gzip members are all decompressed, as by
 * `gzip -d`; data after the last member that is not another member is an error (Python
 * ignores it).
 *
 * @example
 * ```ts
 * const d = new GzipDecompressor();
 * let input = chunk;
 * while (input.length > 0) {
 *   const out = d.decompress(input, 64 * 1024);
 *   deliver(out);
 *   input = d.unconsumedTail;
 * }
 * // at the end of the body:
 * deliver(d.flush());
 * ```
 */
export class ZlibDecompressor {
  #handle: ZlibHandle | null;
  #state: Uint32Array;
  #engine: zlib.Gunzip | zlib.Inflate | zlib.InflateRaw;
  #tail: Buffer = EMPTY;
  #error: DecompressionError | null = null;
  readonly #label: string;

  /**
   * @throws RangeError for a `windowBits` outside 8..15 or an unknown `format`.
   * @throws Error when the running Node.js lacks the synchronous zlib handle.
   */
  constructor(options: ZlibDecompressorOptions = {}) {
    const format = options.format ?? "gzip";
    const windowBits = options.windowBits ?? 15;
    if (!Number.isInteger(windowBits) || windowBits < 8 || windowBits > 15) {
      throw Object.assign(new RangeError(`windowBits must be 8 to 15: ${windowBits}`), {
        code: "ERR_OUT_OF_RANGE",
      });
    }
    const engine =
      format === "gzip"
        ? zlib.createGunzip({ windowBits })
        : format === "deflate"
          ? zlib.createInflate({ windowBits })
          : format === "raw"
            ? zlib.createInflateRaw({ windowBits })
            : null;
    if (engine === null) {
      throw Object.assign(new RangeError(`unknown format: ${String(format)}`), {
        code: "ERR_INVALID_ARG_VALUE",
      });
    }
    this.#label = format;
    const internals = engine as unknown as { _handle?: ZlibHandle; _writeState?: Uint32Array };
    const handle = internals._handle;
    const state = internals._writeState;
    if (typeof handle?.writeSync !== "function" || !(state instanceof Uint32Array)) {
      engine.close();
      throw new Error("ZlibDecompressor: this Node.js has no synchronous zlib handle");
    }
    this.#engine = engine;
    this.#handle = handle;
    this.#state = state;
    // Replaces Node's handler, which would destroy the (unused) stream and emit 'error'.
    handle.onerror = (message, _errno, code) => {
      this.#error ??= new DecompressionError(
        `${this.#label}: ${message}`,
        "ERR_DECOMPRESS_DATA",
        code,
      );
    };
  }

  /**
   * Input from the last {@link ZlibDecompressor.decompress} call that was not processed because
   * `maxLength` was reached (a view of that call's `data`, not a copy). Pass it to the next
   * call. Empty when all input was used.
   */
  get unconsumedTail(): Buffer {
    return this.#tail;
  }

  /**
   * Decompresses a chunk; returns the data now available (possibly empty: zlib may need more
   * input first).
   *
   * @param data - compressed bytes (new input, or the previous `unconsumedTail`).
   * @param maxLength - most bytes to return; 0 means no limit. @defaultValue 0
   * @throws DecompressionError (`ERR_DECOMPRESS_DATA`) on corrupt data; the decompressor is then closed.
   */
  decompress(data: Uint8Array, maxLength = 0): Buffer {
    if (!Number.isInteger(maxLength) || maxLength < 0) throw badMaxLength(maxLength);
    const { output, unused } = this.#run(data, zlib.constants.Z_SYNC_FLUSH, maxLength);
    this.#tail = unused.length === 0 ? EMPTY : unused;
    return output;
  }

  /**
   * Returns the rest of the data once the input has ended (after processing any
   * `unconsumedTail`), checks that the stream was complete, and closes the decompressor.
   *
   * @param maxLength - most bytes to return; 0 means no limit. @defaultValue 0
   * @throws DecompressionError `ERR_DECOMPRESS_TRUNCATED` when the input ended inside the gzip stream,
   *   `ERR_DECOMPRESS_TOO_LARGE` past `maxLength`, `ERR_DECOMPRESS_DATA` on corrupt data.
   * @remarks Python's `flush()` accepts truncated input silently; Tornado calls it to detect
   * errors, so here truncation is one.
   */
  flush(maxLength = 0): Buffer {
    if (!Number.isInteger(maxLength) || maxLength < 0) throw badMaxLength(maxLength);
    try {
      // One byte past the limit tells "exactly maxLength" from "more than maxLength".
      const limit = maxLength > 0 ? maxLength + 1 : 0;
      const { output } = this.#run(this.#tail, zlib.constants.Z_FINISH, limit);
      if (limit > 0 && output.length >= limit) {
        throw new DecompressionError(
          `${this.#label}: more than ${maxLength} bytes left at flush`,
          "ERR_DECOMPRESS_TOO_LARGE",
        );
      }
      return output;
    } catch (error) {
      if (error instanceof DecompressionError && error.zlibCode === "Z_BUF_ERROR") {
        throw new DecompressionError(
          `${this.#label}: truncated input`,
          "ERR_DECOMPRESS_TRUNCATED",
          "Z_BUF_ERROR",
          {
            cause: error,
          },
        );
      }
      throw error;
    } finally {
      this.#tail = EMPTY;
      this.#close();
    }
  }

  /** Runs zlib on `input` until the input is used or `maxLength` bytes came out. */
  #run(input: Uint8Array, flush: number, maxLength: number): { output: Buffer; unused: Buffer } {
    const handle = this.#handle;
    if (handle === null) {
      throw new DecompressionError(
        `${this.#label}: decompressor is closed`,
        "ERR_DECOMPRESS_CLOSED",
        undefined,
        {
          cause: this.#error ?? undefined,
        },
      );
    }
    const limit = maxLength > 0 ? maxLength : Number.POSITIVE_INFINITY;
    const chunks: Buffer[] = [];
    let total = 0;
    let inOffset = 0;
    let inLength = input.length;
    // Each step asks zlib for at most what is still allowed, so it never inflates past limit.
    while (total < limit) {
      const room = Math.min(STEP, limit - total);
      const out = Buffer.allocUnsafe(room);
      handle.writeSync(flush, input, inOffset, inLength, out, 0, room);
      if (this.#error !== null) {
        const error = this.#error;
        this.#close();
        throw error;
      }
      const availOut = this.#state[0]!;
      const availIn = this.#state[1]!;
      const produced = room - availOut;
      inOffset += inLength - availIn;
      inLength = availIn;
      if (produced > 0) {
        chunks.push(out.subarray(0, produced));
        total += produced;
      }
      // Room left over means zlib has nothing more to give for this input.
      if (availOut > 0) break;
    }
    const output =
      chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    const view = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.length);
    return { output, unused: view.subarray(inOffset, inOffset + inLength) };
  }

  /**
   * Releases zlib's memory now (for a body abandoned midway); later calls throw
   * `ERR_DECOMPRESS_CLOSED`. `flush()` and errors close too. Safe to call more than once.
   */
  close(): void {
    this.#tail = EMPTY;
    this.#close();
  }

  #close(): void {
    if (this.#handle === null) return;
    this.#handle = null;
    this.#engine.close();
  }
}

/**
 * Streaming gzip decompressor: Tornado's `GzipDecompressor`, a {@link ZlibDecompressor} for the
 * gzip format (what `Content-Encoding: gzip` bodies and `decompress_response` need).
 */
export class GzipDecompressor extends ZlibDecompressor {
  constructor() {
    super({ format: "gzip" });
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const ALPHANUMERIC = /^[A-Za-z0-9]$/;

/**
 * Reverses regex escaping: `\.` becomes `.`, `\/` becomes `/` (what `re.escape` or an escaped
 * route pattern contains). Used to turn a URL pattern back into a path.
 *
 * @throws RangeError (`ERR_INVALID_ESCAPE`) for an escape that stands for a class or special
 *   character (`\d`, `\w`, `\n`, …): it has no single literal meaning.
 */
export function reUnescape(text: string): string {
  return text.replace(/\\(.)/gsu, (_m, c: string) => {
    if (ALPHANUMERIC.test(c)) {
      throw Object.assign(new RangeError(`cannot unescape '\\${c}'`), {
        code: "ERR_INVALID_ESCAPE",
      });
    }
    return c;
  });
}

const errnoNames = new Map<number, string>();
for (const [name, number] of Object.entries(osConstants.errno)) {
  if (!errnoNames.has(number)) errnoNames.set(number, name);
}

/**
 * The errno of a system error, as its symbolic name (`"ECONNRESET"`): the error's `code` when
 * it is one, else the name of its numeric `errno` (Node's are negative, libuv style; positive
 * ones are looked up too). Tornado returns the number; names are what Node programs compare.
 *
 * @returns the name, or undefined when `error` carries no errno.
 */
export function errnoFromException(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) return code;
  if (typeof errno === "number") return errnoNames.get(Math.abs(errno));
  if (typeof errno === "string" && /^E[A-Z0-9]+$/.test(errno)) return errno;
  return undefined;
}

/** A duration in parts, like Python's `datetime.timedelta`. Every part defaults to 0. */
export interface Timedelta {
  weeks?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  milliseconds?: number;
  microseconds?: number;
}

/**
 * A duration in milliseconds (Tornado's `timedelta_to_seconds`, in this project's unit).
 * A number is taken as milliseconds already and returned as is.
 * @throws RangeError when a part is not a finite number.
 */
export function timedeltaToMs(delta: Timedelta | number): number {
  if (typeof delta === "number") return delta;
  const parts: [keyof Timedelta, number][] = [
    ["weeks", 604_800_000],
    ["days", 86_400_000],
    ["hours", 3_600_000],
    ["minutes", 60_000],
    ["seconds", 1000],
    ["milliseconds", 1],
    ["microseconds", 0.001],
  ];
  let total = 0;
  for (const [name, ms] of parts) {
    const value = delta[name] ?? 0;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new RangeError(`timedelta ${name} must be a finite number: ${String(value)}`);
    }
    total += value * ms;
  }
  return total;
}

/**
 * XORs `data` with the 4-byte WebSocket `mask`, repeating (RFC 6455 §5.3); masking twice
 * restores the data.
 * @returns a new Buffer.
 * @throws RangeError when `mask` is not 4 bytes.
 */
export function websocketMask(mask: Uint8Array, data: Uint8Array): Buffer {
  if (mask.length !== 4) throw new RangeError(`mask must be 4 bytes, got ${mask.length}`);
  const out = Buffer.allocUnsafe(data.length);
  const m0 = mask[0]!;
  const m1 = mask[1]!;
  const m2 = mask[2]!;
  const m3 = mask[3]!;
  const n = data.length;
  const whole = n - (n % 4);
  // Four bytes per iteration: the mask lines up with every fourth byte.
  for (let i = 0; i < whole; i += 4) {
    out[i] = data[i]! ^ m0;
    out[i + 1] = data[i + 1]! ^ m1;
    out[i + 2] = data[i + 2]! ^ m2;
    out[i + 3] = data[i + 3]! ^ m3;
  }
  for (let i = whole; i < n; i++) out[i] = data[i]! ^ mask[i & 3]!;
  return out;
}

// Buffer's own latin-1 decoder, when this Node has it (every version to date): what
// `toString("latin1")` ends up calling, without its encoding lookup and argument checks. The
// HTTP parser and writer decode every request head and small body with it.
const nativeLatin1Slice = (
  Buffer.prototype as unknown as { latin1Slice?: (start: number, end: number) => string }
).latin1Slice;

/**
 * `bytes[start, end)` decoded as latin-1 (one character per byte), as
 * `bytes.toString("latin1", start, end)` does, but faster. @internal
 */
export const latin1 =
  typeof nativeLatin1Slice === "function"
    ? (bytes: Buffer, start = 0, end = bytes.length): string =>
        (bytes as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(
          start,
          end,
        )
    : (bytes: Buffer, start = 0, end = bytes.length): string =>
        bytes.toString("latin1", start, end);
