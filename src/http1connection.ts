/**
 * HTTP/1.x client and server protocol over an {@link IOStream}: Tornado's
 * `tornado.http1connection`.
 *
 * {@link HTTP1Connection} reads one message (a request on the server, a response on the client)
 * and drives an {@link HTTPMessageDelegate} with it; it writes the other direction through the
 * {@link HTTPConnection} interface (`writeHeaders`, `write`, `finish`). One parser serves both
 * sides. {@link HTTP1ServerConnection} runs the keep-alive loop of a server connection:
 * requests are read and answered one at a time, so pipelined requests are answered in order.
 *
 * Framing is strict (RFC 9112, and current Tornado where it is stricter): a message whose
 * framing is in doubt is refused with a status and the connection closed; it never reaches a
 * delegate, and nothing after it on that connection is read. Line endings are CRLF; the one
 * lenient switch, {@link HTTP1ConnectionParameters.lenient}, accepts a bare LF as a line end on
 * every line alike (request or status line, headers, chunk lines, trailers). A bare CR is never
 * a line end. A strict server finds the end of a request head with a plain search for CRLF CRLF
 * (its hot path); a head with bare LF line ends only is then refused when it reaches
 * `maxHeaderSize`, or closed at the header timeout. A client scans for a bare CR or LF too and
 * fails at once.
 *
 * Main exports: {@link HTTP1Connection}, {@link HTTP1ServerConnection},
 * {@link HTTP1ConnectionParameters}.
 */

import { performance } from "node:perf_hooks";
import type { IOStream } from "./iostream.js";
import { StreamClosedError, UnsatisfiableReadError } from "./iostream.js";
import { appLog, genLog } from "./log.js";
import { GzipDecompressor, latin1 } from "./util.js";
import {
  type HeaderParseOptions,
  HTTPHeaders,
  HTTPInputError,
  HTTPOutputError,
  isToken,
  isValidHostHeader,
  RequestStartLine,
  ResponseStartLine,
  responses,
  type HTTPConnection,
  type HTTPConnectionContext,
  type HTTPMessageDelegate,
  type HTTPServerConnectionDelegate,
} from "./httputil.js";
import { fieldValues, parseHeaderBytes } from "./httputil/headers.js";

/** Options of an {@link HTTP1Connection}; every limit has a default. */
export interface HTTP1ConnectionParameters {
  /** Close the connection after one message. @defaultValue false */
  noKeepAlive?: boolean;
  /** Largest piece of body handed to `dataReceived`, in bytes. @defaultValue 65536 */
  chunkSize?: number;
  /** Largest header block (start line, headers, blank line), in bytes. @defaultValue 65536 */
  maxHeaderSize?: number;
  /** Largest number of header lines in one message (and of trailer lines). @defaultValue 1000 */
  maxHeaderCount?: number;
  /** Longest request line, in bytes; longer answers 414. @defaultValue 8192 */
  maxRequestLineSize?: number;
  /**
   * Time allowed to receive a whole header block, in ms. On a kept-alive server connection the
   * wait for the next request is bounded by `idleTimeout` instead. @defaultValue none
   */
  headerTimeout?: number;
  /** Time a kept-alive server connection may wait for its next request, in ms. @defaultValue none */
  idleTimeout?: number;
  /** Largest body, in bytes, counted after decoding (chunked, gzip). @defaultValue the stream's maxBufferSize */
  maxBodySize?: number;
  /** Time allowed to receive a whole body, in ms. @defaultValue none */
  bodyTimeout?: number;
  /** Decode `Content-Encoding: gzip` bodies before the delegate sees them. @defaultValue false */
  decompress?: boolean;
  /**
   * Accept a bare LF as a line end (RFC 9112 §2.2 allows it; Tornado does it), on every line
   * alike. A bare CR is refused either way. @defaultValue false
   */
  lenient?: boolean;
}

const DEFAULT_CHUNK_SIZE = 65536;
/** Bytes of response still queued for the kernel past which the next request waits. */
const WRITE_HIGH_WATER_MARK = 65536;
const DEFAULT_MAX_HEADER_SIZE = 65536;
const DEFAULT_MAX_HEADER_COUNT = 1000;
const DEFAULT_MAX_REQUEST_LINE = 8192;
/** Longest chunk-size line (size, extensions, CRLF) accepted. */
const MAX_CHUNK_LINE = 4096;
/** Blank lines tolerated before a request (RFC 9112 §2.2 says ignore at least one). */
const MAX_LEADING_EMPTY_LINES = 8;

/** The parameters with their defaults applied. @internal */
export class ResolvedParameters {
  readonly noKeepAlive: boolean;
  readonly chunkSize: number;
  readonly maxHeaderSize: number;
  readonly maxHeaderCount: number;
  readonly maxRequestLineSize: number;
  readonly headerTimeout: number | undefined;
  readonly idleTimeout: number | undefined;
  readonly maxBodySize: number | undefined;
  readonly bodyTimeout: number | undefined;
  readonly decompress: boolean;
  readonly lenient: boolean;
  /** Lenient mode: finds the end of a header block (LF or CRLF line ends), or a bare CR. */
  readonly headerEnd: RegExp;
  /** Options of a header block read, made once. */
  readonly headReadOptions: { readonly maxBytes: number; readonly closeOnMaxBytes: false };
  /** How request and response header blocks are parsed (see parseHead), made once. */
  readonly requestHeaderOptions: HeaderParseOptions;
  readonly responseHeaderOptions: HeaderParseOptions;

  constructor(p: HTTP1ConnectionParameters = {}) {
    this.noKeepAlive = p.noKeepAlive ?? false;
    this.chunkSize = positive("chunkSize", p.chunkSize ?? DEFAULT_CHUNK_SIZE);
    this.maxHeaderSize = positive("maxHeaderSize", p.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE);
    this.maxHeaderCount = positive("maxHeaderCount", p.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT);
    this.maxRequestLineSize = positive(
      "maxRequestLineSize",
      p.maxRequestLineSize ?? DEFAULT_MAX_REQUEST_LINE,
    );
    this.headerTimeout = optionalPositive("headerTimeout", p.headerTimeout);
    this.idleTimeout = optionalPositive("idleTimeout", p.idleTimeout);
    this.maxBodySize =
      p.maxBodySize === undefined ? undefined : nonNegative("maxBodySize", p.maxBodySize);
    this.bodyTimeout = optionalPositive("bodyTimeout", p.bodyTimeout);
    this.decompress = p.decompress ?? false;
    this.lenient = p.lenient ?? false;
    // Lenient mode's block end: LF or CRLF end a line; a bare CR stops the scan early.
    this.headerEnd = /\r?\n\r?\n|\r[^\n]/;
    this.headReadOptions = { maxBytes: this.maxHeaderSize, closeOnMaxBytes: false };
    const common = { allowBareLf: this.lenient, maxHeaders: this.maxHeaderCount };
    this.requestHeaderOptions = { ...common, allowObsFold: false };
    this.responseHeaderOptions = { ...common, allowObsFold: true };
  }
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${name} must be a positive number`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be >= 0`);
  return value;
}

function optionalPositive(name: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : positive(name, value);
}

/** A malformed or refused message, answered with `status` (400, 413, 414, 417, 431). */
function inputError(message: string, status = 400, cause?: unknown): HTTPInputError {
  return new HTTPInputError(message, cause === undefined ? { status } : { status, cause });
}

