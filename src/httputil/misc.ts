// Small helpers of tornado.httputil: URLs and query strings, timestamps, credentials, ranges.

import { parseQsBytes, urlEscape, urlUnescape, utf8 } from "../escape.js";
import { pyStrip } from "./text.js";

/** Arguments for {@link urlConcat}: an object, or `[name, value]` pairs (repeats allowed). */
export type UrlArgs =
  Readonly<Record<string, string | number>> | ReadonlyArray<readonly [string, string | number]>;

/** Python's `parse_qsl(query, keep_blank_values=True)`: UTF-8, `+` as space, no empty fields. */
function parseQsl(query: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (query === "") return pairs;
  for (const field of query.split("&")) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    const name = eq === -1 ? field : field.slice(0, eq);
    const value = eq === -1 ? "" : field.slice(eq + 1);
    pairs.push([urlUnescape(name), urlUnescape(value)]);
  }
  return pairs;
}

/**
 * Appends query arguments to a URL, whether or not it already has a query string. The
 * existing query is re-encoded (`quote_plus` style); a `#fragment` stays at the end.
 *
 * @param args - an object, or `[name, value]` pairs to repeat a name; `null`/`undefined`
 *   returns `url` unchanged.
 * @example
 * ```ts
 * urlConcat("http://example.com/foo?a=b", { c: "d" }); // "http://example.com/foo?a=b&c=d"
 * urlConcat("http://example.com/foo", [["c", "d"], ["c", "d2"]]); // "...foo?c=d&c=d2"
 * ```
 * @throws TypeError if `args` is not an object, array, null or undefined.
 */
export function urlConcat(url: string, args: UrlArgs | null | undefined): string {
  if (args === null || args === undefined) return url;
  let added: ReadonlyArray<readonly [string, string | number]>;
  if (Array.isArray(args)) added = args;
  else if (typeof args === "object") added = Object.entries(args);
  else throw new TypeError(`'args' parameter should be an object or an array, not ${typeof args}`);
  const hash = url.indexOf("#");
  const fragment = hash === -1 ? "" : url.slice(hash + 1);
  const beforeHash = hash === -1 ? url : url.slice(0, hash);
  const mark = beforeHash.indexOf("?");
  const base = mark === -1 ? beforeHash : beforeHash.slice(0, mark);
  const pairs: Array<readonly [string, string | number]> = parseQsl(
    mark === -1 ? "" : beforeHash.slice(mark + 1),
  );
  for (const pair of added) pairs.push(pair);
  const query = pairs
    .map(([name, value]) => `${urlEscape(String(name))}=${urlEscape(String(value))}`)
    .join("&");
  return base + (query ? `?${query}` : "") + (fragment ? `#${fragment}` : "");
}

/**
 * Parses a query string keeping blank values (`a=` and `a` give `a: [empty]`), as
 * `HTTPServerRequest` does for its `queryArguments`: names are the latin-1 reading of the
 * decoded bytes, values the exact bytes. Tornado's `parse_qs_bytes(qs, keep_blank_values=True)`.
 */
export function qsParseKeepBlank(qs: string | Buffer): Map<string, Buffer[]> {
  const parsed = parseQsBytes(qs, { keepBlankValues: true });
  const result = new Map<string, Buffer[]>();
  for (const name of Object.keys(parsed)) result.set(name, parsed[name]!);
  return result;
}

/** Turns a name → values mapping (such as `arguments`) back into `[name, value]` pairs. */
export function* qsToQsl<T>(
  qs: ReadonlyMap<string, readonly T[]> | Readonly<Record<string, readonly T[]>>,
): Generator<[string, T], void, undefined> {
  const entries = qs instanceof Map ? qs.entries() : Object.entries(qs);
  for (const [name, values] of entries as Iterable<[string, readonly T[]]>) {
    for (const value of values) yield [name, value];
  }
}

/**
 * Formats a time as HTTP wants it (RFC 9110 IMF-fixdate): `Sun, 27 Jan 2013 18:43:20 GMT`.
 * Fractions of a second are dropped.
 *
 * @param ts - a `Date`, or a number of milliseconds since the epoch (`Date.now()`), or of
 *   seconds when `unit` is `"s"` (Python's `time.time()`).
 * @param unit - unit of a numeric `ts`. @defaultValue "ms"
 * @throws TypeError for another type; RangeError for a time that is not finite or another unit.
 */
