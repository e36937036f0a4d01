// Form bodies: application/x-www-form-urlencoded and multipart/form-data, their limits, and
// the Content-Type / Content-Disposition parameter parser (with RFC 2231 decoding).

import { parseQsBytes } from "../escape.js";
import { HTTPInputError, quoteForMessage } from "./errors.js";
import { type HTTPHeaders, parsePartHeaders } from "./headers.js";
import { pyStrip } from "./text.js";

/** A file uploaded through a `multipart/form-data` form. */
export class HTTPFile {
  /** The file name the client sent (decoded from RFC 2231 `filename*` when present). */
  filename: string;
  /** The file's bytes: a view into the request body, not a copy. */
  body: Buffer;
  /** The part's `Content-Type`, `application/unknown` when it had none. */
  contentType: string;
  constructor(options: { filename: string; body: Buffer; contentType: string }) {
    this.filename = options.filename;
    this.body = options.body;
    this.contentType = options.contentType;
  }
}

/** name → values, as in `HTTPServerRequest.arguments`. */
export type ArgumentMap = Map<string, Buffer[]>;
/** name → uploaded files, as in `HTTPServerRequest.files`. */
export type FileMap = Map<string, HTTPFile[]>;

function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, not ${String(value)}`);
  }
  return value;
}

/** Limits on parsing `multipart/form-data` bodies, against denial of service. */
export class ParseMultipartConfig {
  /**
   * False refuses every multipart body (`HTTPInputError`): for applications that take no
   * file uploads. @defaultValue true
   */
  readonly enabled: boolean;
  /**
   * Most parts accepted in one body (each form field is at least one part).
   * @defaultValue 100
   * @remarks Tornado counts the (normally empty) preamble as a part, so it accepts 99.
   */
  readonly maxParts: number;
  /** Most bytes in the headers of one part. @defaultValue 10240 */
  readonly maxPartHeaderSize: number;
  /** @throws RangeError for a limit that is not a non-negative integer. */
  constructor(options: { enabled?: boolean; maxParts?: number; maxPartHeaderSize?: number } = {}) {
    this.enabled = options.enabled ?? true;
    this.maxParts = checkCount("maxParts", options.maxParts ?? 100);
    this.maxPartHeaderSize = checkCount("maxPartHeaderSize", options.maxPartHeaderSize ?? 10240);
  }
}

/** Limits on parsing `application/x-www-form-urlencoded` bodies. */
export class ParseUrlencodedConfig {
  /**
   * Most fields (`&`-separated, counted as Python's `max_num_fields` does) in one body.
   * @defaultValue 1000
   * @remarks Not in Tornado, which has no such limit; the body size limit bounds it there.
   */
  readonly maxFields: number;
  /** @throws RangeError for a limit that is not a non-negative integer. */
  constructor(options: { maxFields?: number } = {}) {
    this.maxFields = checkCount("maxFields", options.maxFields ?? 1000);
  }
}

/** Configuration of request body parsing (see {@link setParseBodyConfig}). */
export class ParseBodyConfig {
  /** Limits for `multipart/form-data`. @defaultValue `new ParseMultipartConfig()` */
  readonly multipart: ParseMultipartConfig;
  /** Limits for `application/x-www-form-urlencoded`. @defaultValue `new ParseUrlencodedConfig()` */
  readonly urlencoded: ParseUrlencodedConfig;
  constructor(
    options: { multipart?: ParseMultipartConfig; urlencoded?: ParseUrlencodedConfig } = {},
  ) {
    this.multipart = options.multipart ?? new ParseMultipartConfig();
    this.urlencoded = options.urlencoded ?? new ParseUrlencodedConfig();
  }
}

let defaultParseBodyConfig = new ParseBodyConfig();

/**
 * Sets the **global** default configuration for parsing request bodies: a stopgap, as in
 * Tornado, for applications that need higher limits or no multipart parsing at all.
 * @throws TypeError if `config` is not a `ParseBodyConfig`.
 */
export function setParseBodyConfig(config: ParseBodyConfig): void {
  if (!(config instanceof ParseBodyConfig)) {
    throw new TypeError("setParseBodyConfig expects a ParseBodyConfig");
  }
  defaultParseBodyConfig = config;
}

/** The current global body parsing configuration. */
export function getParseBodyConfig(): ParseBodyConfig {
  return defaultParseBodyConfig;
}

/** A Buffer view of the same bytes (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (!(bytes instanceof Uint8Array)) throw new TypeError("expected a Buffer or Uint8Array");
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function pushTo<T>(map: Map<string, T[]>, name: string, value: T): void {
  const list = map.get(name);
  if (list === undefined) map.set(name, [value]);
  else list.push(value);
}

/**
 * Parses a form body into `args` (and `files`), which it extends: for
 * `application/x-www-form-urlencoded` and `multipart/form-data`; any other content type is
 * left alone.
 *
 * @param contentType - the request's `Content-Type` header ("" when absent).
 * @param bytes - the request body.
 * @param headers - the request headers: a body with a `Content-Encoding` is refused.
 * @param config - limits; defaults to the global configuration ({@link setParseBodyConfig}).
 * @throws HTTPInputError for a `Content-Encoding`, a malformed body, or a limit exceeded
 *   (the web layer answers 400 "Invalid body").
 * @remarks As current Tornado; 6.2 logged a warning and skipped an encoded body instead.
 */
export function parseBodyArguments(
  contentType: string,
  bytes: Uint8Array,
  args: ArgumentMap,
  files: FileMap,
  headers?: HTTPHeaders | null,
  config?: ParseBodyConfig,
): void {
  const cfg = config ?? defaultParseBodyConfig;
  const body = asBuffer(bytes);
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    rejectContentEncoding(headers);
    const maxFields = cfg.urlencoded.maxFields;
    let fields = 1;
    for (let at = body.indexOf(0x26); at !== -1; at = body.indexOf(0x26, at + 1)) {
      if (++fields > maxFields) {
        throw new HTTPInputError(
          `Invalid x-www-form-urlencoded body: more than ${maxFields} fields`,
        );
      }
    }
    let parsed: Record<string, Buffer[]>;
    try {
      // Real charset decoding happens later, in RequestHandler.decodeArgument.
      parsed = parseQsBytes(body, { keepBlankValues: true });
    } catch (error) {
      throw new HTTPInputError(`Invalid x-www-form-urlencoded body: ${(error as Error).message}`, {
        cause: error,
      });
    }
    for (const name of Object.keys(parsed)) {
      const values = parsed[name]!;
      const list = args.get(name);
      if (list === undefined) args.set(name, values.slice());
      else list.push(...values);
    }
  } else if (contentType.startsWith("multipart/form-data")) {
    rejectContentEncoding(headers);
    try {
      const fields = contentType.split(";");
      if (pyStrip(fields[0]!) !== "multipart/form-data") {
        // Catches "multipart/form-dataxyz".
        throw new HTTPInputError("Invalid content type");
      }
      let boundary: string | undefined;
      for (const field of fields) {
        const text = pyStrip(field);
        const eq = text.indexOf("=");
        if (eq !== -1 && text.slice(0, eq) === "boundary" && eq + 1 < text.length) {
          boundary = text.slice(eq + 1);
          break;
        }
      }
      if (boundary === undefined) throw new HTTPInputError("multipart boundary not found");
      parseMultipartFormData(boundary, body, args, files, cfg.multipart);
    } catch (error) {
      throw new HTTPInputError(`Invalid multipart/form-data: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function rejectContentEncoding(headers: HTTPHeaders | null | undefined): void {
  const encoding = headers?.get("Content-Encoding");
  if (encoding !== undefined) {
    throw new HTTPInputError(`Unsupported Content-Encoding: ${quoteForMessage(encoding)}`);
  }
}