const STATUS_LINE_RE = /^HTTP\/1\.([0-9]) ([0-9]{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;
// Field values: any byte but CTLs (HTAB allowed) and DEL. obs-text is data.
const BAD_VALUE_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** True if `s` is one or more ASCII digits: a Content-Length value. */
function isDigits(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
// chunk-size, then chunk extensions as RFC 9112 §7.1.1 writes them (token names, token or
// quoted-string values, optional whitespace around ";" and "="); they are read and ignored.
const CHUNK_SIZE_RE =
  /^([0-9A-Fa-f]{1,16})((?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))?)*)$/;
const CRLF = Buffer.from("\r\n");

/**
 * Parses a request line, `method SP target SP HTTP/1.d` (RFC 9112 §3), found at
 * text[start, end), by hand rather than with a regex match array per request: a token method,
 * a target of visible bytes (obs-text allowed; no CTL, SP or DEL), one SP each side. Null when
 * malformed.
 */
function parseRequestLine(text: string, start: number, end: number): RequestStartLine | null {
  const sp1 = text.indexOf(" ", start);
  // At least one byte of target between the two spaces, and " HTTP/1.d" (9 bytes) at the end.
  const sp2 = end - 9;
  if (sp1 <= start || sp2 <= sp1 + 1) return null;
  if (
    text.charCodeAt(sp2) !== 32 ||
    text.charCodeAt(sp2 + 1) !== 72 || // H
    text.charCodeAt(sp2 + 2) !== 84 || // T
    text.charCodeAt(sp2 + 3) !== 84 || // T
    text.charCodeAt(sp2 + 4) !== 80 || // P
    text.charCodeAt(sp2 + 5) !== 47 || // /
    text.charCodeAt(sp2 + 6) !== 49 || // 1
    text.charCodeAt(sp2 + 7) !== 46 // .
  ) {
    return null;
  }
  const minor = text.charCodeAt(end - 1);
  if (minor < 48 || minor > 57) return null;
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return null;
  }
  // The common methods as constants: no new string (or check) per request for them.
  let method: string;
  const methodLength = sp1 - start;
  const c0 = text.charCodeAt(start);
  if (
    methodLength === 3 &&
    c0 === 71 && // G
    text.charCodeAt(start + 1) === 69 && // E
    text.charCodeAt(start + 2) === 84 // T
  ) {
    method = "GET";
  } else if (
    methodLength === 4 &&
    c0 === 80 && // P
    text.charCodeAt(start + 1) === 79 && // O
    text.charCodeAt(start + 2) === 83 && // S
    text.charCodeAt(start + 3) === 84 // T
  ) {
    method = "POST";
  } else {
    method = text.slice(start, sp1);
    if (!isToken(method)) return null;
  }
  return new RequestStartLine(
    method,
    text.slice(sp1 + 1, sp2),
    minor === 48 ? "HTTP/1.0" : "HTTP/1.1",
  );
}

// What a header value may not hold on the way out: CR, LF or NUL, which would split the line,
// and characters above U+00FF, which latin-1 cannot carry (writing keeps only their low byte,
// so U+010D U+010A would go out as CR LF).
const UNWRITABLE_IN_VALUE_RE = /[\r\n\0\u0100-\uffff]/;

/** True if `value` can go out (see UNWRITABLE_IN_VALUE_RE): a loop for short values. */
function isWritableValue(value: string): boolean {
  const n = value.length;
  if (n > 32) return !UNWRITABLE_IN_VALUE_RE.test(value);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0 || c > 0xff) return false;
  }
  return true;
}
// The fields last written, one value each, and their lines: a server sends the same fields on
// most responses (a type, a length), so a writer that sees them again reuses the lines. Strings
// compare by content, so a value made afresh each time (String(length)) still matches.
const lastNames: string[] = [];
const lastValues: string[] = [];
let lastLines = "\r\n";

/**
 * The header lines of `headers`, and the blank line that ends the head.
 * @throws HTTPOutputError for a value that cannot go out (see isWritableValue).
 */
function fieldLines(headers: HTTPHeaders): string {
  let i = 0;
  let same = true;
  for (const [name, values] of headers.fieldLists()) {
    if (
      i === lastNames.length ||
      values.length !== 1 ||
      lastNames[i] !== name ||
      lastValues[i] !== values[0]
    ) {
      same = false;
      break;
    }
    i++;
  }
  if (same && i === lastNames.length) return lastLines;
  // HTTPHeaders only holds token names and checked values; the value check stays as a last
  // guard against header injection through a list modified in place.
  let lines = "";
  let single = true;
  for (const [name, values] of headers.fieldLists()) {
    if (values.length !== 1) single = false;
    for (let j = 0; j < values.length; j++) {
      const value = values[j]!;
      if (!isWritableValue(value)) {
        throw new HTTPOutputError(
          `illegal characters (CR, LF, NUL or above U+00FF) in header ${name}`,
        );
      }
      lines += `${name}: ${value}\r\n`;
    }
  }
  lines += "\r\n";
  while (lastNames.length > 0) {
    lastNames.pop();
    lastValues.pop();
  }
  lastLines = "\r\n";
  if (single && headers.size <= 16) {
    for (const [name, values] of headers.fieldLists()) {
      lastNames.push(name);
      lastValues.push(values[0]!);
    }
    // Reading a character flattens the string (V8 copies the pieces once, in place): the
    // socket then copies one run of bytes per response rather than walking the pieces.
    lines.charCodeAt(0);
    lastLines = lines;
  }
  return lines;
}

/** Strict end of a header block, stopping early at a bare LF or CR (the client's scan). */
const STRICT_HEADER_END = /\r\n\r\n|(?:^|[^\r])\n|\r[^\n]/;
const CRLF_CRLF = Buffer.from("\r\n\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");
const CONTINUE_RESPONSE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
const PARTIAL = { partial: true } as const;
/** Bodies up to this size go out in one string with their head (see writeHeaders). */
const SMALL_BODY = 1024;

function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * Parsed header block: its latin-1 text, where the start line is in it, and the headers.
 * The start line stays a range of the text, parsed in place (no string of its own).
 */
interface ParsedHead {
  text: string;
  start: number;
  startEnd: number;
  headers: HTTPHeaders;
}

/** The start line of a parsed head, as a string (for messages and the status line). */
function startLineOf(head: ParsedHead, limit = Infinity): string {
  return head.text.slice(head.start, Math.min(head.startEnd, head.start + limit));
}

const LENIENT_BLOCK_END = /\r?\n\r?\n$/;

/**
 * Parses a header block read up to and including its terminator. Throws
 * `HTTPInputError` (with the status to answer) for anything malformed.
 */
function parseHead(
  data: Buffer,
  params: ResolvedParameters,
  isRequest: boolean,
): ParsedHead | null {
  const text = latin1(data);
  // The header lines end at `end`, before the blank line.
  let end: number;
  if (params.lenient) {
    // The scan stopped at LF LF (or CRLF variants), or early at a bare CR.
    const blockEnd = LENIENT_BLOCK_END.exec(text);
    if (blockEnd === null || /\r[^\n]/.test(text)) throw inputError("bare CR in the header block");
    end = blockEnd.index;
  } else {
    // Read to CRLF CRLF. A bare LF or CR inside is refused below: after the start line by
    // its own check, in header lines by HTTPHeaders.parseBytes, in the start line by its parser.
    const n = data.length;
    if (
      n < 4 ||
      data[n - 4] !== 13 ||
      data[n - 3] !== 10 ||
      data[n - 2] !== 13 ||
      data[n - 1] !== 10
    )
      throw inputError("bare CR or LF in the header block");
    end = n - 4;
  }
  // Blank lines some clients send between messages (RFC 9112 §2.2: a server SHOULD ignore
  // at least one).
  let start = 0;
  for (;;) {
    if (start + 2 <= end && data[start] === 13 && data[start + 1] === 10) start += 2;
    else if (params.lenient && start < end && data[start] === 10) start += 1;
    else break;
  }
  if (start > 2 * MAX_LEADING_EMPTY_LINES)
    throw inputError("too many empty lines before the message");
  if (start === end) return null;
  let eol = text.indexOf("\n", start);
  if (eol >= end) eol = -1;
  let startEnd: number;
  let headerStart: number;
  if (eol < 0) {
    startEnd = end;
    headerStart = end;
  } else {
    const cr = eol > start && data[eol - 1] === 13;
    if (!params.lenient && !cr) throw inputError("bare LF in the header block");
    startEnd = cr ? eol - 1 : eol;
    headerStart = eol + 1;
  }
  if (isRequest && startEnd - start > params.maxRequestLineSize) {
    throw inputError("request line too long", 414);
  }
  // One pass validates names (tokens) and values (no CTL but HTAB), refuses a leading space,
  // and caps the count (431).
  // Requests: obs-fold refused (hostile-inputs 11). Responses: a user agent replaces obs-fold
  // with SP (RFC 9112 §5.2, Tornado's test_multi_line_headers); HTTPHeaders never folds the
  // framing headers (Content-Length, Transfer-Encoding, Host).
  const headers = parseHeaderBytes(
    data,
    text,
    headerStart,
    end,
    isRequest ? params.requestHeaderOptions : params.responseHeaderOptions,
  );
  return { text, start, startEnd, headers };
}

/** Reads `Content-Length` strictly: digits only, equal duplicates folded, no overflow. */
function parseContentLength(headers: HTTPHeaders): number | null {
  const values = fieldValues(headers, "Content-Length");
  if (values.length === 0) return null;
  let result: string | null = null;
  for (const value of values) {
    for (const piece of value.split(",")) {
      const v = trimOws(piece);
      if (!isDigits(v)) {
        throw inputError(`only integer Content-Length is allowed: ${JSON.stringify(value)}`);
      }
      if (result === null) result = v;
      else if (result !== v) throw inputError("multiple unequal Content-Lengths");
    }
  }
  const n = Number(result);
  if (!Number.isSafeInteger(n) || (result as string).replace(/^0+(?=.)/, "").length > 15) {
    throw inputError("Content-Length too large", 413);
  }
  return n;
}

