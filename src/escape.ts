/**
 * Escaping and unescaping for HTML, JSON and URLs, and a few string helpers: Tornado's
 * `tornado.escape`.
 *
 * Every function gives the same output as Python Tornado's for the same input (the test suite
 * runs a corpus through both): {@link xhtmlEscape} and {@link xhtmlUnescape} are Python's
 * `html.escape`/`html.unescape` (the full HTML5 named-reference table), {@link urlEscape} and
 * {@link urlUnescape} are `quote_plus`/`quote` and `unquote_plus`/`unquote`, {@link jsonEncode}
 * is `json.dumps` with its default separators and `ensure_ascii`, plus `</` escaped as `<\/`.
 *
 * Strings are JavaScript strings, Python's `bytes` are `Buffer`s (any `Uint8Array` is
 * accepted). Bytes are decoded as strict UTF-8: invalid input throws {@link UnicodeError}.
 *
 * Main exports: {@link xhtmlEscape}, {@link xhtmlUnescape}, {@link urlEscape},
 * {@link urlUnescape}, {@link parseQsBytes}, {@link jsonEncode}, {@link jsonDecode},
 * {@link squeeze}, {@link utf8}, {@link toUnicode}, {@link recursiveUnicode}, {@link linkify}.
 */

import { Buffer, isUtf8 } from "node:buffer";
import { HTML5_ENTITIES } from "./escape/entities.js";

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

/** `TypeError` with Node's `ERR_INVALID_ARG_TYPE` code, for a value of the wrong type. */
function invalidType(expected: string, value: unknown): TypeError {
  const got = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  const error = new TypeError(`Expected ${expected}; got ${got}`);
  return Object.assign(error, { code: "ERR_INVALID_ARG_TYPE" });
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
}

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib TypeScript targets.
const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean })
  .isWellFormed;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function wellFormed(value: string): boolean {
  return isWellFormed !== undefined ? isWellFormed.call(value) : !LONE_SURROGATE_RE.test(value);
}

