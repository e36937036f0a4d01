// HTTPHeaders: the case-insensitive, multi-valued header map, its strict line parser, and the
// RFC 9110 character rules it enforces (also used by the start-line parsers and by web).

import { inspect } from "node:util";
import { latin1 } from "../util.js";
import { HTTPInputError, quoteForMessage } from "./errors.js";

// A character outside RFC 9110 field-value: CTLs except HTAB, DEL, and anything above 0xFF
// (header bytes arrive decoded as latin-1, so obs-text is U+0080–U+00FF).
const FORBIDDEN_IN_VALUE_RE = /[^\t\x20-\x7E\x80-\xFF]/;
// Multipart part headers are UTF-8 text rather than latin-1 bytes: only CTLs (except HTAB)
// and DEL are forbidden there, so non-Latin file names survive.
const FORBIDDEN_IN_TEXT_RE = /[\x00-\x08\x0A-\x1F\x7F]/;
// CR, LF and NUL: the characters that would let a value split a header line on the wire.
const LINE_BREAKING_RE = /[\r\n\0]/;

/** True if `s` is an RFC 9110 token (a valid header name or method). */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * True if `s` is a valid RFC 9110 field value, as header bytes decoded as latin-1: visible
 * ASCII, obs-text (U+0080–U+00FF), and SP/HTAB inside (not at either end). Empty is valid.
 */
export function isFieldValue(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  return !FORBIDDEN_IN_VALUE_RE.test(s);
}

// ---------------------------------------------------------------------------------------------
// Header name normalisation (Http-Header-Case), with a cache: the server normalises every name
// of every request, and nearly all of them are a few dozen common names.

const COMMON_HEADER_NAMES = [
  "Accept",
  "Accept-Charset",
  "Accept-Encoding",
  "Accept-Language",
  "Accept-Ranges",
  "Access-Control-Allow-Origin",
  "Age",
  "Allow",
  "Authorization",
  "Cache-Control",
  "Connection",
  "Content-Disposition",
  "Content-Encoding",
  "Content-Language",
  "Content-Length",
  "Content-Location",
  "Content-Range",
  "Content-Type",
  "Cookie",
  "Date",
  "Dnt",
  "Etag",
  "Expect",
  "Expires",
  "Forwarded",
  "From",
  "Host",
  "If-Match",
  "If-Modified-Since",
  "If-None-Match",
  "If-Range",
  "If-Unmodified-Since",
  "Keep-Alive",
  "Last-Modified",
  "Link",
  "Location",
  "Origin",
  "Pragma",
  "Priority",
  "Proxy-Authenticate",
  "Proxy-Authorization",
  "Range",
  "Referer",
  "Retry-After",
  "Sec-Ch-Ua",
  "Sec-Ch-Ua-Mobile",
  "Sec-Ch-Ua-Platform",
  "Sec-Fetch-Dest",
  "Sec-Fetch-Mode",
  "Sec-Fetch-Site",
  "Sec-Fetch-User",
  "Sec-Websocket-Accept",
  "Sec-Websocket-Extensions",
  "Sec-Websocket-Key",
  "Sec-Websocket-Protocol",
  "Sec-Websocket-Version",
  "Server",
  "Set-Cookie",
  "Te",
  "Trailer",
  "Transfer-Encoding",
  "Upgrade",
  "Upgrade-Insecure-Requests",
  "User-Agent",
  "Vary",
  "Via",
  "Www-Authenticate",
  "X-Consumed-Content-Encoding",
  "X-Csrftoken",
  "X-Forwarded-For",
  "X-Forwarded-Host",
  "X-Forwarded-Proto",
  "X-Real-Ip",
  "X-Requested-With",
  "X-Scheme",
  "X-Xsrftoken",
];

const NAME_CACHE = new Map<string, string>();
// Names that passed checkedKey, with their canonical form (tokens only, unlike NAME_CACHE,
// which also holds what get() was asked for).
const API_NAME_CACHE = new Map<unknown, string>();
// Bounded like Tornado's lru_cache(1000); names longer than this are normalised but not
// cached, so hostile names cannot pin memory.
const NAME_CACHE_LIMIT = 1000;
const NAME_CACHE_MAX_LENGTH = 64;

