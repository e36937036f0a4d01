/**
 * Strings and bytes for tornado-ts's escape module: {@link utf8}, {@link toUnicode},
 * {@link recursiveUnicode} and {@link UnicodeError}. Re-exported by `tornado-ts/escape`.
 */

import { Buffer, isUtf8 } from "node:buffer";

/**
 * Bytes that are not valid UTF-8 where text was expected, a string that cannot be encoded
 * (an unpaired surrogate), or a character outside latin1 where bytes were expected.
 * Python raises `UnicodeDecodeError`/`UnicodeEncodeError` in these places.
 */
export class UnicodeError extends TypeError {
  override name = "UnicodeError";
  /** `ERR_INVALID_UTF8`, `ERR_UNPAIRED_SURROGATE` or `ERR_NOT_LATIN1`. */
  readonly code: "ERR_INVALID_UTF8" | "ERR_UNPAIRED_SURROGATE" | "ERR_NOT_LATIN1";
  constructor(
    message: string,
    code: "ERR_INVALID_UTF8" | "ERR_UNPAIRED_SURROGATE" | "ERR_NOT_LATIN1",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
  }
}

/** `TypeError` with Node's `ERR_INVALID_ARG_TYPE` code, for a value of the wrong type. @internal */
export function invalidType(expected: string, value: unknown): TypeError {
  const got = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  const error = new TypeError(`Expected ${expected}; got ${got}`);
  return Object.assign(error, { code: "ERR_INVALID_ARG_TYPE" });
}

/** True for a `Buffer` or any `Uint8Array` (Python's `bytes`). @internal */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** A `Buffer` view of the same memory (no copy). @internal */
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
}

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib TypeScript targets.
const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean })
  .isWellFormed;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function wellFormed(value: string): boolean {
  return isWellFormed !== undefined ? isWellFormed.call(value) : !LONE_SURROGATE_RE.test(value);
}

/** Decodes strict UTF-8. @throws UnicodeError (`ERR_INVALID_UTF8`) on invalid bytes. @internal */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) {
    throw new UnicodeError("'utf-8' codec can't decode bytes: invalid UTF-8", "ERR_INVALID_UTF8");
  }
  return asBuffer(bytes).toString("utf8");
}

/**
 * Encodes a string as UTF-8; bytes (`Buffer`, `Uint8Array`) and `null` pass unchanged.
 *
 * @returns a `Buffer` (a `Uint8Array` is returned as a `Buffer` view of the same memory), or null.
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for any other type.
 * @throws UnicodeError (`ERR_UNPAIRED_SURROGATE`) for a string with an unpaired surrogate,
 *   which UTF-8 cannot represent.
 */
export function utf8(value: string | Uint8Array): Buffer;
export function utf8(value: null): null;
export function utf8(value: string | Uint8Array | null): Buffer | null;
export function utf8(value: string | Uint8Array | null): Buffer | null {
  if (value === null) return null;
  if (typeof value === "string") {
    if (!wellFormed(value)) {
      throw new UnicodeError(
        "'utf-8' codec can't encode an unpaired surrogate",
        "ERR_UNPAIRED_SURROGATE",
      );
    }
    return Buffer.from(value, "utf8");
  }
  if (isBytes(value)) return asBuffer(value);
  throw invalidType("bytes, string, or null", value);
}

/**
 * Decodes bytes as UTF-8; strings and `null` pass unchanged.
 *
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for any other type.
 * @throws UnicodeError (`ERR_INVALID_UTF8`) for bytes that are not valid UTF-8.
 */
export function toUnicode(value: string | Uint8Array): string;
export function toUnicode(value: null): null;
export function toUnicode(value: string | Uint8Array | null): string | null;
export function toUnicode(value: string | Uint8Array | null): string | null {
  if (value === null || typeof value === "string") return value;
  if (isBytes(value)) return decodeUtf8Strict(value);
  throw invalidType("bytes, string, or null", value);
}

/** Tornado's `native_str`: the same as {@link toUnicode}. */
export const nativeStr: typeof toUnicode = toUnicode;
/** Tornado's `to_basestring`: the same as {@link toUnicode}. */
export const toBasestring: typeof toUnicode = toUnicode;

/**
 * A string argument, or bytes decoded as strict UTF-8 (Tornado's `to_unicode` of an argument).
 * @throws TypeError for another type, UnicodeError for invalid UTF-8. @internal
 */
export function stringArgument(value: string | Uint8Array): string {
  if (typeof value === "string") return value;
  if (isBytes(value)) return decodeUtf8Strict(value);
  throw invalidType("bytes or string", value);
}

/**
 * Converts every byte string in a structure of arrays, plain objects and `Map`s to a string
 * (UTF-8). Returns new containers; other values are returned as they are.
 *
 * @throws UnicodeError for bytes that are not valid UTF-8.
 */
export function recursiveUnicode(value: unknown): unknown {
  if (isBytes(value)) return decodeUtf8Strict(value);
  if (Array.isArray(value)) return value.map(recursiveUnicode);
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(recursiveUnicode(k), recursiveUnicode(v));
    return out;
  }
  if (value !== null && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = recursiveUnicode(v);
      return out;
    }
  }
  return value;
}
