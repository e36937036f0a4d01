/**
 * JSON as Python's `json` module writes and reads it: {@link jsonEncode}, {@link jsonDecode}.
 * Re-exported by `tornado-ts/escape`.
 */

import { Buffer } from "node:buffer";
import { asBuffer, decodeUtf8Strict, invalidType, isBytes, UnicodeError } from "./bytes.js";

/** Text given to {@link jsonDecode} that is not JSON (Python's `JSONDecodeError`). */
export class JSONDecodeError extends SyntaxError {
  override name = "JSONDecodeError";
  readonly code = "ERR_JSON_DECODE";
}

/** A value that has no JSON form: a symbol, a function, a circular structure. */
export class JSONEncodeError extends TypeError {
  override name = "JSONEncodeError";
  readonly code = "ERR_JSON_ENCODE";
}

const NEEDS_ASCII_ESCAPE = /[\x7f-\uffff]/;
const ASCII_ESCAPE_RE = /[\x7f-\uffff]/g;

function escapeNonAscii(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function encodeJSONString(text: string): string {
  // JSON.stringify already escapes quotes, backslashes, control characters and lone
  // surrogates the way Python does; Python's ensure_ascii also escapes DEL and non-ASCII.
  const out = JSON.stringify(text);
  return NEEDS_ASCII_ESCAPE.test(out) ? out.replace(ASCII_ESCAPE_RE, escapeNonAscii) : out;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent when < 1e-4 or >= 1e16. */
function pythonFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  // toExponential() without an argument gives the shortest digits that round-trip.
  const exp = n.toExponential();
  const at = exp.indexOf("e");
  const negative = exp[0] === "-";
  const digits = exp.slice(negative ? 1 : 0, at).replace(".", "");
  const exponent = Number(exp.slice(at + 1));
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    const e = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) {
    return `${sign}${digits}${"0".repeat(exponent + 1 - digits.length)}.0`;
  }
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

function encodeNumber(n: number): string {
  // A safe integer is what Python calls an int; anything else prints as Python's float repr,
  // which is JavaScript's own text for fractions between 1e-4 and 1e16.
  if (Number.isSafeInteger(n)) return String(n);
  const magnitude = Math.abs(n);
  if (magnitude >= 1e-4 && magnitude < 1e16 && !Number.isInteger(n)) return String(n);
  return pythonFloat(n);
}

function encodeMapKey(key: unknown): string {
  if (typeof key === "string") return key;
  if (typeof key === "number") return encodeNumber(key);
  if (typeof key === "bigint") return String(key);
  if (typeof key === "boolean") return key ? "true" : "false";
  if (key === null) return "null";
  throw new JSONEncodeError(`keys must be str, int, float, bool or None, not ${typeof key}`);
}

// Object keys repeat (every element of an array of records has the same ones): their
// encoded form is cached, up to a bound.
const keyCache = new Map<string, string>();
const KEY_CACHE_SIZE = 2048;

function encodeKey(name: string): string {
  let encoded = keyCache.get(name);
  if (encoded === undefined) {
    encoded = encodeJSONString(name);
    if (name.length <= 64) {
      if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
      keyCache.set(name, encoded);
    }
  }
  return encoded;
}

/** Nesting depth from which objects are tracked to detect cycles (shallower ones cannot loop forever unnoticed). */
const TRACK_FROM_DEPTH = 32;

/** Encodes one value; undefined for a value JSON omits (undefined, a function). */
function encodeValue(
  value: unknown,
  key: string,
  depth: number,
  stack: Set<object> | null,
): string | undefined {
  switch (typeof value) {
    case "string":
      return encodeJSONString(value);
    case "number":
      return encodeNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return String(value);
    case "undefined":
    case "function":
      return undefined;
    case "symbol":
      throw new JSONEncodeError("Object of type symbol is not JSON serializable");
  }
  if (value === null) return "null";
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    const replaced: unknown = toJSON.call(value, key);
    if (replaced === null || typeof replaced !== "object") {
      return encodeValue(replaced, key, depth, stack);
    }
    value = replaced;
  }
  const object = value as object;
  if (object instanceof Number) return encodeNumber(object.valueOf());
  if (object instanceof String) return encodeJSONString(object.valueOf());
  if (object instanceof Boolean) return object.valueOf() ? "true" : "false";
  // Cycles are looked for only below a few levels: a cycle recurses until it gets there, and
  // the shallow objects of ordinary values pay nothing for the check.
  if (depth >= TRACK_FROM_DEPTH) {
    stack ??= new Set();
    if (stack.has(object)) throw new JSONEncodeError("Circular reference detected");
    stack.add(object);
  }
  const inner = depth + 1;
  let out: string;
  if (Array.isArray(object)) {
    out = "[";
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out += ", ";
      out += encodeValue(object[i], String(i), inner, stack) ?? "null";
    }
    out += "]";
  } else {
    out = "{";
    let first = true;
    if (object instanceof Map) {
      for (const [k, v] of object) {
        const name = encodeMapKey(k);
        const encoded = encodeValue(v, name, inner, stack);
        if (encoded === undefined) continue;
        out += first
          ? `${encodeJSONString(name)}: ${encoded}`
          : `, ${encodeJSONString(name)}: ${encoded}`;
        first = false;
      }
    } else {
      const record = object as Record<string, unknown>;
      for (const name of Object.keys(record)) {
        const encoded = encodeValue(record[name], name, inner, stack);
        if (encoded === undefined) continue;
        out += first ? `${encodeKey(name)}: ${encoded}` : `, ${encodeKey(name)}: ${encoded}`;
        first = false;
      }
    }
    out += "}";
  }
  if (depth >= TRACK_FROM_DEPTH) stack!.delete(object);
  return out;
}