function seedNameCache(): void {
  for (const name of COMMON_HEADER_NAMES) {
    NAME_CACHE.set(name, name);
    NAME_CACHE.set(name.toLowerCase(), name);
  }
}
seedNameCache();

function computeNormalizedName(name: string): string {
  let out = "";
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (ch === "-") {
      out += ch;
      upper = true;
    } else {
      out += upper ? ch.toUpperCase() : ch.toLowerCase();
      upper = false;
    }
  }
  return out;
}

/**
 * Maps a header name to Http-Header-Case: each `-`-separated word capitalised, the rest lower
 * case (`coNtent-TYPE` → `Content-Type`, `x-xsrftoken` → `X-Xsrftoken`, `ETag` → `Etag`).
 */
export function normalizeHeaderName(name: string): string {
  let normalized = NAME_CACHE.get(name);
  if (normalized !== undefined) return normalized;
  normalized = computeNormalizedName(name);
  if (name.length <= NAME_CACHE_MAX_LENGTH) {
    if (NAME_CACHE.size >= NAME_CACHE_LIMIT) {
      NAME_CACHE.clear();
      seedNameCache();
    }
    NAME_CACHE.set(name, normalized);
  }
  return normalized;
}

// RFC 9110 tchar as a lookup table (token = 1*tchar: field names, methods), for isToken and
// the parser's one-pass name check.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

// The same as byte tables over 0–255 for the byte parser (parseBytes): token bytes, and the
// bytes a field value may hold (HTAB, SP, visible ASCII, obs-text).
const TCHAR_BYTE = new Uint8Array(256);
TCHAR_BYTE.set(TCHAR);
const FIELD_BYTE = new Uint8Array(256);
FIELD_BYTE.fill(1, 0x20, 0x7f);
FIELD_BYTE.fill(1, 0x80, 0x100);
FIELD_BYTE[0x09] = 1;

// The common names by length, first and last byte (ASCII-lowercased), with their lowercased
// bytes: parseBytes recognises them without making a string, and keys its map with the
// constant, whose hash V8 keeps.
const KNOWN_NAMES = new Map<number, { name: string; lower: Uint8Array }[]>();
for (const name of COMMON_HEADER_NAMES) {
  // knownHeaderName compares bytes OR 0x20, which maps only letters, digits and "-" right.
  if (!/^[A-Za-z0-9-]+$/.test(name))
    throw new Error(`common header name ${name} must be letters, digits and -`);
  const lower = Buffer.from(name.toLowerCase(), "latin1");
  const key = knownNameKey(lower.length, lower[0]!, lower[lower.length - 1]!);
  const list = KNOWN_NAMES.get(key);
  if (list === undefined) KNOWN_NAMES.set(key, [{ name, lower }]);
  else list.push({ name, lower });
}

function knownNameKey(length: number, first: number, last: number): number {
  return (length << 16) | ((first | 0x20) << 8) | (last | 0x20);
}

/**
 * The constant for a common header name in bytes[start, end), matched regardless of case;
 * undefined for others. The bytes must be token bytes (for which OR-ing 0x20 lowercases
 * letters and keeps digits and `-`).
 */
function knownHeaderName(bytes: Uint8Array, start: number, end: number): string | undefined {
  const length = end - start;
  const list = KNOWN_NAMES.get(knownNameKey(length, bytes[start]!, bytes[end - 1]!));
  if (list === undefined) return undefined;
  next: for (let k = 0; k < list.length; k++) {
    const lower = list[k]!.lower;
    for (let j = 1; j < length - 1; j++) {
      if ((bytes[start + j]! | 0x20) !== lower[j]) continue next;
    }
    return list[k]!.name;
  }
  return undefined;
}

/**
 * The normalised form of `name` if it is a token, else null. One pass checks both; a name
 * already in Http-Header-Case (what most clients send) is returned as is, with no cache
 * lookup (hashing a freshly sliced string is most of the cost of a lookup).
 */
function tokenToHeaderName(name: string): string | null {
  const n = name.length;
  if (n === 0) return null;
  let canonical = true;
  let wordStart = true;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return null;
    if (c === 0x2d) {
      wordStart = true;
      continue;
    }
    if (wordStart) {
      if (c >= 0x61 && c <= 0x7a) canonical = false;
      wordStart = false;
    } else if (c >= 0x41 && c <= 0x5a) {
      canonical = false;
    }
  }
  return canonical ? name : normalizeHeaderName(name);
}