export function formatTimestamp(ts: Date | number, unit: "ms" | "s" = "ms"): string {
  let ms: number;
  if (ts instanceof Date) ms = ts.getTime();
  else if (typeof ts === "number") {
    if (unit !== "ms" && unit !== "s") throw new RangeError(`unknown unit: ${String(unit)}`);
    ms = unit === "s" ? ts * 1000 : ts;
  } else throw new TypeError(`unknown timestamp type: ${typeof ts}`);
  if (!Number.isFinite(ms)) throw new RangeError(`invalid timestamp: ${String(ts)}`);
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/**
 * Encodes credentials for HTTP Basic auth: `username:password` as UTF-8, strings first
 * normalised to NFC (RFC 7617). Base64 is the caller's job.
 */
export function encodeUsernamePassword(
  username: string | Uint8Array,
  password: string | Uint8Array,
): Buffer {
  const user = typeof username === "string" ? utf8(username.normalize("NFC")) : utf8(username);
  const pass = typeof password === "string" ? utf8(password.normalize("NFC")) : utf8(password);
  return Buffer.concat([user, Buffer.from(":"), pass]);
}

// Python's re.match(r"^(.+):(\d+)$"): `.` stops at LF.

/**
 * Splits `host:port` into `[host, port]`; `port` is null when there is none. The last
 * `:digits` is the port (`"[::1]:80"` → `["[::1]", 80]`).
 */
export function splitHostAndPort(netloc: string): [string, number | null] {
  // The port is the run of digits after the last ":" (as Tornado's `^(.+):(\d+)$`), found by
  // hand: every request parses its Host with this.
  const colon = netloc.lastIndexOf(":");
  if (colon <= 0 || colon === netloc.length - 1 || netloc.includes("\n")) return [netloc, null];
  for (let i = colon + 1; i < netloc.length; i++) {
    const c = netloc.charCodeAt(i);
    if (c < 48 || c > 57) return [netloc, null];
  }
  return [netloc.slice(0, colon), Number(netloc.slice(colon + 1))];
}

const DIGITS_RE = /^[0-9]+$/;

// An integer bound of a Range: empty → null; digits → a safe integer; else undefined (invalid).
function rangeBound(text: string): number | null | undefined {
  const t = pyStrip(text);
  if (t === "") return null;
  if (!DIGITS_RE.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Parses a `Range` header holding one byte range into slice indexes `[start, end)`, end
 * exclusive (HTTP's positions are inclusive): `bytes=1-2` → `[1, 3]`, `bytes=6-` →
 * `[6, null]`, `bytes=-6` → `[-6, null]` (the last 6 bytes), `bytes=-0` → `[null, 0]`,
 * `bytes=` → `[null, null]`.
 *
 * @returns null for another unit, several ranges, or a bound that is not plain digits: the
 *   caller ignores such a header and serves the whole resource.
 * @remarks Stricter than Tornado, which lets Python's `int()` accept `+5` or `1_0`.
 */
export function parseRequestRange(rangeHeader: string): [number | null, number | null] | null {
  const eq = rangeHeader.indexOf("=");
  const unit = pyStrip(eq === -1 ? rangeHeader : rangeHeader.slice(0, eq));
  if (unit !== "bytes") return null;
  const value = eq === -1 ? "" : pyStrip(rangeHeader.slice(eq + 1));
  const dash = value.indexOf("-");
  let start = rangeBound(dash === -1 ? value : value.slice(0, dash));
  let end = rangeBound(dash === -1 ? "" : value.slice(dash + 1));
  if (start === undefined || end === undefined) return null;
  if (end !== null) {
    if (start === null) {
      if (end !== 0) {
        start = -end;
        end = null;
      }
    } else {
      end += 1;
    }
  }
  return [start, end];
}

/**
 * The `Content-Range` value for slice indexes `[start, end)` of a `total`-byte resource:
 * `getContentRange(1, 3, 4)` → `"bytes 1-2/4"`; a null start means 0, a null end means
 * `total`.
 */
export function getContentRange(start: number | null, end: number | null, total: number): string {
  const first = start || 0;
  const last = (end || total) - 1;
  return `bytes ${first}-${last}/${total}`;
}

const CONTENT_RANGE_RE = /^bytes[ \t]+(?:([0-9]+)-([0-9]+)|\*)\/([0-9]+|\*)$/;

/**
 * Parses a `Content-Range` value (`bytes 0-99/1234`, `bytes 0-99/*`, `bytes *\/1234`) into
 * slice indexes: `{ start: 0, end: 100, total: 1234 }`; `start`/`end` are null for `*`,
 * `total` is null when unknown.
 * @returns null when the value is not a valid byte range (or `end` precedes `start`).
 */
export function parseContentRange(
  value: string,
): { start: number | null; end: number | null; total: number | null } | null {
  const match = CONTENT_RANGE_RE.exec(value.trim());
  if (match === null) return null;
  const total = match[3] === "*" ? null : Number(match[3]);
  if (total !== null && !Number.isSafeInteger(total)) return null;
  if (match[1] === undefined) {
    return total === null ? null : { start: null, end: null, total };
  }
  const start = Number(match[1]);
  const end = Number(match[2]) + 1;
  if (!Number.isSafeInteger(end) || end <= start) return null;
  return { start, end, total };
}