/** Decodes strict UTF-8. @throws UnicodeError (`ERR_INVALID_UTF8`) on invalid bytes. */
function decodeUtf8Strict(bytes: Uint8Array): string {
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

function stringArgument(value: string | Uint8Array): string {
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

// ---------------------------------------------------------------------------------------------
// HTML

const XHTML_ESCAPE_TEST = /[&<>"']/;
const XHTML_ESCAPE_RE = /[&<>"']/g;
const XHTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#x27;",
};

/**
 * Escapes `&`, `<`, `>`, `"` and `'` so a string is safe in HTML or XML text and quoted
 * attribute values (Python's `html.escape`).
 *
 * @remarks `'` becomes `&#x27;`, as in Tornado 6.4 and later (Tornado 6.2 wrote `&#39;`).
 * @throws UnicodeError for bytes that are not valid UTF-8.
 */
export function xhtmlEscape(value: string | Uint8Array): string {
  const text = stringArgument(value);
  if (!XHTML_ESCAPE_TEST.test(text)) return text;
  return text.replace(XHTML_ESCAPE_RE, (c) => XHTML_ESCAPES[c]!);
}

// Python's html module: `&` then a decimal, hex or named reference (1 to 32 characters of a name,
// counted in code points, hence the u flag).
const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

// Numeric references the HTML5 parser maps to other characters (mostly windows-1252).
const INVALID_CHARREFS = new Map<number, string>([
  [0x00, "\ufffd"],
  [0x0d, "\r"],
  [0x80, "\u20ac"],
  [0x81, "\x81"],
  [0x82, "\u201a"],
  [0x83, "\u0192"],
  [0x84, "\u201e"],
  [0x85, "\u2026"],
  [0x86, "\u2020"],
  [0x87, "\u2021"],
  [0x88, "\u02c6"],
  [0x89, "\u2030"],
  [0x8a, "\u0160"],
  [0x8b, "\u2039"],
  [0x8c, "\u0152"],
  [0x8d, "\x8d"],
  [0x8e, "\u017d"],
  [0x8f, "\x8f"],
  [0x90, "\x90"],
  [0x91, "\u2018"],
  [0x92, "\u2019"],
  [0x93, "\u201c"],
  [0x94, "\u201d"],
  [0x95, "\u2022"],
  [0x96, "\u2013"],
  [0x97, "\u2014"],
  [0x98, "\u02dc"],
  [0x99, "\u2122"],
  [0x9a, "\u0161"],
  [0x9b, "\u203a"],
  [0x9c, "\u0153"],
  [0x9d, "\x9d"],
  [0x9e, "\u017e"],
  [0x9f, "\u0178"],
]);

/** Code points a numeric reference may not produce: they unescape to nothing. */
function isInvalidCodePoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

let entities: Map<string, string> | undefined;

/** The named references, unpacked on first use: `name;` always, `name` for legacy ones. */
function entityTable(): Map<string, string> {
  if (entities !== undefined) return entities;
  const table = new Map<string, string>();
  for (const entry of HTML5_ENTITIES.split(" ")) {
    const flagAt = entry.search(/[*=]/);
    const name = entry.slice(0, flagAt);
    const text = String.fromCodePoint(
      ...entry
        .slice(flagAt + 1)
        .split(",")
        .map((h) => Number.parseInt(h, 16)),
    );
    table.set(`${name};`, text);
    if (entry[flagAt] === "*") table.set(name, text);
  }
  entities = table;
  return table;
}

function parseReferenceNumber(digits: string, radix: 10 | 16): number {
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 0x30) start++;
  // More than 7 significant digits is past U+10FFFF in either radix; parseInt would lose
  // precision on a very long run, but only the comparison with 0x10FFFF matters then.
  if (digits.length - start > 7) return Number.POSITIVE_INFINITY;
  return Number.parseInt(digits.slice(start), radix);
}

function replaceCharref(_match: string, reference: string): string {
  if (reference.charCodeAt(0) === 0x23 /* # */) {
    const hex = reference[1] === "x" || reference[1] === "X";
    const end = reference.endsWith(";") ? reference.length - 1 : reference.length;
    const n = hex
      ? parseReferenceNumber(reference.slice(2, end), 16)
      : parseReferenceNumber(reference.slice(1, end), 10);
    const mapped = INVALID_CHARREFS.get(n);
    if (mapped !== undefined) return mapped;
    if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return "\ufffd";
    if (isInvalidCodePoint(n)) return "";
    return String.fromCodePoint(n);
  }
  const table = entityTable();
  const whole = table.get(reference);
  if (whole !== undefined) return whole;
  // The longest known prefix wins, as the HTML5 tokenizer does (`&notit;` is `¬it;`).
  for (let length = reference.length - 1; length > 1; length--) {
    const text = table.get(reference.slice(0, length));
    if (text !== undefined) return text + reference.slice(length);
  }
  return `&${reference}`;
}

/**
 * Replaces HTML character references with the characters they stand for (Python's
 * `html.unescape`, which follows the HTML5 rules): named references from the full HTML5 table
 * (legacy ones such as `&amp` also without `;`), decimal and hex references, with the HTML5
 * replacements for invalid code points.
 *
 * @throws UnicodeError for bytes that are not valid UTF-8.
 */
export function xhtmlUnescape(value: string | Uint8Array): string {
  const text = stringArgument(value);
  if (!text.includes("&")) return text;
  return text.replace(CHARREF_RE, replaceCharref);
}

// ---------------------------------------------------------------------------------------------
// URLs

/** Options for {@link urlEscape}. */
export interface UrlEscapeOptions {
  /**
   * Spaces become `+` and `/` becomes `%2F` (for query strings); when false, spaces become
   * `%20` and `/` is kept (for paths). @defaultValue true
   */
  plus?: boolean;
}

const HEX = "0123456789ABCDEF";
// encodeURIComponent keeps these; Python's quote escapes them.
const EXTRA_UNSAFE_RE = /[!'()*]/g;

function percentByte(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** Python's "always safe" bytes: letters, digits and `_.-~`. */
function isAlwaysSafe(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x5f ||
    byte === 0x2e ||
    byte === 0x2d ||
    byte === 0x7e
  );
}

/**
 * Percent-encodes a string (as UTF-8) or bytes for a URL, byte for byte as Python's
 * `quote_plus` (the default) or `quote` (`plus: false`). Letters, digits and `_.-~` are kept.
 *
 * @example `urlEscape("a b/c")` is `"a+b%2Fc"`; `urlEscape("a b/c", {plus: false})` is `"a%20b/c"`.
 * @throws UnicodeError (`ERR_UNPAIRED_SURROGATE`) for a string with an unpaired surrogate.
 */
export function urlEscape(value: string | Uint8Array, options: UrlEscapeOptions = {}): string {
  const plus = options.plus ?? true;
  if (typeof value !== "string") {
    if (!isBytes(value)) throw invalidType("bytes or string", value);
    let out = "";
    for (const byte of value) {
      if (isAlwaysSafe(byte) || (!plus && byte === 0x2f)) out += String.fromCharCode(byte);
      else if (plus && byte === 0x20) out += "+";
      else out += percentByte(byte);
    }
    return out;
  }
  let out: string;
  try {
    // The engine's encoder is much faster than a loop; only its safe set differs from Python's.
    out = encodeURIComponent(value);
  } catch (error) {
    throw new UnicodeError(
      "'utf-8' codec can't encode an unpaired surrogate",
      "ERR_UNPAIRED_SURROGATE",
      { cause: error },
    );
  }
  out = out.replace(EXTRA_UNSAFE_RE, (c) => percentByte(c.charCodeAt(0)));
  if (plus) return out.includes("%20") ? out.replace(/%20/g, "+") : out;
  return out.includes("%2F") ? out.replace(/%2F/g, "/") : out;
}

/** Options for {@link urlUnescape}. */
export interface UrlUnescapeOptions {
  /**
   * `+` means a space (query strings and form values; a literal plus is `%2B`); when false,
   * `+` is kept (paths). @defaultValue true
   */
  plus?: boolean;
  /**
   * How the decoded bytes become text: `"utf-8"` (invalid sequences become U+FFFD, as
   * Python's `errors="replace"`), `"latin1"`, or `null` for the bytes themselves.
   * @defaultValue "utf-8"
   */
  encoding?: "utf-8" | "utf8" | "latin1" | null;
}

const PERCENT_HEX_RE = /%[0-9a-fA-F]{2}/;

/** Python's `unquote_to_bytes`: the UTF-8 bytes of `text` with `%XX` escapes decoded. */
function unquoteToBytes(text: string | Buffer): Buffer {
  const bytes = typeof text === "string" ? utf8(text) : text;
  if (!bytes.includes(0x25)) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x25 && i + 2 < bytes.length) {
      const high = hexValue(bytes[i + 1]!);
      const low = hexValue(bytes[i + 2]!);
      if (high >= 0 && low >= 0) {
        out[n++] = (high << 4) | low;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

const ASCII_RUN_RE = /[\x00-\x7f]+/g;
const NON_ASCII_TEST = /[^\x00-\x7f]/;
const PERCENT_LATIN1_RE = /%[0-9a-fA-F]{2}/g;

function decodePercentLatin1(text: string): string {
  return text.replace(PERCENT_LATIN1_RE, (m) =>
    String.fromCharCode(Number.parseInt(m.slice(1), 16)),
  );
}

/** Python's `unquote(text, "utf-8", "replace")`: escapes in each ASCII run decode separately. */
function unquoteUtf8(text: string): string {
  if (!NON_ASCII_TEST.test(text)) return unquoteToBytes(text).toString("utf8");
  return text.replace(ASCII_RUN_RE, (run) =>
    PERCENT_HEX_RE.test(run) ? unquoteToBytes(run).toString("utf8") : run,
  );
}

/**
 * Decodes a percent-encoded URL component, as Python's `unquote_plus` (the default), `unquote`
 * (`plus: false`), or `unquote_to_bytes` (`encoding: null`). Malformed escapes stay as they
 * are; bytes that are not valid UTF-8 become U+FFFD.
 *
 * @returns a string, or a `Buffer` when `encoding` is null.
 * @throws UnicodeError when `value` is bytes that are not valid UTF-8 (Tornado decodes its
 *   argument strictly before unquoting).
 * @throws RangeError (`ERR_UNKNOWN_ENCODING`) for another encoding.
 */
export function urlUnescape(
  value: string | Uint8Array,
  options: UrlUnescapeOptions & { encoding: null },
): Buffer;
export function urlUnescape(
  value: string | Uint8Array,
  options?: UrlUnescapeOptions & { encoding?: "utf-8" | "utf8" | "latin1" },
): string;
export function urlUnescape(
  value: string | Uint8Array,
  options?: UrlUnescapeOptions,
): string | Buffer;
export function urlUnescape(
  value: string | Uint8Array,
  options: UrlUnescapeOptions = {},
): string | Buffer {
  const plus = options.plus ?? true;
  const encoding = options.encoding === undefined ? "utf-8" : options.encoding;
  if (encoding !== null && encoding !== "utf-8" && encoding !== "utf8" && encoding !== "latin1") {
    throw Object.assign(new RangeError(`unsupported encoding: ${String(encoding)}`), {
      code: "ERR_UNKNOWN_ENCODING",
    });
  }
  // Without plus, bytes go to unquote_to_bytes as they are; otherwise Tornado decodes first.
  if (encoding === null && !plus && isBytes(value)) return unquoteToBytes(Buffer.from(value));
  let text = stringArgument(value);
  if (plus && text.includes("+")) text = text.replace(/\+/g, " ");
  if (encoding === null) return unquoteToBytes(text);
  if (!text.includes("%")) return text;
  return encoding === "latin1" ? decodePercentLatin1(text) : unquoteUtf8(text);
}

/** Options for {@link parseQsBytes}. */
export interface ParseQsOptions {
  /** Keep fields with empty values (`a=` and `a`) as empty values. @defaultValue false */
  keepBlankValues?: boolean;
  /** Throw a `RangeError` on a field without `=` (and on an empty field). @defaultValue false */
  strictParsing?: boolean;
}

/** A field of a query string that {@link parseQsBytes} rejects under `strictParsing`. */
export class QueryStringError extends RangeError {
  override name = "QueryStringError";
  readonly code = "ERR_BAD_QUERY_FIELD";
}

function latin1Bytes(text: string): Buffer {
  if (/[^\x00-\xff]/.test(text)) {
    throw new UnicodeError(
      "'latin-1' codec can't encode a character above U+00FF",
      "ERR_NOT_LATIN1",
    );
  }
  return Buffer.from(text, "latin1");
}

/**
 * Parses a query string (or `application/x-www-form-urlencoded` body) into lists of byte values
 * by name, as Python's `parse_qs` with latin1 as the encoding: names are strings whose
 * characters are the bytes' latin1 reading, values are `Buffer`s of the exact bytes.
 * Fields are separated by `&` only; `+` is a space.
 *
 * @returns an object without prototype: name → values in order of appearance.
 * @throws QueryStringError with `strictParsing`, for a field without `=`.
 * @throws UnicodeError when a string argument has a value character above U+00FF.
 */
export function parseQsBytes(
  qs: string | Uint8Array,
  options: ParseQsOptions = {},
): Record<string, Buffer[]> {
  const keepBlank = options.keepBlankValues ?? false;
  const strict = options.strictParsing ?? false;
  let text: string;
  if (typeof qs === "string") text = qs;
  else if (isBytes(qs)) text = asBuffer(qs).toString("latin1");
  else throw invalidType("bytes or string", qs);
  const result: Record<string, Buffer[]> = Object.create(null);
  if (text === "") return result;
  for (const field of text.split("&")) {
    if (field === "" && !strict) continue;
    const eq = field.indexOf("=");
    let name: string;
    let value: string;
    if (eq < 0) {
      if (strict) throw new QueryStringError(`bad query field: ${JSON.stringify(field)}`);
      if (!keepBlank) continue;
      name = field;
      value = "";
    } else {
      name = field.slice(0, eq);
      value = field.slice(eq + 1);
    }
    if (value.length === 0 && !keepBlank) continue;
    name = decodePercentLatin1(name.replace(/\+/g, " "));
    const bytes = latin1Bytes(decodePercentLatin1(value.replace(/\+/g, " ")));
    const list = result[name];
    if (list === undefined) result[name] = [bytes];
    else list.push(bytes);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// JSON

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
  // A safe integer is what Python calls an int; anything else prints as Python's float repr.
  return Number.isSafeInteger(n) ? String(n) : pythonFloat(n);
}

function encodeMapKey(key: unknown): string {
  if (typeof key === "string") return key;
  if (typeof key === "number") return encodeNumber(key);
  if (typeof key === "bigint") return String(key);
  if (typeof key === "boolean") return key ? "true" : "false";
  if (key === null) return "null";
  throw new JSONEncodeError(`keys must be str, int, float, bool or None, not ${typeof key}`);
}

/** Encodes one value; undefined for a value JSON omits (undefined, a function, a symbol). */
function encodeValue(value: unknown, key: string, stack: Set<object>): string | undefined {
  if (value !== null && typeof value === "object") {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, key);
  }
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
  const object = value as object;
  if (object instanceof Number) return encodeNumber(object.valueOf());
  if (object instanceof String) return encodeJSONString(object.valueOf());
  if (object instanceof Boolean) return object.valueOf() ? "true" : "false";
  if (stack.has(object)) throw new JSONEncodeError("Circular reference detected");
  stack.add(object);
  let out: string;
  if (Array.isArray(object)) {
    const items: string[] = [];
    for (let i = 0; i < object.length; i++) {
      items.push(encodeValue(object[i], String(i), stack) ?? "null");
    }
    out = `[${items.join(", ")}]`;
  } else if (object instanceof Map) {
    const items: string[] = [];
    for (const [k, v] of object) {
      const name = encodeMapKey(k);
      const encoded = encodeValue(v, name, stack);
      if (encoded !== undefined) items.push(`${encodeJSONString(name)}: ${encoded}`);
    }
    out = `{${items.join(", ")}}`;
  } else {
    const items: string[] = [];
    for (const name of Object.keys(object)) {
      const encoded = encodeValue((object as Record<string, unknown>)[name], name, stack);
      if (encoded !== undefined) items.push(`${encodeJSONString(name)}: ${encoded}`);
    }
    out = `{${items.join(", ")}}`;
  }
  stack.delete(object);
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
  const out = encodeValue(value, "", new Set());
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

// ---------------------------------------------------------------------------------------------
// Text

// Python's str.isspace() characters (what str.strip() removes and what \s matches).
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");
const SQUEEZE_RE = /[\x00-\x20]+/g;

/** Python's `str.strip()`: removes Unicode whitespace (as `str.isspace`) at both ends. */
function pythonStrip(text: string): string {
  return text.replace(PY_STRIP_RE, "");
}

/** Replaces each run of ASCII control characters and spaces with one space, then strips. */
export function squeeze(value: string): string {
  if (typeof value !== "string") throw invalidType("string", value);
  return pythonStrip(value.replace(SQUEEZE_RE, " "));
}

// Tornado's URL pattern, with Python's Unicode \w, \s and \b spelled out (JavaScript's are
// ASCII-only even with the u flag).
const WORD = "\\p{L}\\p{N}_";
const WORD_BOUNDARY = `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
const URL_RE = new RegExp(
  `${WORD_BOUNDARY}((?:([${WORD}-]+):(\\/{1,3})|www[.])(?:(?:(?:[^${PY_SPACE}&()]|&amp;|&quot;)*` +
    `(?:[^!"#$%&'()*+,.:;<=>?@\\[\\]^\`{|}~${PY_SPACE}]))|(?:\\((?:[^${PY_SPACE}&()]|&amp;|&quot;)*\\)))+)`,
  "gu",
);

/** Options for {@link linkify}. */
export interface LinkifyOptions {
  /** Shorten long URLs for display (to about 30 characters, with `...` and a `title`). @defaultValue false */
  shorten?: boolean;
  /**
   * Extra attributes for each `<a>` tag, e.g. `'rel="nofollow" class="external"'`, or a
   * function of the link's `href` that returns them. @defaultValue ""
   */
  extraParams?: string | ((href: string) => string);
  /** Only link URLs that have a protocol (so not `www.example.com`). @defaultValue false */
  requireProtocol?: boolean;
  /**
   * Protocols that are linked. Never include `javascript` or the like.
   * @defaultValue ["http", "https"]
   */
  permittedProtocols?: Iterable<string>;
}

/**
 * Converts plain text into HTML with links: the text is HTML-escaped, then URLs
 * (`http://…`, `www.…`) become `<a href="…">` tags.
 *
 * @example `linkify("Hello http://tornadoweb.org!")` is
 *   `'Hello <a href="http://tornadoweb.org">http://tornadoweb.org</a>!'`.
 * @throws UnicodeError for bytes that are not valid UTF-8.
 */
export function linkify(text: string | Uint8Array, options: LinkifyOptions = {}): string {
  const shorten = options.shorten ?? false;
  const requireProtocol = options.requireProtocol ?? false;
  const permitted = new Set(options.permittedProtocols ?? ["http", "https"]);
  const extra = options.extraParams ?? "";
  const fixedParams = typeof extra === "function" || extra === "" ? "" : ` ${pythonStrip(extra)}`;

  const makeLink = (
    _match: string,
    url: string,
    proto: string | undefined,
    slashes: string | undefined,
  ): string => {
    if (requireProtocol && !proto) return url;
    if (proto && !permitted.has(proto)) return url;
    const href = proto ? url : `http://${url}`;
    let params = typeof extra === "function" ? ` ${pythonStrip(extra(href))}` : fixedParams;
    let shown = url;
    if (shorten) {
      const clipped = shortenUrl(url, proto, slashes);
      if (clipped !== url) {
        shown = clipped;
        params += ` title="${href}"`;
      }
    }
    return `<a href="${href}"${params}>${shown}</a>`;
  };
  return xhtmlEscape(text).replace(URL_RE, makeLink);
}

const MAX_SHOWN = 30;

/** Tornado's clipping of a long URL for display; lengths count code points, as Python's do. */
function shortenUrl(url: string, proto: string | undefined, slashes: string | undefined): string {
  const chars = Array.from(url);
  if (chars.length <= MAX_SHOWN) return url;
  const protoLength = proto ? Array.from(proto).length + 1 + (slashes ?? "").length : 0;
  let shown = chars;
  const parts = chars.slice(protoLength).join("").split("/");
  if (parts.length > 1) {
    // The host and the first bit of the path: the rest is rarely interesting once shortened.
    const firstBit = Array.from(parts[1]!).slice(0, 8).join("").split("?")[0]!.split(".")[0]!;
    shown = Array.from(`${chars.slice(0, protoLength).join("")}${parts[0]}/${firstBit}`);
  }
  if (shown.length > MAX_SHOWN * 1.5) shown = shown.slice(0, MAX_SHOWN);
  const shownText = shown.join("");
  if (shownText === url) return url;
  const amp = shown.lastIndexOf("&");
  // Do not cut an entity such as &amp; in half.
  if (amp > MAX_SHOWN - 5) shown = shown.slice(0, amp);
  shown.push(".", ".", ".");
  if (shown.length >= chars.length) return url;
  return shown.join("");
}