/**
 * True if the message is chunked. Any other transfer coding, a repeated header, or one
 * alongside `Content-Length` is refused: framing in doubt is never guessed at.
 */
function isChunked(headers: HTTPHeaders, version11: boolean): boolean {
  const values = fieldValues(headers, "Transfer-Encoding");
  if (values.length === 0) return false;
  if (!version11) throw inputError("Transfer-Encoding on an HTTP/1.0 message");
  if (fieldValues(headers, "Content-Length").length > 0) {
    throw inputError("message with both Transfer-Encoding and Content-Length");
  }
  if (values.length !== 1) throw inputError("repeated Transfer-Encoding header");
  if (values[0]!.toLowerCase() !== "chunked") {
    throw inputError(`unsupported Transfer-Encoding ${JSON.stringify(values[0])}`);
  }
  return true;
}

/** True if the `Connection` header lists `token` (lower case), in any case. */
function hasConnectionToken(headers: HTTPHeaders, token: string): boolean {
  const values = fieldValues(headers, "Connection");
  for (let i = 0; i < values.length; i++) {
    for (const t of values[i]!.split(",")) {
      if (trimOws(t).toLowerCase() === token) return true;
    }
  }
  return false;
}

function isQuietStreamError(error: unknown): boolean {
  return error instanceof StreamClosedError || error instanceof UnsatisfiableReadError;
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk);
  return Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * One timer for a connection, lent to each exchange on it and re-armed per phase (header,
 * body, idle). Arming only notes a deadline: the Node timer is made once and, when it fires
 * before the current deadline (the connection was re-armed meanwhile), set again for the rest,
 * so a busy keep-alive connection costs one clock read per request, not a timer update. A
 * disarmed timer may still fire once; it then does nothing. @internal
 */
export class ConnectionTimer {
  #timer: NodeJS.Timeout | null = null;
  /** When the pending Node timer fires, on performance.now()'s clock. */
  #timerDeadline = 0;
  /** When the armed phase runs out. */
  #deadline = 0;
  #target: HTTP1Connection | null = null;
  readonly #fire: () => void;