const CRLF_CRLF = Buffer.from("\r\n\r\n");
// Part headers are UTF-8; fatal so bad bytes are an input error, ignoreBOM so a BOM is kept
// as Python keeps it.
const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses a `multipart/form-data` body into `args` and `files`, which it extends.
 *
 * The body must end with the final delimiter `--boundary--` (anything after it is ignored);
 * parts are separated by `--boundary` CRLF; each part needs headers, a blank line, and a
 * `Content-Disposition: form-data` with a non-empty `name`. A part with a `filename` (or
 * RFC 2231 `filename*`) is a file, its `Content-Type` defaulting to `application/unknown`.
 * Values and file bodies are views into `body`.
 *
 * @param boundary - the `boundary` parameter of the Content-Type (quotes allowed).
 * @param body - the request body; values and files are views into it.
 * @param config - limits; defaults to the global configuration's `multipart`.
 * @throws HTTPInputError for any malformed body or limit exceeded; `args` and `files` are
 *   then left with the parts before the bad one (none when a limit is exceeded).
 */
export function parseMultipartFormData(
  boundary: string | Uint8Array,
  body: Uint8Array,
  args: ArgumentMap,
  files: FileMap,
  config?: ParseMultipartConfig,
): void {
  const cfg = config ?? defaultParseBodyConfig.multipart;
  const data = asBuffer(body);
  if (!cfg.enabled) throw new HTTPInputError("multipart/form-data parsing is disabled");
  let b = typeof boundary === "string" ? Buffer.from(boundary, "utf8") : asBuffer(boundary);
  // The boundary may be quoted in the header (rare, but Google App Engine does it).
  if (b.length >= 2 && b[0] === 0x22 && b[b.length - 1] === 0x22) b = b.subarray(1, -1);
  if (b.length === 0) throw new HTTPInputError("multipart boundary is empty");
  const dashes = Buffer.from("--");
  const finalIndex = data.lastIndexOf(Buffer.concat([dashes, b, dashes]));
  if (finalIndex === -1) {
    throw new HTTPInputError("Invalid multipart/form-data: no final boundary found");
  }
  const region = data.subarray(0, finalIndex);
  const delimiter = Buffer.concat([dashes, b, Buffer.from("\r\n")]);
  // First find every part's bounds, stopping as soon as there are too many, so a body of
  // 10⁵ tiny parts costs one bounded scan and adds nothing.
  const bounds: number[] = [];
  let start = 0;
  let parts = 0;
  for (;;) {
    const at = region.indexOf(delimiter, start);
    bounds.push(start, at === -1 ? region.length : at);
    if (at === -1) break;
    if (++parts > cfg.maxParts) throw new HTTPInputError("multipart/form-data has too many parts");
    start = at + delimiter.length;
  }
  for (let i = 0; i < bounds.length; i += 2) {
    const part = region.subarray(bounds[i]!, bounds[i + 1]!);
    if (part.length === 0) continue;
    const eoh = part.indexOf(CRLF_CRLF);
    if (eoh === -1) throw new HTTPInputError("multipart/form-data missing headers");
    if (eoh > cfg.maxPartHeaderSize) {
      throw new HTTPInputError("multipart/form-data part header too large");
    }
    let headerText: string;
    try {
      headerText = UTF8_STRICT.decode(part.subarray(0, eoh));
    } catch (error) {
      throw new HTTPInputError("multipart/form-data part headers are not valid UTF-8", {
        cause: error,
      });
    }
    const headers = parsePartHeaders(headerText);
    const [disposition, params] = parseHeader(headers.get("Content-Disposition", ""));
    const n = part.length;
    if (disposition !== "form-data" || n < 2 || part[n - 2] !== 0x0d || part[n - 1] !== 0x0a) {
      throw new HTTPInputError("Invalid multipart/form-data");
    }
    const value = part.subarray(eoh + 4, n - 2);
    const name = params["name"];
    if (!name) throw new HTTPInputError("multipart/form-data missing name");
    const filename = params["filename"];
    if (filename) {
      const contentType = headers.get("Content-Type", "application/unknown");
      pushTo(files, name, new HTTPFile({ filename, body: value, contentType }));
    } else {
      pushTo(args, name, value);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Content-Type-like header parameters: Tornado's _parseparam/_parse_header (from Python 2's
// cgi.py, with the linear-time fix of CPython PR 136072) and email.utils' RFC 2231 decoding.

/**
 * Splits `s` (which starts with ";") at every ";" outside double quotes, as cgi.py does: a
 * segment ends at the first ";" where the segment holds an even number of `"` not preceded by
 * a backslash. One pass over the text (the original recounted, which was quadratic).
 */
function splitParams(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  const n = s.length;
  while (start < n && s.charCodeAt(start) === 0x3b) {
    start++;
    let end = n;
    let odd = false;
    for (let i = start; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x3b) {
        if (i === start || !odd) {
          end = i;
          break;
        }
      } else if (c === 0x22 && !(i > start && s.charCodeAt(i - 1) === 0x5c)) {
        odd = !odd;
      }
    }
    out.push(pyStrip(s.slice(start, end)));
    start = end;
  }
  return out;
}

/** email.utils.unquote. */
function emailUnquote(s: string): string {
  if (s.length > 1) {
    if (s.startsWith('"') && s.endsWith('"')) {
      return s.slice(1, -1).replaceAll("\\\\", "\\").replaceAll('\\"', '"');
    }
    if (s.startsWith("<") && s.endsWith(">")) return s.slice(1, -1);
  }
  return s;
}

/** email.utils.quote. */
function emailQuote(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
}

// RFC 2231 parameter name: `name*`, `name*0`, `name*0*` (re.ASCII \w).
const RFC2231_NAME_RE = /^([A-Za-z0-9_]+)\*(?:([0-9]+)\*?)?$/;
const PERCENT_RE = /%[0-9a-fA-F]{2}/g;

type Rfc2231Value = [charset: string | null, language: string | null, text: string];

function decodeCharset(bytes: Buffer, charset: string): string | undefined {
  const label = charset.toLowerCase().replaceAll("_", "-");
  switch (label) {
    case "utf-8":
    case "utf8":
    case "u8":
      return bytes.toString("utf8");
    case "us-ascii":
    case "ascii":
      return bytes.toString("latin1").replace(/[\x80-\xff]/g, "\ufffd");
    case "latin-1":
    case "latin1":
    case "iso-8859-1":
    case "iso8859-1":
    case "l1":
      return bytes.toString("latin1");
  }
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Python's `bytes(text, "raw-unicode-escape")`: chars up to U+00FF as bytes, others `\uXXXX`. */
function rawUnicodeEscape(text: string): Buffer {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp <= 0xff) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return Buffer.from(out, "latin1");
}

/** email.utils.collapse_rfc2231_value. */
function collapseRfc2231(value: string | Rfc2231Value): string {
  if (typeof value === "string") return emailUnquote(value);
  const [charset, , text] = value;
  const decoded = decodeCharset(rawUnicodeEscape(text), charset ?? "us-ascii");
  return decoded === undefined ? emailUnquote(text) : decoded;
}

/** email.utils.decode_params, without its leading "main value" entry. */
function decodeParams(params: Array<[string, string]>): Array<[string, string | Rfc2231Value]> {
  const out: Array<[string, string | Rfc2231Value]> = [];
  const continued = new Map<string, Array<[number | null, string, boolean]>>();
  for (const [rawName, rawValue] of params) {
    const encoded = rawName.endsWith("*");
    const value = emailUnquote(rawValue);
    const match = RFC2231_NAME_RE.exec(rawName);
    if (match !== null) {
      const num = match[2] === undefined ? null : Number(match[2]);
      let list = continued.get(match[1]!);
      if (list === undefined) continued.set(match[1]!, (list = []));
      list.push([num, value, encoded]);
    } else {
      out.push([rawName, `"${emailQuote(value)}"`]);
    }
  }
  for (const [name, pieces] of continued) {
    const numbered = pieces.filter((p) => p[0] !== null).length;
    if (numbered !== 0 && numbered !== pieces.length) {
      // Python fails comparing None with an int here.
      throw new HTTPInputError(`Invalid RFC 2231 parameter ${quoteForMessage(name)}`);
    }
    pieces.sort(
      (a, b) =>
        (a[0] ?? 0) - (b[0] ?? 0) ||
        (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) ||
        Number(a[2]) - Number(b[2]),
    );
    let extended = false;
    let joined = "";
    for (const [, text, encoded] of pieces) {
      if (encoded) {
        joined += text.replace(PERCENT_RE, (m) =>
          String.fromCharCode(Number.parseInt(m.slice(1), 16)),
        );
        extended = true;
      } else {
        joined += text;
      }
    }
    const quoted = emailQuote(joined);
    if (extended) {
      // decode_rfc2231: charset'language'text, or the whole value when it has fewer ticks.
      const first = quoted.indexOf("'");
      const second = first === -1 ? -1 : quoted.indexOf("'", first + 1);
      if (second === -1) out.push([name, [null, null, `"${quoted}"`]]);
      else {
        out.push([
          name,
          [
            quoted.slice(0, first),
            quoted.slice(first + 1, second),
            `"${quoted.slice(second + 1)}"`,
          ],
        ]);
      }
    } else {
      out.push([name, `"${quoted}"`]);
    }
  }
  return out;
}

/**
 * Parses a `Content-Type`-like header into its main value and its parameters:
 * `form-data; name="a"; filename*=UTF-8''%C3%A1.txt` → `["form-data", { name: "a",
 * filename: "á.txt" }]`. Semicolons inside quotes do not split; quoted values are unquoted;
 * parameter names are lower-cased; RFC 2231 (`name*=charset'lang'…`, `name*0*=…`) values are
 * decoded and win over the plain form; parameters without `=` are dropped. Linear time.
 *
 * @returns `[value, params]`, `params` an object without prototype.
 * @throws HTTPInputError for RFC 2231 continuations that mix numbered and unnumbered forms.
 */
export function parseHeader(line: string): [string, Record<string, string>] {
  const segments = splitParams(`;${line}`);
  const key = segments[0] ?? "";
  const raw: Array<[string, string]> = [];
  for (let i = 1; i < segments.length; i++) {
    const p = segments[i]!;
    const eq = p.indexOf("=");
    if (eq >= 0) raw.push([pyStrip(p.slice(0, eq)).toLowerCase(), pyStrip(p.slice(eq + 1))]);
  }
  const params: Record<string, string> = Object.create(null);
  for (const [name, decoded] of decodeParams(raw)) {
    let value = collapseRfc2231(decoded);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    params[name] = value;
  }
  return [key, params];
}

/**
 * The inverse of {@link parseHeader}: `encodeHeader("permessage-deflate",
 * { client_max_window_bits: 15, client_no_context_takeover: null })` →
 * `"permessage-deflate; client_max_window_bits=15; client_no_context_takeover"`. Parameters
 * are sorted by name; a null value writes the bare name. Values are not quoted.
 */
export function encodeHeader(
  key: string,
  params: Readonly<Record<string, string | number | null>>,
): string {
  const names = Object.keys(params).sort();
  if (names.length === 0) return key;
  const out = [key];
  for (const name of names) {
    const value = params[name];
    out.push(value === null || value === undefined ? name : `${name}=${value}`);
  }
  return out.join("; ");
}
