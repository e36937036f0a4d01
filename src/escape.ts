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

import { Buffer } from "node:buffer";
import {
  asBuffer,
  invalidType,
  isBytes,
  stringArgument,
  UnicodeError,
  utf8,
} from "./escape/bytes.js";
import { HTML5_ENTITIES } from "./escape/entities.js";

export {
  nativeStr,
  recursiveUnicode,
  toBasestring,
  toUnicode,
  UnicodeError,
  utf8,
} from "./escape/bytes.js";
export { JSONDecodeError, JSONEncodeError, jsonDecode, jsonEncode } from "./escape/json.js";

// ---------------------------------------------------------------------------------------------
// HTML

const XHTML_ESCAPE_TEST = /[&<>"']/;
/**
 * Escapes `&`, `<`, `>`, `"` and `'` so a string is safe in HTML or XML text and quoted
 * attribute values (Python's `html.escape`).
 *
 * @remarks `'` becomes `&#x27;`, as in Tornado 6.4 and later (Tornado 6.2 wrote `&#39;`).
 * @throws UnicodeError for bytes that are not valid UTF-8.
 */
export function xhtmlEscape(value: string | Uint8Array): string {
  const text = stringArgument(value);
  const first = text.search(XHTML_ESCAPE_TEST);
  if (first < 0) return text;
  // One pass from the first special character, copying the runs between them.
  let out = text.slice(0, first);
  let last = first;
  for (let i = first; i < text.length; i++) {
    let entity: string;
    switch (text.charCodeAt(i)) {
      case 0x26:
        entity = "&amp;";
        break;
      case 0x3c:
        entity = "&lt;";
        break;
      case 0x3e:
        entity = "&gt;";
        break;
      case 0x22:
        entity = "&quot;";
        break;
      case 0x27:
        entity = "&#x27;";
        break;
      default:
        continue;
    }
    if (last < i) out += text.slice(last, i);
    out += entity;
    last = i + 1;
  }
  return last < text.length ? out + text.slice(last) : out;
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