/**
 * JSON-encodes a value exactly as Python's `json.dumps` with its defaults does, and never
 * writes `</` (it becomes `<\/`), so the output can sit inside an HTML `<script>`.
 *
 * Separators are `", "` and `": "`; non-ASCII characters (and DEL) are written as `\uXXXX`
 * (lowercase hex, surrogate pairs for astral characters). Safe integers print as integers,
 * other numbers as Python floats print (`1e-05`, `1e+16`, `0.5`), NaN and infinities as
 * `NaN`, `Infinity`, `-Infinity` (as Python; not standard JSON). A `bigint` prints its digits.
 * Otherwise the rules of `JSON.stringify` apply: `toJSON()` is honoured, object properties
 * that are undefined or functions are left out (`null` in arrays). A `Map` encodes as an object.
 *
 * @remarks JavaScript orders integer-like object keys first; Python keeps insertion order.
 * @throws JSONEncodeError (`ERR_JSON_ENCODE`) for a circular structure, a symbol, or a value
 *   (undefined, a function) with no JSON form at the top level.
 */
export function jsonEncode(value: unknown): string {
  const out = encodeValue(value, "", 0, null);
  if (out === undefined) {
    throw new JSONEncodeError(`Object of type ${typeof value} is not JSON serializable`);
  }
  return out.includes("</") ? out.replace(/<\//g, "<\\/") : out;
}

/** Python's `json.detect_encoding`: UTF-8 (with or without BOM), UTF-16 or UTF-32. */
function decodeJSONBytes(bytes: Buffer): string {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (bytes.length >= 4 && b0 === 0 && b1 === 0 && bytes[2] === 0xfe && bytes[3] === 0xff) {
    return decodeUtf32(bytes.subarray(4), false);
  }
  if (bytes.length >= 4 && b0 === 0xff && b1 === 0xfe && bytes[2] === 0 && bytes[3] === 0) {
    return decodeUtf32(bytes.subarray(4), true);
  }
  if (b0 === 0xfe && b1 === 0xff) return decodeUtf16(bytes.subarray(2), false);
  if (b0 === 0xff && b1 === 0xfe) return decodeUtf16(bytes.subarray(2), true);
  if (b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf) return decodeUtf8Strict(bytes.subarray(3));
  if (bytes.length >= 4) {
    if (b0 === 0) return b1 ? decodeUtf16(bytes, false) : decodeUtf32(bytes, false);
    if (b1 === 0) return bytes[2] || bytes[3] ? decodeUtf16(bytes, true) : decodeUtf32(bytes, true);
  } else if (bytes.length === 2) {
    if (b0 === 0) return decodeUtf16(bytes, false);
    if (b1 === 0) return decodeUtf16(bytes, true);
  }
  return decodeUtf8Strict(bytes);
}

function badEncoding(what: string): UnicodeError {
  return new UnicodeError(`can't decode JSON bytes as ${what}`, "ERR_INVALID_UTF8");
}

function decodeUtf16(bytes: Buffer, littleEndian: boolean): string {
  if (bytes.length % 2 !== 0) throw badEncoding("UTF-16");
  const copy = Buffer.from(bytes);
  if (!littleEndian) copy.swap16();
  return copy.toString("utf16le");
}

function decodeUtf32(bytes: Buffer, littleEndian: boolean): string {
  if (bytes.length % 4 !== 0) throw badEncoding("UTF-32");
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    const c = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    if (c > 0x10ffff) throw badEncoding("UTF-32");
    out += String.fromCodePoint(c);
  }
  return out;
}

const NON_FINITE_TOKEN_RE = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/gs;

/**
 * Parses text with Python's non-standard `NaN`, `Infinity` and `-Infinity` constants (which
 * {@link jsonEncode} writes): each becomes a marker string, turned back into a number by the
 * reviver. Only reached when plain `JSON.parse` has failed.
 */
function parseWithNonFinite(text: string): unknown {
  let marker = "\u0000nonfinite";
  while (text.includes(marker)) marker += "\u0000";
  let replaced = false;
  const rewritten = text.replace(NON_FINITE_TOKEN_RE, (m, token: string | undefined) => {
    if (token === undefined) return m;
    replaced = true;
    return JSON.stringify(marker + token);
  });
  if (!replaced) return undefined;
  const values: Record<string, number> = {
    NaN: Number.NaN,
    Infinity: Number.POSITIVE_INFINITY,
    "-Infinity": Number.NEGATIVE_INFINITY,
  };
  return JSON.parse(rewritten, (_key, v: unknown) =>
    typeof v === "string" && v.startsWith(marker) ? values[v.slice(marker.length)] : v,
  );
}

/**
 * Parses JSON text, as Python's `json.loads`: a string, or bytes in UTF-8 (with or without
 * BOM), UTF-16 or UTF-32. Python's `NaN`, `Infinity` and `-Infinity` are accepted.
 *
 * @remarks Integers beyond 2^53 lose precision, as in `JSON.parse`; Python keeps them exact.
 * @throws JSONDecodeError (`ERR_JSON_DECODE`, the `SyntaxError` as `cause`) for invalid JSON.
 * @throws UnicodeError for bytes in no supported encoding.
 */
export function jsonDecode(value: string | Uint8Array): unknown {
  let text: string;
  if (typeof value === "string") text = value;
  else if (isBytes(value)) text = decodeJSONBytes(asBuffer(value));
  else throw invalidType("bytes or string", value);
  try {
    return JSON.parse(text);
  } catch (error) {
    if (text.includes("NaN") || text.includes("Infinity")) {
      try {
        const parsed = parseWithNonFinite(text);
        if (parsed !== undefined) return parsed;
      } catch {
        // Report the original error below.
      }
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new JSONDecodeError(message, { cause: error });
  }
}