// ---------------------------------------------------------------------------------------------

/** Options for {@link HTTPHeaders.parse}. */
export interface HeaderParseOptions {
  /**
   * Most header fields (lines, not counting obs-fold continuations) accepted; one more
   * fails with an `HTTPInputError` whose `status` is 431.
   * @defaultValue 1000
   */
  maxHeaders?: number;
  /**
   * Accept a bare LF as a line end (RFC 9112 §2.2 allows it; Tornado accepts it until 7.0).
   * With `false`, every line that ends must end in CRLF. A bare CR is never a line end.
   * @defaultValue true
   */
  allowBareLf?: boolean;
  /**
   * Accept obs-fold continuation lines, joined to the previous value with one space
   * (deprecated by RFC 9112; Tornado folds until 7.0). Folding `Content-Length`,
   * `Transfer-Encoding` or `Host` is always an error.
   * @defaultValue true
   */
  allowObsFold?: boolean;
}

/** Default of {@link HeaderParseOptions.maxHeaders}. */
export const DEFAULT_MAX_HEADERS = 1000;

function checkedMaxHeaders(options: HeaderParseOptions | undefined): number {
  const maxHeaders = options?.maxHeaders ?? DEFAULT_MAX_HEADERS;
  if (!Number.isSafeInteger(maxHeaders) || maxHeaders < 0) {
    throw new RangeError(`maxHeaders must be a non-negative integer, not ${String(maxHeaders)}`);
  }
  return maxHeaders;
}

function tooManyHeaders(maxHeaders: number): HTTPInputError {
  return new HTTPInputError(`Too many header fields (more than ${maxHeaders})`, { status: 431 });
}

// Parse option for multipart part headers: UTF-8 text rules instead of latin-1 bytes. A symbol
// so that only parsePartHeaders (below) can set it.
const TEXT_MODE: unique symbol = Symbol("httputil.textMode");
type InternalParseOptions = HeaderParseOptions & { [TEXT_MODE]?: boolean };

// Framing and routing headers whose value must never be assembled from folded lines: a proxy
// that does not fold would see a different value (request smuggling).
const NEVER_FOLDED = new Set(["Content-Length", "Transfer-Encoding", "Host"]);

const EMPTY_LIST: readonly string[] = Object.freeze([]);

/** What {@link HTTPHeaders} can be built from. */
export type HTTPHeadersInit =
  HTTPHeaders | Iterable<readonly [string, string]> | Record<string, string | readonly string[]>;

// Set by HTTPHeaders' static block: see fieldValues.
let valuesOf: (headers: HTTPHeaders, key: string) => readonly string[];
// The byte parser (parseHeaderBytes), set by HTTPHeaders' static block.
let parseBytes: (
  bytes: Uint8Array,
  text: string,
  start: number,
  end: number,
  options: HeaderParseOptions | undefined,
) => HTTPHeaders;

/**
 * A case-insensitive, multi-valued map of HTTP headers that keeps Http-Header-Case names.
 *
 * `get` returns one string per name, repeated values joined with `","` (no space); `add`,
 * `getList` and `getAll` see each value. Names keep their first insertion order. Iterating
 * yields `[name, joinedValue]` pairs, as a `Map` would.
 *
 * `add`, `parseLine` and {@link HTTPHeaders.parse} take input from the network: names must be
 * RFC 9110 tokens and values RFC 9110 field values, else they throw {@link HTTPInputError}.
 * `set` and the constructor take local values: they throw `TypeError` on a name that is not
 * a token or a value containing CR, LF or NUL (which would split the header line).
 *
 * @example
 * ```ts
 * const h = new HTTPHeaders({ "content-type": "text/html" });
 * h.add("Set-Cookie", "A=B");
 * h.add("Set-Cookie", "C=D");
 * h.get("set-cookie"); // "A=B,C=D"
 * h.getList("set-cookie"); // ["A=B", "C=D"]
 * [...h.getAll()]; // [["Content-Type","text/html"],["Set-Cookie","A=B"],["Set-Cookie","C=D"]]
 * ```
 */
export class HTTPHeaders implements Iterable<[string, string]> {
  // Normalised name → its values in arrival order. A Map keeps insertion order and add()
  // is an O(1) push, so 10⁵ repeated headers stay linear.
  #fields: Map<string, string[]>;
  // The name the last add() went to: obs-fold continuation lines extend its last value.
  #lastKey: string | null;
  // While parsing: whether the last line parsed added a field (for the maxHeaders count).
  #added = false;