  constructor() {
    this.#fire = () => {
      this.#timer = null;
      const target = this.#target;
      if (target === null) return;
      const remaining = this.#deadline - performance.now();
      // Timers have millisecond resolution: within one of the deadline counts as there.
      if (remaining > 1) {
        this.#start(remaining, this.#deadline);
        return;
      }
      this.#target = null;
      target.onTimeout();
    };
  }

  /** Fires `target.onTimeout()` after `ms` ms (nothing if `ms` is undefined). */
  arm(ms: number | undefined, target: HTTP1Connection): void {
    if (ms === undefined) {
      this.#target = null;
      return;
    }
    this.#target = target;
    const deadline = scheduler.now() + ms;
    this.#deadline = deadline;
    if (this.#timer === null) this.#start(ms, deadline);
    else if (deadline < this.#timerDeadline) {
      // A shorter phase than the pending timer covers: bring the timer forward.
      clearTimeout(this.#timer);
      this.#start(ms, deadline);
    }
  }

  #start(ms: number, deadline: number): void {
    this.#timerDeadline = deadline;
    this.#timer = setTimeout(this.#fire, ms);
    this.#timer.unref();
  }

  disarm(): void {
    this.#target = null;
  }

  dispose(): void {
    this.#target = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

// HTTP1Connection's server-side entry points, for HTTP1ServerConnection (set in its static
// block; see #startHeadRead and #serveRequest there).
let startHeadRead: (
  connection: HTTP1Connection,
  first: boolean,
  onData: (data: Buffer) => void,
  onError: (error: Error) => void,
) => Buffer | null | undefined;
let serveRequest: (
  connection: HTTP1Connection,
  delegate: HTTPMessageDelegate,
  first: boolean,
  head: Buffer | Error | undefined,
  done: (keepGoing: boolean) => void,
  failed: (error: unknown) => void,
) => boolean | undefined;

/**
 * One HTTP/1.x message exchange on a stream: on the server it reads a request and writes its
 * response; on the client it writes a request and reads the response.
 *
 * Used on its own by clients; servers get one per request from {@link HTTP1ServerConnection}.
 */
export class HTTP1Connection implements HTTPConnection {
  readonly isClient: boolean;
  readonly params: ResolvedParameters;
  /** The peer's address and protocol (set by the server; undefined on a client). */
  readonly context: HTTPConnectionContext | undefined;
  #stream: IOStream | null;
  #maxBodySize: number;
  #bodyTimeout: number | undefined;
  #writeFinished = false;
  #readFinished = false;
  #disconnectOnFinish = false;
  #closeAfterResponse = false;
  #requestStartLine: RequestStartLine | null = null;
  #requestHeaders: HTTPHeaders | null = null;
  #responseStartLine: ResponseStartLine | null = null;
  #chunkingOutput = false;
  #expectedContentRemaining: number | null = null;
  #pendingWrite: Promise<void> | null = null;
  #headersWritten = false;
  #closeCallback: (() => void) | null = null;
  #finishResolve: (() => void) | null = null;
  #finished = false;
  readonly #timer: ConnectionTimer;
  readonly #ownTimer: boolean;
  #timedOut = false;
  #requestStartTime: number | undefined = undefined;
  /** What #readMessage returned, set as it returns (see #serveRequest). */
  #outcome: boolean | undefined = undefined;

  constructor(
    stream: IOStream,
    isClient: boolean,
    params: HTTP1ConnectionParameters | ResolvedParameters = {},
    context?: HTTPConnectionContext,
    timer?: ConnectionTimer,
  ) {
    this.isClient = isClient;
    this.#stream = stream;
    this.params = params instanceof ResolvedParameters ? params : new ResolvedParameters(params);
    this.context = context;
    this.#maxBodySize = this.params.maxBodySize ?? stream.maxBufferSize;
    this.#bodyTimeout = this.params.bodyTimeout;
    // A server connection lends its one timer to each request; a lone client has its own.
    this.#ownTimer = timer === undefined;
    this.#timer = timer ?? new ConnectionTimer();
  }

  /** The stream, or null once {@link detach}ed. */
  get stream(): IOStream | null {
    return this.#stream;
  }

  /**
   * Server side: when the request's head was parsed, on performance.now()'s clock, as the
   * server's scheduler last read it in this turn of the loop (at most a few connections'
   * turns earlier, after the loop learnt of the data), so that no clock read is spent per
   * request.
   */
  get requestStartTime(): number | undefined {
    return this.#requestStartTime;
  }

  /** True on a server: a request with a missing, repeated or invalid Host is refused here. */
  get checksHost(): boolean {
    return !this.isClient;
  }

  /** The request start line (read on the server, written on the client). */
  get requestStartLine(): RequestStartLine | null {
    return this.#requestStartLine;
  }

  /**
   * Reads one message and drives `delegate` with it. On a client, call it after writing the
   * request. `first` is false for the later requests of a kept-alive server connection (their
   * wait is bounded by `idleTimeout` rather than `headerTimeout`).
   * @returns true if the connection can carry another message; false if it was closed or
   *   detached.
   */
  readResponse(delegate: HTTPMessageDelegate, first = true): Promise<boolean> {
    return this.#readMessage(this.#wrapDelegate(delegate), first, undefined);
  }

  #wrapDelegate(delegate: HTTPMessageDelegate): HTTPMessageDelegate {
    if (!this.params.decompress) return delegate;
    return new GzipMessageDelegate(delegate, this.params.chunkSize, () => this.#maxBodySize);
  }

  /**
   * Server side: arms the header (or idle) timer and starts reading a request head with
   * {@link IOStream.readUntilNow}. For HTTP1ServerConnection, through `startHeadRead`.
   * @returns the head when it is already buffered; null when `onData` or `onError` will
   *   follow; undefined in lenient mode, where #serveRequest reads the head itself.
   */
  #startHeadRead(
    first: boolean,
    onData: (data: Buffer) => void,
    onError: (error: Error) => void,
  ): Buffer | null | undefined {
    const params = this.params;
    this.#startTimer(first ? params.headerTimeout : params.idleTimeout);
    if (params.lenient) return undefined;
    return this.#stream!.readUntilNow(CRLF_CRLF, params.headReadOptions, onData, onError);
  }

  /**
   * Server side: serves one request whose head #startHeadRead read (or failed to read),
   * driving `delegate`. When the request arrived whole and the delegate answered
   * synchronously, this finishes without a Promise or a turn of the loop: the common case
   * of a keep-alive or pipelined server. For HTTP1ServerConnection, through `serveRequest`.
   * @returns what {@link readResponse} would resolve to, when the exchange is over already;
   *   undefined when it goes on, and then `done` or `failed` runs later.
   */
  #serveRequest(
    delegate: HTTPMessageDelegate,
    first: boolean,
    head: Buffer | Error | undefined,
    done: (keepGoing: boolean) => void,
    failed: (error: unknown) => void,
  ): boolean | undefined {
    // #readMessage runs synchronously up to its first await; it sets #outcome as it returns,
    // so an outcome here means it never had to wait.
    this.#outcome = undefined;
    const promise = this.#readMessage(this.#wrapDelegate(delegate), first, head);
    const outcome = this.#outcome;
    if (outcome !== undefined) return outcome;
    promise.then(done, failed);
    return undefined;
  }

  /**
   * Asks for the connection to close once the response is written (graceful shutdown). The
   * response says `Connection: close` if its headers are not written yet.
   */
  closeAfterResponse(): void {
    this.#closeAfterResponse = true;
    this.#disconnectOnFinish = true;
  }

  /** Overrides the body timeout (ms) for this message. */
  setBodyTimeout(timeout: number): void {
    this.#bodyTimeout = positive("bodyTimeout", timeout);
  }

  /** Overrides the body size limit (bytes) for this message. */
  setMaxBodySize(maxBodySize: number): void {
    this.#maxBodySize = nonNegative("maxBodySize", maxBodySize);
  }

  /**
   * Sets a callback run when the connection closes while the application is producing the
   * response (after the request was read). `HTTPMessageDelegate.onConnectionClose` covers the
   * time while the request is being read.
   */
  setCloseCallback(callback: (() => void) | null): void {
    this.#closeCallback = callback;
  }

  /** Closes the stream and ends this exchange. */
  close(): void {
    this.#stream?.close();
    this.#clearCallbacks();
    this.#resolveFinish();
  }

  /**
   * Takes the stream away from HTTP processing (WebSocket and CONNECT use this). Only valid
   * during `headersReceived`.
   * @returns the stream, now owned by the caller.
   */
  detach(): IOStream {
    const stream = this.#stream;
    if (stream === null) throw new Error("connection already detached");
    this.#clearCallbacks();
    // The new owner decides what the peer's FIN means.
    stream.setEndOfInputCallback(null);
    this.#stream = null;
    this.#resolveFinish();
    return stream;
  }

  #resolveFinish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#finishResolve?.();
  }

  #clearCallbacks(): void {
    this.#closeCallback = null;
    this.#timer.disarm();
    this.#stream?.setCloseCallback(null);
  }

  #onConnectionClose(): void {
    const callback = this.#closeCallback;
    this.#closeCallback = null;
    if (callback !== null) {
      try {
        callback();
      } catch (error) {
        appLog.error("Exception in close callback", error);
      }
    }
    this.#resolveFinish();
    this.#clearCallbacks();
  }

  // --- timers: one per connection, re-armed per phase -------------------------------------

  #startTimer(ms: number | undefined): void {
    this.#timer.arm(ms, this);
  }

  #stopTimer(): void {
    this.#timer.disarm();
  }

  /**
   * The phase's time ran out: close the stream, which fails the pending read; the read loop
   * sees `#timedOut` and ends the exchange quietly. @internal
   */
  onTimeout(): void {
    this.#timedOut = true;
    this.#stream?.close();
  }

  // --- reading ----------------------------------------------------------------------------

  /** Reads a header block; null if the stream was idle-closed or only sent blank lines. */
  async #readHead(firstTimeout: number | undefined, blanksSeen: number): Promise<ParsedHead> {
    const stream = this.#stream!;
    const params = this.params;
    this.#startTimer(blanksSeen === 0 ? firstTimeout : params.headerTimeout);
    for (let blank = blanksSeen; ; blank++) {
      let data: Buffer;
      try {
        // Strict mode reads to CRLF CRLF with a plain byte search (the common case, fast);
        // parseHead then refuses any bare CR or LF inside. A head that never has CRLF CRLF
        // (bare LF only) is refused at the size limit, or closed at the header timeout.
        // Lenient mode needs the regex to find LF LF.
        // A client scans with a regex that also stops at a bare CR or LF, so that a malformed
        // response fails at once rather than at the request timeout.
        const options = params.headReadOptions;
        if (params.lenient) data = await stream.readUntilRegex(params.headerEnd, options);
        else if (this.isClient) data = await stream.readUntilRegex(STRICT_HEADER_END, options);
        else data = await stream.readUntil(CRLF_CRLF, options);
      } catch (error) {
        if (error instanceof UnsatisfiableReadError) throw await this.#headTooLarge(error);
        throw error;
      }
      const head = parseHead(data, params, !this.isClient);
      if (head !== null) {
        this.#stopTimer();
        return head;
      }
      if (this.isClient || blank >= MAX_LEADING_EMPTY_LINES) {
        throw inputError("empty header block");
      }
      if (firstTimeout !== params.headerTimeout) this.#startTimer(params.headerTimeout);
    }
  }

  /**
   * Says why a header block ran past `maxHeaderSize`: 400 for a bare CR or LF (strict mode),
   * 414 for a request line over its own limit, else 431. The buffered bytes are looked at,
   * not answered: the connection closes after the status.
   */
  async #headTooLarge(cause: UnsatisfiableReadError): Promise<HTTPInputError> {
    const stream = this.#stream!;
    const seen = await stream.readBytes(Math.min(stream.readBufferSize, this.params.maxHeaderSize));
    const text = seen.toString("latin1");
    if (!this.params.lenient && /(?:^|[^\r])\n|\r[^\n]/.test(text)) {
      return inputError("bare CR or LF in the header block", 400, cause);
    }
    const lineEnd = text.search(/\r?\n/);
    const lineLength = lineEnd < 0 ? text.length : lineEnd;
    const status = !this.isClient && lineLength > this.params.maxRequestLineSize ? 414 : 431;
    return inputError("header block too large", status, cause);
  }

  /**
   * Reads one message and drives `delegate`. `pre` is a server's request head read already
   * (or the error reading it); undefined reads the head here. Every await is guarded, so
   * that a whole request answered synchronously completes without one (see #serveRequest);
   * each return goes through #return.
   */
  async #readMessage(
    delegate: HTTPMessageDelegate,
    first: boolean,
    pre: Buffer | Error | undefined,
  ): Promise<boolean> {
    const stream = this.#stream!;
    const params = this.params;
    let needDelegateClose = false;
    try {
      let head: ParsedHead | null = null;
      if (pre instanceof Error) {
        if (pre instanceof UnsatisfiableReadError) throw await this.#headTooLarge(pre);
        throw pre;
      }
      if (pre !== undefined) {
        head = parseHead(pre, params, !this.isClient);
        if (head !== null) this.#stopTimer();
      }
      if (head === null) {
        head = await this.#readHead(
          first ? params.headerTimeout : params.idleTimeout,
          pre === undefined ? 0 : 1,
        );
      }
      let startLine: RequestStartLine | ResponseStartLine;
      let expectContinue = false;
      let version11: boolean;
      let code = 0;
      if (this.isClient) {
        const m = STATUS_LINE_RE.exec(startLineOf(head));
        if (m === null)
          throw inputError(`malformed status line ${JSON.stringify(startLineOf(head, 64))}`);
        code = Number(m[2]);
        version11 = m[1] !== "0";
        startLine = new ResponseStartLine(`HTTP/1.${m[1]}`, code, m[3] ?? "");
        this.#responseStartLine = startLine;
      } else {
        const request = parseRequestLine(head.text, head.start, head.startEnd);
        if (request === null)
          throw inputError(`malformed request line ${JSON.stringify(startLineOf(head, 64))}`);
        version11 = request.version === "HTTP/1.1";
        startLine = request;
        this.#requestStartLine = request;
        this.#requestHeaders = head.headers;
        this.#requestStartTime = scheduler.now();
        this.#checkHost(head.headers, version11);
      }
      const headers = head.headers;
      // Framing first: a message whose body cannot be delimited is refused before any delegate.
      const chunked = isChunked(headers, version11);
      const contentLength = chunked ? null : parseContentLength(headers);
      if (!this.isClient) {
        this.#disconnectOnFinish =
          this.#closeAfterResponse ||
          !this.#canKeepAlive(startLine as RequestStartLine, headers, chunked, contentLength);
        // RFC 9110 §10.1.1: an expectation in an HTTP/1.0 request is ignored; 100-continue is
        // the only one defined, and any other gets 417.
        expectContinue = version11 && this.#checkExpect(headers);
      } else {
        // Responses to HEAD and 1xx/204/304 have no body; TE/CL on them is handled below.
        this.#disconnectOnFinish = hasConnectionToken(headers, "close") || !version11;
      }

      needDelegateClose = true;
      const headersDone = delegate.headersReceived(startLine, headers);
      if (headersDone !== undefined) await headersDone;
      if (this.#stream === null) {
        // Detached (WebSocket upgrade, CONNECT): the stream belongs to someone else now.
        needDelegateClose = false;
        return this.#return(false);
      }

      let skipBody = false;
      if (this.isClient) {
        if (this.#requestStartLine?.method === "HEAD" || code === 304) skipBody = true;
        if (code >= 100 && code < 200) {
          if (headers.has("Content-Length") || headers.has("Transfer-Encoding")) {
            throw inputError(`response code ${code} cannot have a body`);
          }
          // An interim response: the real one follows on the same stream.
          needDelegateClose = false;
          return this.#return(await this.#readMessage(delegate, false, undefined));
        }
        if (code === 204 && (chunked || (contentLength !== null && contentLength !== 0))) {
          throw inputError(`response with code ${code} should not have a body`);
        }
      } else if (contentLength !== null && contentLength > this.#maxBodySize) {
        // After headersReceived, so a streaming delegate can raise the limit for this request;
        // before any 100 Continue, so the client never sends a body that will be refused.
        throw inputError("Content-Length too long", 413);
      } else if (expectContinue && !this.#writeFinished && !this.#headersWritten && version11) {
        await stream.write(CONTINUE_RESPONSE);
      }

      if (!skipBody) {
        this.#startTimer(this.#bodyTimeout);
        if (chunked) await this.#readChunkedBody(delegate);
        else if (contentLength !== null) {
          if (this.isClient && contentLength > this.#maxBodySize) {
            throw inputError("Content-Length too long", 413);
          }
          if (contentLength > 0 && !(this.isClient && code === 204)) {
            const reading = this.#readFixedBody(contentLength, delegate);
            if (reading !== undefined) await reading;
          }
        } else if (this.isClient && code !== 204) {
          await this.#readBodyUntilClose(delegate);
        }
        this.#stopTimer();
      }
      this.#readFinished = true;
      if (!this.#writeFinished || this.isClient) {
        needDelegateClose = false;
        const finished = delegate.finish();
        if (finished !== undefined) await finished;
      }
      // The application may still be producing the response: watch for the peer leaving.
      if (!this.#finished && this.#stream !== null && !this.#stream.closed()) {
        this.#stream.setCloseCallback(() => this.#onConnectionClose());
        // The peer ended its side while this request waited for its turn: it has left, as
        // far as the application can tell (Tornado closes at the FIN), and is told so.
        if (this.#stream.inputEnded) this.#stream.close();
        await new Promise<void>((resolve) => {
          this.#finishResolve = resolve;
        });
      }
      if (this.isClient && this.#disconnectOnFinish) this.close();
      return this.#return(this.#stream !== null && !this.#stream.closed());
    } catch (error) {
      if (this.#timedOut) {
        if (this.#readFinished || needDelegateClose)
          genLog.info("Timeout reading body from %s", String(this.context));
        this.close();
        return this.#return(false);
      }
      if (error instanceof HTTPInputError) {
        const status = error.status;
        genLog.info("Malformed HTTP message from %s: %s", String(this.context), error.message);
        if (
          !this.isClient &&
          !this.#headersWritten &&
          this.#stream !== null &&
          !this.#stream.closed()
        ) {
          // Say why, then close: framing is in doubt, so nothing more is read.
          this.#headersWritten = true;
          try {
            await this.#stream.write(
              Buffer.from(
                `HTTP/1.1 ${status} ${responses[status] ?? "Bad Request"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
                "latin1",
              ),
            );
          } catch {
            // The peer is gone; nothing to tell it.
          }
        }
        this.close();
        if (this.isClient) throw error;
        return this.#return(false);
      }
      throw error;
    } finally {
      if (this.#ownTimer) this.#timer.dispose();
      else this.#stopTimer();
      if (needDelegateClose) {
        try {
          delegate.onConnectionClose();
        } catch (error) {
          appLog.error("Exception in onConnectionClose", error);
        }
      }
      this.#clearCallbacks();
    }
  }

  static {
    // HTTP1ServerConnection (below) drives the server side through these: module-private,
    // so they are not part of the class's API.
    startHeadRead = (connection, first, onData, onError) =>
      connection.#startHeadRead(first, onData, onError);
    serveRequest = (connection, delegate, first, head, done, failed) =>
      connection.#serveRequest(delegate, first, head, done, failed);
  }

  #return(outcome: boolean): boolean {
    this.#outcome = outcome;
    return outcome;
  }

  /** True for `Expect: 100-continue` (listed once or more); 417 for any other expectation. */
  #checkExpect(headers: HTTPHeaders): boolean {
    const values = fieldValues(headers, "Expect");
    if (values.length === 0) return false;
    for (const value of values) {
      for (const item of value.split(",")) {
        if (trimOws(item).toLowerCase() !== "100-continue") {
          throw inputError(`unsupported expectation ${JSON.stringify(value)}`, 417);
        }
      }
    }
    return true;
  }

  #checkHost(headers: HTTPHeaders, version11: boolean): void {
    const hosts = fieldValues(headers, "Host");
    if (hosts.length > 1) throw inputError("multiple Host headers");
    if (hosts.length === 0) {
      if (version11) throw inputError("missing Host header");
      return;
    }
    if (!isValidHostHeader(hosts[0]!)) throw inputError("invalid Host header");
  }

  #canKeepAlive(
    startLine: RequestStartLine,
    headers: HTTPHeaders,
    chunked: boolean,
    contentLength: number | null,
  ): boolean {
    if (this.params.noKeepAlive) return false;
    if (startLine.version === "HTTP/1.1") return !hasConnectionToken(headers, "close");
    if (
      contentLength !== null ||
      chunked ||
      startLine.method === "HEAD" ||
      startLine.method === "GET"
    ) {
      return hasConnectionToken(headers, "keep-alive");
    }
    return false;
  }

  /** Hands body bytes to the delegate, unless the response is already finished. */
  #deliver(delegate: HTTPMessageDelegate, chunk: Buffer): void | Promise<void> {
    if (this.#writeFinished && !this.isClient) return undefined;
    return delegate.dataReceived(chunk);
  }

  /**
   * Reads a body of `contentLength` bytes: synchronously while it is buffered and the
   * delegate takes it synchronously (undefined then), else a Promise for the rest.
   */
  #readFixedBody(contentLength: number, delegate: HTTPMessageDelegate): Promise<void> | undefined {
    const stream = this.#stream!;
    const chunkSize = this.params.chunkSize;
    while (contentLength > 0) {
      const body = stream.readBytesNow(Math.min(chunkSize, contentLength), PARTIAL);
      if (body === null) return this.#readFixedBodyAsync(contentLength, delegate, undefined);
      contentLength -= body.length;
      const delivered = this.#deliver(delegate, body);
      if (delivered !== undefined) {
        return this.#readFixedBodyAsync(contentLength, delegate, delivered);
      }
    }
    return undefined;
  }

  async #readFixedBodyAsync(
    contentLength: number,
    delegate: HTTPMessageDelegate,
    delivering: Promise<void> | undefined,
  ): Promise<void> {
    if (delivering !== undefined) await delivering;
    const stream = this.#stream!;
    const chunkSize = this.params.chunkSize;
    while (contentLength > 0) {
      const body = await stream.readBytes(Math.min(chunkSize, contentLength), PARTIAL);
      contentLength -= body.length;
      const delivered = this.#deliver(delegate, body);
      if (delivered !== undefined) await delivered;
    }
  }

  /** Reads a line for chunked framing (size line or trailer), strict about its end. */
  async #readChunkLine(maxBytes: number): Promise<string> {
    const stream = this.#stream!;
    let data: Buffer;
    try {
      data = await stream.readUntil(this.params.lenient ? "\n" : "\r\n", {
        maxBytes,
        closeOnMaxBytes: false,
      });
    } catch (error) {
      if (error instanceof UnsatisfiableReadError)
        throw inputError("chunk line too long", 400, error);
      throw error;
    }
    const line = data.toString("latin1", 0, data.length - (data[data.length - 2] === 13 ? 2 : 1));
    if (line.includes("\r") || line.includes("\n"))
      throw inputError("bare CR or LF in a chunk line");
    return line;
  }

  async #readChunkedBody(delegate: HTTPMessageDelegate): Promise<void> {
    const stream = this.#stream!;
    const chunkSize = this.params.chunkSize;
    let total = 0;
    for (;;) {
      const line = await this.#readChunkLine(MAX_CHUNK_LINE);
      const m = CHUNK_SIZE_RE.exec(line);
      if (m === null) throw inputError("invalid chunk size");
      const size = Number.parseInt(m[1]!, 16);
      if (!Number.isSafeInteger(size)) throw inputError("invalid chunk size");
      if (size === 0) {
        await this.#readTrailers();
        return;
      }
      total += size;
      if (total > this.#maxBodySize) throw inputError("chunked body too large", 413);
      if (!this.params.lenient && size + 2 <= chunkSize && stream.readBufferSize >= size + 2) {
        // Fast path for small chunks already buffered: data and CRLF in one read.
        const piece = await stream.readBytes(size + 2);
        if (piece[size] !== 13 || piece[size + 1] !== 10) {
          throw inputError("chunk data longer than its declared size");
        }
        await this.#deliver(delegate, piece.subarray(0, size));
        continue;
      }
      let remaining = size;
      while (remaining > 0) {
        const piece = await stream.readBytes(Math.min(remaining, chunkSize), { partial: true });
        remaining -= piece.length;
        await this.#deliver(delegate, piece);
      }
      // The chunk's data must be followed by its line end: CRLF (or LF when lenient).
      let byte = (await stream.readBytes(1))[0];
      if (byte === 13) byte = (await stream.readBytes(1))[0];
      else if (!this.params.lenient) byte = -1;
      if (byte !== 10) throw inputError("chunk data longer than its declared size");
    }
  }

  /** Reads and drops trailer fields (capped in count and bytes); they never change framing. */
  async #readTrailers(): Promise<void> {
    let bytes = 0;
    for (let count = 0; ; count++) {
      const line = await this.#readChunkLine(this.params.maxHeaderSize);
      if (line.length === 0) return;
      bytes += line.length + 2;
      if (count >= this.params.maxHeaderCount || bytes > this.params.maxHeaderSize) {
        throw inputError("trailers too large", 431);
      }
      const colon = line.indexOf(":");
      if (
        colon <= 0 ||
        !isToken(line.slice(0, colon)) ||
        BAD_VALUE_RE.test(trimOws(line.slice(colon + 1)))
      ) {
        throw inputError("malformed trailer line");
      }
    }
  }

  async #readBodyUntilClose(delegate: HTTPMessageDelegate): Promise<void> {
    const body = await this.#stream!.readUntilClose();
    if (body.length > this.#maxBodySize) throw inputError("body too large", 413);
    await this.#deliver(delegate, body);
  }

  // --- writing ----------------------------------------------------------------------------

  /**
   * Writes the start line and headers, and optionally the first piece of body. On a server,
   * chunked encoding is chosen when the response has a body and no `Content-Length`.
   * @throws {@link HTTPOutputError} (synchronously) for a CR, LF or NUL in a name or value or
   *   an invalid header name: nothing is written.
   * @returns a Promise resolved when the data is handed to the kernel.
   */
  writeHeaders(
    startLine: RequestStartLine | ResponseStartLine,
    headers: HTTPHeaders,
    chunk?: Buffer | Uint8Array | string,
  ): Promise<void> {
    // The framing fields, looked up by their canonical names.
    const lengths = fieldValues(headers, "Content-Length");
    // Repeated values join (and then fail the check below), as get() would give them.
    const contentLength =
      lengths.length === 0 ? undefined : lengths.length === 1 ? lengths[0] : lengths.join(",");
    const framed =
      contentLength !== undefined || fieldValues(headers, "Transfer-Encoding").length > 0;
    let head: string;
    if (this.isClient) {
      const request = startLine as RequestStartLine;
      this.#requestStartLine = request;
      if (!isToken(request.method))
        throw new HTTPOutputError(`invalid method ${JSON.stringify(request.method)}`);
      if (/[\x00-\x20\x7f\u0100-\uffff]/.test(request.path))
        throw new HTTPOutputError("invalid character in request target");
      head = `${request.method} ${request.path} HTTP/1.1\r\n`;
      this.#chunkingOutput =
        (request.method === "POST" || request.method === "PUT" || request.method === "PATCH") &&
        !framed;
    } else {
      const response = startLine as ResponseStartLine;
      const request = this.#requestStartLine;
      if (request === null) throw new HTTPOutputError("writeHeaders before a request was read");
      this.#responseStartLine = response;
      const code = response.code;
      if (!Number.isInteger(code) || code < 100 || code > 999) {
        throw new HTTPOutputError(`invalid status code ${code}`);
      }
      const reason = response.reason;
      if (reason !== "OK" && /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/.test(reason))
        throw new HTTPOutputError("invalid character in reason");
      head =
        code === 200 && reason === "OK" ? "HTTP/1.1 200 OK\r\n" : `HTTP/1.1 ${code} ${reason}\r\n`;
      const version11 = request.version === "HTTP/1.1";
      this.#chunkingOutput =
        version11 &&
        request.method !== "HEAD" &&
        code !== 204 &&
        code !== 304 &&
        (code < 100 || code >= 200) &&
        !framed;
      if (version11 && this.#disconnectOnFinish) headers.set("Connection", "close");
      if (
        !version11 &&
        !this.#disconnectOnFinish &&
        this.#requestHeaders !== null &&
        hasConnectionToken(this.#requestHeaders, "keep-alive")
      ) {
        headers.set("Connection", "Keep-Alive");
      }
    }
    if (this.#chunkingOutput) headers.set("Transfer-Encoding", "chunked");
    const code = this.#responseStartLine?.code ?? 0;
    if (!this.isClient && (this.#requestStartLine!.method === "HEAD" || code === 304)) {
      this.#expectedContentRemaining = 0;
    } else if (contentLength !== undefined) {
      if (!isDigits(contentLength))
        throw new HTTPOutputError(`invalid Content-Length ${JSON.stringify(contentLength)}`);
      this.#expectedContentRemaining = Number(contentLength);
    } else {
      this.#expectedContentRemaining = null;
    }
    head += fieldLines(headers);
    this.#headersWritten = true;
    const stream = this.#stream;
    if (stream === null || stream.closed()) return closedWrite();
    const body = chunk === undefined ? undefined : toBuffer(chunk);
    if (body === undefined || body.length === 0) return this.#write(head);
    this.#countBody(body);
    if (this.#chunkingOutput) head += `${body.length.toString(16)}\r\n`;
    let pending: Promise<void>;
    if (body.length <= SMALL_BODY) {
      // One latin1 string for head and body: no Buffer to make, and the socket writes a
      // short string from its own storage. Latin1 maps each byte to one character and back.
      head += latin1(body);
      pending = this.#write(this.#chunkingOutput ? `${head}\r\n` : head);
    } else {
      // Head and body as two writes of one batch: one writev, the body not copied.
      this.#write(head).catch(ignore);
      pending = this.#write(body);
      if (this.#chunkingOutput) pending = this.#write(CRLF);
    }
    return pending;
  }

  /** Writes bytes, or a string of latin1 characters (one byte each). */
  #write(data: Buffer | string): Promise<void> {
    const pending =
      typeof data === "string" ? this.#stream!.write(data, "latin1") : this.#stream!.write(data);
    this.#pendingWrite = pending;
    return pending;
  }

  /** Counts a body piece against Content-Length; writing past it closes the stream. */
  #countBody(chunk: Buffer): void {
    if (this.#expectedContentRemaining !== null) {
      this.#expectedContentRemaining -= chunk.length;
      if (this.#expectedContentRemaining < 0) {
        // Close now: whatever follows would be read as the next message.
        this.#stream?.close();
        throw new HTTPOutputError("Tried to write more data than Content-Length");
      }
    }
  }

  /** Frames a body piece (chunked if needed) and checks it against Content-Length. */
  #formatChunk(chunk: Buffer): Buffer[] {
    this.#countBody(chunk);
    if (this.#chunkingOutput && chunk.length > 0) {
      // An empty chunk would mean end-of-body, so empty writes send nothing.
      return [Buffer.from(`${chunk.length.toString(16)}\r\n`, "latin1"), chunk, CRLF];
    }
    return [chunk];
  }

  /**
   * Writes a piece of body.
   * @throws {@link HTTPOutputError} when it goes past `Content-Length` (the stream is closed).
   * @returns a Promise resolved when the data is handed to the kernel.
   */
  write(chunk: Buffer | Uint8Array | string): Promise<void> {
    const stream = this.#stream;
    if (stream === null || stream.closed()) return closedWrite();
    const framed = this.#formatChunk(toBuffer(chunk));
    if (framed.length === 1) {
      if (framed[0]!.length === 0) return Promise.resolve();
      return this.#write(framed[0]!);
    }
    return this.#write(Buffer.concat(framed));
  }

  /**
   * Ends the message being written.
   * @throws {@link HTTPOutputError} if fewer bytes than `Content-Length` were written (the
   *   stream is closed).
   */
  finish(): void {
    const stream = this.#stream;
    if (
      this.#expectedContentRemaining !== null &&
      this.#expectedContentRemaining !== 0 &&
      stream !== null &&
      !stream.closed()
    ) {
      const missing = this.#expectedContentRemaining;
      stream.close();
      throw new HTTPOutputError(`Tried to write ${missing} bytes less than Content-Length`);
    }
    if (this.#chunkingOutput && stream !== null && !stream.closed())
      this.#write(LAST_CHUNK).catch(ignore);
    this.#writeFinished = true;
    // Finishing while the request is still being read: the only way to skip the rest of the
    // body is to close the connection once the response is out.
    if (!this.#readFinished) this.#disconnectOnFinish = true;
    // The next request is read at once unless much of this response is still waiting for the
    // kernel: backpressure without a wait per request, so pipelined responses share writes.
    const pending = this.#pendingWrite;
    if (pending === null || stream === null || stream.writeBufferSize < WRITE_HIGH_WATER_MARK) {
      this.#finishRequest();
    } else if (stream.inputEnded) {
      // The peer has ended its side: no waiting for it to read (it may never), close once
      // what is written is flushed, within the stream's linger bound, as at its FIN.
      this.#disconnectOnFinish = true;
      this.#finishRequest();
    } else {
      const finishRequest = () => this.#finishRequest();
      pending.then(finishRequest, finishRequest);
    }
  }

  #finishRequest(): void {
    this.#clearCallbacks();
    if (!this.isClient && this.#disconnectOnFinish) {
      this.close();
      return;
    }
    this.#resolveFinish();
  }

  /** True once `finish()` was called. */
  get writeFinished(): boolean {
    return this.#writeFinished;
  }
}

function ignore(): void {}

/**
 * A write on a closed connection: rejected with StreamClosedError, and marked handled, as the
 * stream's own writes are, so that an application that does not await it (the peer left
 * before the response) raises no unhandled rejection.
 */
function closedWrite(): Promise<void> {
  const promise = Promise.reject(new StreamClosedError());
  promise.catch(ignore);
  return promise;
}

/**
 * Wraps a delegate to decode `Content-Encoding: gzip` bodies, counting decoded bytes against
 * the body limit (a compression bomb stops at the limit, inflating no further).
 */
class GzipMessageDelegate implements HTTPMessageDelegate {
  readonly #delegate: HTTPMessageDelegate;
  readonly #chunkSize: number;
  readonly #maxBodySize: () => number;
  #decompressor: GzipDecompressor | null = null;
  #decoded = 0;

  constructor(delegate: HTTPMessageDelegate, chunkSize: number, maxBodySize: () => number) {
    this.#delegate = delegate;
    this.#chunkSize = chunkSize;
    this.#maxBodySize = maxBodySize;
  }

  headersReceived(
    startLine: RequestStartLine | ResponseStartLine,
    headers: HTTPHeaders,
  ): void | Promise<void> {
    const encoding = headers.get("Content-Encoding");
    if (encoding !== undefined && encoding.toLowerCase() === "gzip") {
      this.#decompressor = new GzipDecompressor();
      // Downstream sees decoded data, so the header moves aside (as Tornado does).
      headers.add("X-Consumed-Content-Encoding", encoding);
      headers.delete("Content-Encoding");
    }
    return this.#delegate.headersReceived(startLine, headers);
  }

  async dataReceived(chunk: Buffer): Promise<void> {
    const decompressor = this.#decompressor;
    if (decompressor === null) {
      const done = this.#delegate.dataReceived(chunk);
      if (done !== undefined) await done;
      return;
    }
    let input: Buffer = chunk;
    while (input.length > 0) {
      let decoded: Buffer;
      try {
        decoded = decompressor.decompress(input, this.#chunkSize);
      } catch (error) {
        throw inputError("invalid gzip data", 400, error);
      }
      if (decoded.length > 0) {
        this.#decoded += decoded.length;
        if (this.#decoded > this.#maxBodySize())
          throw inputError("decompressed body too large", 413);
        const done = this.#delegate.dataReceived(decoded);
        if (done !== undefined) await done;
      }
      input = decompressor.unconsumedTail;
      if (input.length > 0 && decoded.length === 0) {
        throw inputError("unconsumed gzip data without progress");
      }
    }
  }

  finish(): void | Promise<void> {
    if (this.#decompressor !== null) {
      let tail: Buffer;
      try {
        tail = this.#decompressor.flush();
      } catch (error) {
        throw inputError("truncated gzip data", 400, error);
      }
      if (tail.length > 0) throw inputError("truncated gzip data");
    }
    return this.#delegate.finish();
  }

  onConnectionClose(): void {
    this.#delegate.onConnectionClose();
  }
}

/** Requests one connection may serve in a row once admitted (pipelined ones share writes). */
const REQUESTS_PER_TURN = 16;
/**
 * Time, in ms, a turn of the loop may spend starting connections' turns before the others
 * queue for the next (served from setImmediate, first come first served): short while
 * connections are arriving (more may wait to be accepted, one per turn of the loop), longer
 * once none arrived for {@link ARRIVALS_WINDOW_MS}, when queueing would only cost time.
 */
const LOOP_TURN_BUDGET_MS = 0.5;
const SETTLED_LOOP_TURN_BUDGET_MS = 4;
const ARRIVALS_WINDOW_MS = 1000;

/**
 * Spreads the loop's time over connections: each turn of the event loop starts connections'
 * turns (up to {@link REQUESTS_PER_TURN} requests each) for a time budget; the
 * rest queue, first come first served, and are served from a `setImmediate`, so every turn of
 * the loop stays short. That matters beyond fairness between connections: Node accepts one new
 * connection per turn of the loop, so with a thousand busy connections a long turn (all of
 * them served at once) leaves new connections waiting in the kernel's accept queue for
 * seconds. One per process.
 */
class RequestScheduler {
  /** When the first turn of this turn of the loop started (0: none yet). */
  #since = 0;
  /** The budget of this turn of the loop, in ms. */
  #budget = LOOP_TURN_BUDGET_MS;
  /** When a connection last arrived. */
  #lastArrival = 0;
  /** Turns started in this turn of the loop; the clock is read every few. */
  #started = 0;
  /** The clock as last read in this turn of the loop (see now()). */
  #latest = 0;
  #queue: (() => void)[] = [];
  #head = 0;
  #scheduled = false;
  readonly #drain = (): void => this.#runQueued();

  /** True if a new turn may start now; false if it must queue. */
  admit(): boolean {
    if (this.#head < this.#queue.length) return false;
    if (this.#since === 0) {
      const now = performance.now();
      this.#since = now;
      this.#latest = now;
      this.#budget =
        now - this.#lastArrival < ARRIVALS_WINDOW_MS
          ? LOOP_TURN_BUDGET_MS
          : SETTLED_LOOP_TURN_BUDGET_MS;
      this.#started = 1;
      this.#schedule();
      return true;
    }
    // A clock read costs as much as a small part of a request: look every fourth turn.
    if ((++this.#started & 3) !== 0) return true;
    const now = performance.now();
    this.#latest = now;
    return now - this.#since < this.#budget;
  }

  /**
   * performance.now(), or within a turn of the loop that started connections' turns, the
   * clock as the scheduler last read it (at most a few turns ago): for connection timers,
   * which then cost no clock read per request. Such a deadline may come early by the time
   * those few turns took; timeouts are in seconds, as coarse as node:http's.
   */
  now(): number {
    return this.#since === 0 ? performance.now() : this.#latest;
  }

  /** A connection arrived: keep turns of the loop short for a while. */
  noteArrival(): void {
    this.#lastArrival = performance.now();
    this.#budget = LOOP_TURN_BUDGET_MS;
  }

  /** Queues a turn; `resume` runs when it is admitted. */
  defer(resume: () => void): void {
    this.#queue.push(resume);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#drain);
  }

  #runQueued(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    const since = performance.now();
    // Turns resumed here see this clock in now().
    this.#since = since;
    this.#latest = since;
    const budget =
      since - this.#lastArrival < ARRIVALS_WINDOW_MS
        ? LOOP_TURN_BUDGET_MS
        : SETTLED_LOOP_TURN_BUDGET_MS;
    // The clock is read every fourth turn, as in admit().
    let served = 0;
    while (this.#head < queue.length) {
      if ((++served & 3) === 0) {
        const now = performance.now();
        this.#latest = now;
        if (now - since >= budget) break;
      }
      const resume = queue[this.#head]!;
      queue[this.#head++] = ignore;
      try {
        resume();
      } catch (error) {
        genLog.error("Uncaught exception", error);
      }
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
    // The next turn of the loop starts with a fresh allowance.
    this.#since = 0;
    if (this.#head < queue.length) this.#schedule();
  }
}

const scheduler = new RequestScheduler();

/**
 * The server side of an HTTP/1.x connection: reads requests one at a time and hands each to
 * the {@link HTTPServerConnectionDelegate} (an `HTTPServer`, an `Application`, a router).
 *
 * The loop is driven by callbacks, not a Promise per request: a request that is already
 * buffered, answered synchronously by its delegate, is followed at once by the next one, up
 * to {@link REQUESTS_PER_TURN} in a row; then, or when too many connections want the loop
 * at once, it queues for a later turn of the loop (see {@link RequestScheduler}).
 */
export class HTTP1ServerConnection {
  readonly stream: IOStream;
  readonly params: ResolvedParameters;
  readonly context: HTTPConnectionContext | undefined;
  #serving: Promise<void> | null = null;
  #servingResolve: () => void = ignore;
  #delegate: HTTPServerConnectionDelegate | null = null;
  #current: HTTP1Connection | null = null;
  #requestDelegate: HTTPMessageDelegate | null = null;
  #first = true;
  /** Requests this connection may still serve in its current turn. */
  #turnLeft = 0;
  /** A head read while the connection waited for its turn; `undefined` when none. */
  #queuedHead: Buffer | undefined = undefined;
  /** True while the connection waits in the scheduler's queue. */
  #queued = false;
  #closing = false;
  #ended = false;
  readonly #timer = new ConnectionTimer();
  // Bound once: the head read's callbacks, the async exchange's outcome, the next turn.
  readonly #onHead: (data: Buffer) => void;
  readonly #onHeadError: (error: Error) => void;
  readonly #onDone: (keepGoing: boolean) => void;
  readonly #onFailed: (error: unknown) => void;
  readonly #resume: () => void;

  constructor(
    stream: IOStream,
    params: HTTP1ConnectionParameters | ResolvedParameters = {},
    context?: HTTPConnectionContext,
  ) {
    this.stream = stream;
    this.params = params instanceof ResolvedParameters ? params : new ResolvedParameters(params);
    this.context = context;
    this.#onHead = (data) => this.#serveHead(data);
    this.#onHeadError = (error) => this.#serveHead(error);
    this.#onDone = (keepGoing) => this.#next(keepGoing, false);
    this.#onFailed = (error) => this.#fail(error);
    this.#resume = () => this.#resumeTurn();
  }

  /** Closes the connection; resolves once the serving loop has ended. */
  async close(): Promise<void> {
    this.stream.close();
    await this.#serving;
  }

  /**
   * Graceful close: closes the connection now if it is waiting for a request with nothing
   * received, else after the response in progress.
   */
  closeWhenIdle(): void {
    this.#closing = true;
    const current = this.#current;
    if (
      current === null ||
      (current.requestStartLine === null && this.stream.readBufferSize === 0 && !this.#queued)
    ) {
      this.stream.close();
    } else {
      current.closeAfterResponse();
    }
  }

  /** Starts the request loop. */
  startServing(delegate: HTTPServerConnectionDelegate): void {
    if (this.#delegate !== null) throw new Error("already serving");
    scheduler.noteArrival();
    this.#delegate = delegate;
    this.stream.setEndOfInputCallback(() => this.#onEndOfInput());
    this.#serving = new Promise<void>((resolve) => {
      this.#servingResolve = resolve;
    });
    this.#run();
  }

  /**
   * Serves requests while they are buffered and answered synchronously. The stream is corked
   * meanwhile, so the responses of a run go out in one write when it ends.
   */
  #run(): void {
    this.stream.cork();
    try {
      this.#serveRun();
    } finally {
      this.stream.uncork();
    }
  }

  #serveRun(): void {
    for (;;) {
      if (this.#ended) return;
      if (this.#closing) {
        this.stream.close();
        this.#end();
        return;
      }
      const connection = new HTTP1Connection(
        this.stream,
        false,
        this.params,
        this.context,
        this.#timer,
      );
      this.#current = connection;
      let head: Buffer | null | undefined;
      try {
        this.#requestDelegate = this.#delegate!.startRequest(this, connection);
        head = startHeadRead(connection, this.#first, this.#onHead, this.#onHeadError);
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (head === null) {
        // #onHead or #onHeadError goes on; waiting ends the turn.
        this.#turnLeft = 0;
        return;
      }
      if (!this.#mayServe(head)) return;
      const outcome = this.#serveRequest(connection, head);
      if (outcome === undefined) return; // #onDone or #onFailed goes on
      if (!outcome) {
        this.#end();
        return;
      }
      this.#first = false;
    }
  }

  /**
   * Takes one request of the current turn, or starts a turn if the scheduler admits one;
   * otherwise queues the connection with `head` kept, and returns false. Failed reads are
   * never queued: they only close the connection.
   */
  #mayServe(head: Buffer | Error | undefined): boolean {
    if (head instanceof Error) return true;
    if (this.#turnLeft > 0) {
      this.#turnLeft--;
      return true;
    }
    if (scheduler.admit()) {
      this.#turnLeft = REQUESTS_PER_TURN - 1;
      return true;
    }
    // The head may be a view of the socket's reused read buffer (readUntilNow): keep a copy.
    this.#queuedHead = head === undefined ? undefined : Buffer.from(head);
    this.#queued = true;
    scheduler.defer(this.#resume);
    return false;
  }

  /**
   * The peer ended its side. A connection waiting for its turn in the scheduler's queue keeps
   * the stream open (true) and answers the requests it has read, in its turns, as it would
   * have without the wait; the stream closes when the next head read finds the buffer empty,
   * or when an exchange would wait (for the application, or for the peer to read). Otherwise
   * (waiting for a request, or for the application) it closes now, as in Tornado.
   */
  #onEndOfInput(): boolean {
    return this.#queued;
  }

  /** The scheduler admitted this connection's turn: serve the queued request, go on. */
  #resumeTurn(): void {
    if (this.#ended || !this.#queued) return;
    this.#queued = false;
    if (this.stream.closed()) {
      // Closed while queued (a reset, a server shutdown): nothing read can be answered, so
      // nothing is handed to the application.
      this.#end();
      return;
    }
    const connection = this.#current!;
    const head = this.#queuedHead;
    this.#queuedHead = undefined;
    this.#turnLeft = REQUESTS_PER_TURN - 1;
    this.stream.cork();
    try {
      const outcome = this.#serveRequest(connection, head);
      if (outcome !== undefined) this.#next(outcome, true);
    } finally {
      this.stream.uncork();
    }
  }

  /** The head arrived (or its read failed) after a wait. */
  #serveHead(head: Buffer | Error): void {
    this.stream.cork();
    try {
      this.#serveWaitedHead(head);
    } finally {
      this.stream.uncork();
    }
  }

  #serveWaitedHead(head: Buffer | Error): void {
    const connection = this.#current;
    if (connection === null || this.#ended) return;
    if (!this.#mayServe(head)) return;
    const outcome = this.#serveRequest(connection, head);
    if (outcome !== undefined) this.#next(outcome, true);
  }

  /**
   * Serves the current request from its head (see HTTP1Connection's #serveRequest).
   * @returns whether to go on, when the exchange is over; undefined when #onDone or
   *   #onFailed goes on later, or it failed here.
   */
  #serveRequest(
    connection: HTTP1Connection,
    head: Buffer | Error | undefined,
  ): boolean | undefined {
    try {
      return serveRequest(
        connection,
        this.#requestDelegate!,
        this.#first,
        head,
        this.#onDone,
        this.#onFailed,
      );
    } catch (error) {
      this.#fail(error);
      return undefined;
    }
  }

  /**
   * One exchange is over: serve the next request, or end. `inTurn` is false when the
   * exchange had to wait (for the application, or a body): its turn ended then.
   */
  #next(keepGoing: boolean, inTurn: boolean): void {
    if (!keepGoing) {
      this.#end();
      return;
    }
    this.#first = false;
    if (!inTurn) this.#turnLeft = 0;
    this.#run();
  }

  #fail(error: unknown): void {
    if (!isQuietStreamError(error)) {
      genLog.error("Uncaught exception", error);
      this.#current?.close();
    }
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#timer.dispose();
    this.stream.setEndOfInputCallback(null);
    try {
      this.#delegate!.onClose(this);
    } catch (error) {
      appLog.error("Exception in onClose", error);
    }
    this.#servingResolve();
  }
}