  /**
   * @param init - another `HTTPHeaders` (copied), `[name, value]` pairs (each one added, so
   *   repeats accumulate), or an object of name → value or name → list of values.
   * @throws TypeError for a name that is not a token or a value with CR, LF or NUL.
   */
  constructor(init?: HTTPHeadersInit | null) {
    this.#fields = new Map();
    this.#lastKey = null;
    if (init === undefined || init === null) return;
    const proto: unknown = Object.getPrototypeOf(init);
    if (proto === Object.prototype || proto === null) {
      // An object literal, the usual case: looked at first.
      this.#addRecord(init as Record<string, string | readonly string[]>);
      return;
    }
    if (init instanceof HTTPHeaders) {
      for (const [name, values] of init.#fields) this.#fields.set(name, values.slice());
      return;
    }
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const pair of init as Iterable<readonly [string, string]>) {
        this.#append(checkedKey(pair[0], pair[1]), pair[1]);
      }
      return;
    }
    this.#addRecord(init as Record<string, string | readonly string[]>);
  }

  #addRecord(record: Record<string, string | readonly string[]>): void {
    const fields = this.#fields;
    for (const name of Object.keys(record)) {
      const value = record[name]!;
      if (typeof value === "string") {
        fields.set(checkedKey(name, value), [value]);
      } else {
        for (const v of value) {
          this.#append(checkedKey(name, v), v);
        }
      }
    }
    this.#lastKey = null;
  }

  /**
   * Parses a header block: lines separated by CRLF (or LF, see options); empty lines are
   * skipped, so the block's final CRLF CRLF may be included. A `Buffer` is decoded as
   * latin-1, as bytes on the wire are. With `allowBareLf: false`, pass the text that follows
   * the start line's CRLF (a leading lone LF would count as a bare LF).
   *
   * @throws HTTPInputError for a line without a colon, a bad name or value, a first line that
   *   starts with whitespace, a bare CR, or more than `maxHeaders` fields (`status` 431).
   * @throws RangeError for a `maxHeaders` that is not a non-negative integer.
   */
  static parse(text: string | Buffer, options?: HeaderParseOptions): HTTPHeaders {
    if (typeof text !== "string") {
      const bytes = Buffer.isBuffer(text)
        ? text
        : Buffer.from(
            (text as Uint8Array).buffer,
            (text as Uint8Array).byteOffset,
            (text as Uint8Array).byteLength,
          );
      return parseBytes(bytes, latin1(bytes), 0, bytes.length, options);
    }
    const h = new HTTPHeaders();
    const opts = options as InternalParseOptions | undefined;
    const maxHeaders = checkedMaxHeaders(opts);
    const allowBareLf = opts?.allowBareLf ?? true;
    const allowObsFold = opts?.allowObsFold ?? true;
    const textMode = opts?.[TEXT_MODE] === true;
    const n = text.length;
    let count = 0;
    for (let start = 0; start <= n;) {
      start = h.#parseLineAt(text, start, n, textMode, allowBareLf, allowObsFold);
      if (h.#added && ++count > maxHeaders) throw tooManyHeaders(maxHeaders);
    }
    h.#lastKey = null;
    return h;
  }

  static {
    // fieldValues (below) reads the map without normalising the name.
    valuesOf = (headers, key) => headers.#fields.get(key) ?? EMPTY_LIST;
    // parseHeaderBytes (below) is this, outside the class but with its private access.
    parseBytes = (bytes, text, start, end, options) =>
      HTTPHeaders.#parseBytes(bytes, text, start, end, options);
  }

  static #parseBytes(
    bytes: Uint8Array,
    text: string,
    start: number,
    end: number,
    options: HeaderParseOptions | undefined,
  ): HTTPHeaders {
    const h = new HTTPHeaders();
    const maxHeaders = checkedMaxHeaders(options);
    const allowBareLf = options?.allowBareLf ?? true;
    const allowObsFold = options?.allowObsFold ?? true;
    let count = 0;
    for (let i = start; i <= end;) {
      let p = i;
      while (p < end && TCHAR_BYTE[bytes[p]!] === 1) p++;
      const nameEnd = p;
      let next = -1;
      if (p > i && p < end && bytes[p] === 0x3a) {
        p++;
        while (p < end && (bytes[p] === 0x20 || bytes[p] === 0x09)) p++;
        const valueStart = p;
        while (p < end && FIELD_BYTE[bytes[p]!] === 1) p++;
        // p is at the end of the block or at the first byte a value cannot hold.
        if (p === end) next = end + 1;
        else if (bytes[p] === 0x0d && p + 1 < end && bytes[p + 1] === 0x0a) next = p + 2;
        else if (bytes[p] === 0x0a && allowBareLf) next = p + 1;
        if (next !== -1) {
          while (p > valueStart && (bytes[p - 1] === 0x20 || bytes[p - 1] === 0x09)) p--;
          const key =
            knownHeaderName(bytes, i, nameEnd) ?? tokenToHeaderName(text.slice(i, nameEnd))!;
          h.#append(key, text.slice(valueStart, p));
          h.#added = true;
        }
      }
      // Anything else (blank, folded or malformed line, a bare LF or CR): the text parser.
      if (next === -1) next = h.#parseLineAt(text, i, end, false, allowBareLf, allowObsFold);
      if (h.#added && ++count > maxHeaders) throw tooManyHeaders(maxHeaders);
      i = next;
    }
    h.#lastKey = null;
    return h;
  }

  /**
   * Parses the line of text[start, blockEnd) that starts at `start`: finds and checks its
   * end, then parses it (#added says whether it added a field). Returns where the next line
   * starts (blockEnd + 1 after the last).
   */
  #parseLineAt(
    text: string,
    start: number,
    blockEnd: number,
    textMode: boolean,
    allowBareLf: boolean,
    allowObsFold: boolean,
  ): number {
    let lf = text.indexOf("\n", start);
    if (lf >= blockEnd) lf = -1;
    let end: number;
    let next: number;
    if (lf === -1) {
      // The last line may lack a terminator. A CR left at its end stays in the value and
      // fails validation: a bare CR never ends a line.
      end = blockEnd;
      next = blockEnd + 1;
    } else {
      next = lf + 1;
      if (lf > start && text.charCodeAt(lf - 1) === 0x0d) {
        end = lf - 1;
      } else {
        if (!allowBareLf) throw new HTTPInputError("Header line ends with a bare LF");
        end = lf;
      }
    }
    this.#added = this.#parseRange(text, start, end, textMode, allowObsFold);
    return next;
  }

  /**
   * Adds one header line: `Name: value`, or an obs-fold continuation (starting with SP or
   * HTAB) of the previous one. A trailing CRLF or LF is ignored; an empty line does nothing.
   * @throws HTTPInputError as {@link HTTPHeaders.parse} does.
   */
  parseLine(line: string): void {
    let end = line.length;
    if (end > 0 && line.charCodeAt(end - 1) === 0x0a) {
      end--;
      if (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--;
    }
    this.#parseRange(line, 0, end, false, true);
  }

  // Parses text[start, end) as one line (terminator already removed). Returns true when it
  // added a new field, false for an empty or continuation line.
  #parseRange(
    text: string,
    start: number,
    end: number,
    textMode: boolean,
    allowObsFold: boolean,
  ): boolean {
    if (start === end) return false;
    const first = text.charCodeAt(start);
    if (first === 0x20 || first === 0x09) {
      const key = this.#lastKey;
      if (key === null) throw new HTTPInputError("First header line cannot start with whitespace");
      if (!allowObsFold) throw new HTTPInputError("Header continuation lines are not allowed");
      if (NEVER_FOLDED.has(key)) {
        throw new HTTPInputError(`Header continuation line not allowed for ${key}`);
      }
      const [s, e] = trimOws(text, start, end);
      const part = text.slice(s, e);
      if ((textMode ? FORBIDDEN_IN_TEXT_RE : FORBIDDEN_IN_VALUE_RE).test(part)) {
        throw new HTTPInputError(`Invalid header continuation ${quoteForMessage(part)}`);
      }
      const values = this.#fields.get(key);
      if (values === undefined) {
        throw new HTTPInputError("Header continuation line without a header to continue");
      }
      values[values.length - 1] += ` ${part}`;
      return false;
    }
    const colon = text.indexOf(":", start);
    if (colon === -1 || colon >= end) throw new HTTPInputError("No colon in header line");
    const name = text.slice(start, colon);
    const key = tokenToHeaderName(name);
    if (key === null) throw new HTTPInputError(`Invalid header name ${quoteForMessage(name)}`);
    // Strip SP/HTAB only (never U+00A0 and such): inline, this runs for every header.
    let s = colon + 1;
    let e = end;
    while (s < e && (text.charCodeAt(s) === 0x20 || text.charCodeAt(s) === 0x09)) s++;
    while (e > s && (text.charCodeAt(e - 1) === 0x20 || text.charCodeAt(e - 1) === 0x09)) e--;
    const value = text.slice(s, e);
    if ((textMode ? FORBIDDEN_IN_TEXT_RE : FORBIDDEN_IN_VALUE_RE).test(value)) {
      throw new HTTPInputError(`Invalid header value ${quoteForMessage(value)}`);
    }
    this.#append(key, value);
    return true;
  }

  #append(key: string, value: string): void {
    this.#lastKey = key;
    const values = this.#fields.get(key);
    if (values === undefined) this.#fields.set(key, [value]);
    else values.push(value);
  }

  /**
   * Adds a value for `name`, after any existing ones.
   * @throws HTTPInputError if `name` is not an RFC 9110 token or `value` not a field value
   *   (control characters, characters above U+00FF, or SP/HTAB at either end).
   */
  add(name: string, value: string): void {
    const key = typeof name === "string" ? tokenToHeaderName(name) : null;
    if (key === null) {
      throw new HTTPInputError(`Invalid header name ${quoteForMessage(String(name))}`);
    }
    if (typeof value !== "string" || !isFieldValue(value)) {
      throw new HTTPInputError(`Invalid header value ${quoteForMessage(String(value))}`);
    }
    this.#append(key, value);
  }

  /**
   * The value of `name`, repeated values joined with `","`; `defaultValue` (or `undefined`)
   * when absent.
   */
  get(name: string): string | undefined;
  get(name: string, defaultValue: string): string;
  get(name: string, defaultValue?: string): string | undefined {
    const values = this.#fields.get(normalizeHeaderName(name));
    if (values === undefined) return defaultValue;
    return values.length === 1 ? values[0] : values.join(",");
  }

  /**
   * Replaces every value of `name` with `value`.
   * @throws TypeError if `name` is not a token or `value` contains CR, LF or NUL.
   */
  set(name: string, value: string): void {
    this.#fields.set(checkedKey(name, value), [value]);
  }

  /** Returns the value of `name`, first setting it to `value` if absent. */
  setDefault(name: string, value: string): string {
    const existing = this.get(name);
    if (existing !== undefined) return existing;
    this.set(name, value);
    return value;
  }

  /** True if `name` has at least one value. */
  has(name: string): boolean {
    return this.#fields.has(normalizeHeaderName(name));
  }

  /** Removes every value of `name`; true if there was one. */
  delete(name: string): boolean {
    return this.#fields.delete(normalizeHeaderName(name));
  }

  /** Every value of `name` in arrival order (empty if absent). Do not modify the array. */
  getList(name: string): readonly string[] {
    return this.#fields.get(normalizeHeaderName(name)) ?? EMPTY_LIST;
  }

  /**
   * Each name with its list of values, in insertion order, without copying (for writers on
   * the hot path). Do not modify the lists.
   */
  fieldLists(): IterableIterator<[string, readonly string[]]> {
    return this.#fields.entries();
  }

  /** Every `[name, value]` pair, a name repeated once per value, names in insertion order. */
  *getAll(): Generator<[string, string], void, undefined> {
    for (const [name, values] of this.#fields) {
      for (const value of values) yield [name, value];
    }
  }

  /** The number of distinct names. */
  get size(): number {
    return this.#fields.size;
  }

  /** The distinct names, normalised, in insertion order. */
  keys(): IterableIterator<string> {
    return this.#fields.keys();
  }

  /** The joined value of each name, in insertion order. */
  *values(): Generator<string, void, undefined> {
    for (const values of this.#fields.values()) {
      yield values.length === 1 ? values[0]! : values.join(",");
    }
  }

  /** `[name, joinedValue]` for each name, in insertion order. */
  *entries(): Generator<[string, string], void, undefined> {
    for (const [name, values] of this.#fields) {
      yield [name, values.length === 1 ? values[0]! : values.join(",")];
    }
  }

  /** Same as {@link HTTPHeaders.entries}: `[name, joinedValue]` pairs. */
  [Symbol.iterator](): Generator<[string, string], void, undefined> {
    return this.entries();
  }

  /** A copy: neither the map nor its value lists are shared. */
  copy(): HTTPHeaders {
    return new HTTPHeaders(this);
  }

  /** The headers as text, one `Name: value\n` line per value (parseable by `parse`). */
  toString(): string {
    let out = "";
    for (const [name, values] of this.#fields) {
      for (const value of values) out += `${name}: ${value}\n`;
    }
    return out;
  }

  /** What `console.log` and `util.inspect` show: each name with its value or values. */
  [inspect.custom](_depth: number, options: object): string {
    const shown: Record<string, string | string[]> = {};
    for (const [name, values] of this.#fields) {
      shown[name] = values.length === 1 ? values[0]! : values.slice();
    }
    return `HTTPHeaders ${inspect(shown, options)}`;
  }
}

function trimOws(text: string, start: number, end: number): [number, number] {
  while (start < end) {
    const c = text.charCodeAt(start);
    if (c !== 0x20 && c !== 0x09) break;
    start++;
  }
  while (end > start) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x09) break;
    end--;
  }
  return [start, end];
}

/**
 * Checks a name and value set through the API and returns the name's canonical form (one pass
 * over the name for both).
 */
function checkedKey(name: string, value: string): string {
  // Names set by code are nearly always a few literals: a cached check costs one lookup,
  // whose hash V8 keeps on a literal, instead of a pass over the name.
  let key = API_NAME_CACHE.get(name);
  if (key === undefined) {
    key = (typeof name === "string" ? tokenToHeaderName(name) : null) ?? undefined;
    if (key === undefined) {
      throw new TypeError(`Invalid header name ${quoteForMessage(String(name))}`);
    }
    if (name.length <= NAME_CACHE_MAX_LENGTH) {
      if (API_NAME_CACHE.size >= NAME_CACHE_LIMIT) API_NAME_CACHE.clear();
      API_NAME_CACHE.set(name, key);
    }
  }
  if (typeof value !== "string") {
    throw new TypeError(`Header value for ${name} must be a string, not ${typeof value}`);
  }
  if (hasLineBreaking(value)) {
    throw new TypeError(`Illegal characters (CR, LF or NUL) in header ${name}`);
  }
  return key;
}

/** True if `value` holds CR, LF or NUL: a loop for short values, the regex for long ones. */
function hasLineBreaking(value: string): boolean {
  const n = value.length;
  if (n > 32) return LINE_BREAKING_RE.test(value);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) return true;
  }
  return false;
}

/**
 * `headers.getList(name)` for a `name` already in Http-Header-Case (`"Content-Length"`),
 * without normalising it: for the HTTP/1 parser's framing lookups, a handful per request. Not
 * re-exported from `httputil`.
 */
export function fieldValues(headers: HTTPHeaders, name: string): readonly string[] {
  return valuesOf(headers, name);
}

/**
 * Parses the header block `bytes[start, end)` as {@link HTTPHeaders.parse} parses its latin-1
 * text, with the same results and errors; `text` must be that decoding of `bytes`, at the same
 * offsets (the values are sliced from it). For the HTTP/1 parser, which has both; not
 * re-exported from `httputil`.
 *
 * Lines are scanned as bytes, and common names are recognised from their bytes, so that most
 * fields cost no name string and key the map with a constant; a line that is anything but a
 * well-formed `name: value` goes to the text parser, which says what is wrong with it.
 */
export function parseHeaderBytes(
  bytes: Uint8Array,
  text: string,
  start: number,
  end: number,
  options?: HeaderParseOptions,
): HTTPHeaders {
  return parseBytes(bytes, text, start, end, options);
}

/**
 * Parses the headers of one `multipart/form-data` part: UTF-8 text, so any character but
 * controls is allowed in values (file names in any script). Used by `parseMultipartFormData`;
 * not re-exported from `httputil`.
 * @throws HTTPInputError as {@link HTTPHeaders.parse} does.
 */
export function parsePartHeaders(text: string): HTTPHeaders {
  return HTTPHeaders.parse(text, { [TEXT_MODE]: true } as HeaderParseOptions);
}
