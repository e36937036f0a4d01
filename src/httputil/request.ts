// HTTPServerRequest and the interfaces between connections, servers and applications
// (HTTPServerConnectionDelegate, HTTPMessageDelegate, HTTPConnection).

import { performance } from "node:perf_hooks";
import { type PeerCertificate, TLSSocket } from "node:tls";
import { inspect } from "node:util";
import { type ArgumentMap, type FileMap, parseBodyArguments } from "./body.js";
import { parseCookie } from "./cookies.js";
import { HTTPInputError, quoteForMessage } from "./errors.js";
import { HTTPHeaders } from "./headers.js";
import { qsParseKeepBlank, splitHostAndPort } from "./misc.js";
import type { RequestStartLine, ResponseStartLine } from "./startline.js";

/**
 * Per-connection facts an {@link HTTPConnection} exposes to the request it carries. With
 * `xheaders`, `HTTPServer` rewrites them from `X-Forwarded-For` / `X-Scheme` before the
 * request is built.
 */
export interface HTTPConnectionContext {
  /** The peer's IP address; `"0.0.0.0"` for non-IP sockets (Unix); null when unknown. */
  remoteIp: string | null;
  /** `"http"` or `"https"`. */
  protocol: string;
}

/**
 * What applications write a response (or, in a client, a request) through: one
 * request/response exchange on a connection. `HTTP1Connection` implements it.
 */
export interface HTTPConnection {
  /**
   * Writes the start line and header block, and optionally the first chunk of the body in
   * the same write (a small response in one packet).
   * @param startLine - a `ResponseStartLine` on a server, a `RequestStartLine` in a client;
   *   its `version` is ignored (HTTP/1.1 is written).
   * @param headers - written in `getAll()` order; the connection may add framing headers
   *   (`Transfer-Encoding`, `Connection`).
   * @returns a Promise resolved when the data is flushed to the socket (flow control);
   *   rejected with `StreamClosedError` if the connection closed.
   */
  writeHeaders(
    startLine: RequestStartLine | ResponseStartLine,
    headers: HTTPHeaders,
    chunk?: Buffer,
  ): Promise<void>;
  /**
   * Writes a chunk of body data (chunked framing when no Content-Length was given).
   * @returns a Promise resolved when flushed (flow control).
   */
  write(chunk: Buffer): Promise<void>;
  /** Marks the end of the body: writes the last chunk if chunked, and ends the exchange. */
  finish(): void;
  /** Facts about the underlying connection (peer address, protocol), when known. */
  readonly context?: HTTPConnectionContext;
  /**
   * When the request being read arrived, on `performance.now()`'s clock, if the connection
   * tracks it (`HTTPServerRequest` starts its `requestTime()` there; else it reads the clock).
   */
  readonly requestStartTime?: number;
  /**
   * True if the connection refuses, before any delegate sees it, a request whose `Host` is
   * missing (HTTP/1.1), repeated or invalid, as `HTTPServerRequest` would: the request then
   * does not check it again. The HTTP/1 server's connections do.
   */
  readonly checksHost?: boolean;
}

/**
 * Receives one HTTP message (a request on a server, a response in a client) as
 * `HTTP1Connection` reads it: `headersReceived` once, `dataReceived` for each body chunk,
 * then exactly one of `finish` (the message is complete) or `onConnectionClose` (the
 * connection closed first). If the connection closes (or the message is malformed) before
 * the headers arrive, none of these is called: a server creates the delegate in
 * `startRequest` before reading, so an idle keep-alive connection that closes leaves its
 * last delegate untouched.
 */
export interface HTTPMessageDelegate {
  /**
   * The start line and headers arrived. A returned Promise delays reading the body until it
   * settles (e.g. to decide on `setMaxBodySize`); some `HTTPConnection` methods may only be
   * called from here.
   */
  headersReceived(
    startLine: RequestStartLine | ResponseStartLine,
    headers: HTTPHeaders,
  ): void | Promise<void>;
  /**
   * A chunk of the body arrived (at most the connection's `chunkSize` bytes). A returned
   * Promise stops further reads until it settles: flow control for streamed bodies.
   */
  dataReceived(chunk: Buffer): void | Promise<void>;
  /** The whole message has been received. */
  finish(): void;
  /** The connection closed before the message was complete. */
  onConnectionClose(): void;
}

/**
 * What `HTTPServer` hands each connection's requests to (`Application` and the routers are
 * such delegates).
 */
export interface HTTPServerConnectionDelegate {
  /**
   * A new request has started on a connection.
   * @param serverConnection - an opaque object for the long-lived (TCP-level) connection,
   *   the same for every request on it.
   * @param requestConnection - the {@link HTTPConnection} for this one exchange.
   * @returns the delegate that receives this request.
   */
  startRequest(serverConnection: object, requestConnection: HTTPConnection): HTTPMessageDelegate;
  /** The connection `serverConnection` (given before to `startRequest`) has closed. */
  onClose(serverConnection: object): void;
}

/** True if `value` looks like an {@link HTTPServerConnectionDelegate} (has `startRequest`). */
export function isHTTPServerConnectionDelegate(
  value: unknown,
): value is HTTPServerConnectionDelegate {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { startRequest?: unknown }).startRequest === "function"
  );
}

// RFC 3986 host[:port], simplified as Tornado does: unreserved, sub-delims, pct-encoded, and
// "[", "]", ":" anywhere (IPv6 literals, port).
const HOST_RE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=[\]:]|%[0-9A-Fa-f]{2})*$/;

// SimpleCookie accepts these names only: http.cookies._LegalChars, and no Morsel attribute.
const LEGAL_COOKIE_NAME_RE = /^[A-Za-z0-9!#$%&'*+\-.^_`|~:]+$/;
const RESERVED_COOKIE_NAMES = new Set([
  "expires",
  "path",
  "comment",
  "domain",
  "max-age",
  "secure",
  "httponly",
  "version",
  "samesite",
  "partitioned",
]);

const EMPTY_BODY = Buffer.alloc(0);

// The Host value last split and its host name: a server sees the same Host on nearly every
// request, so the split is made once per change, not per request.
let lastHost = "";
let lastHostName = "";

// HOST_RE's single characters, without the comma (see isValidHostHeader), as a table.
const HOST_CHAR = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+;=[]:") {
  HOST_CHAR[c.charCodeAt(0)] = 1;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/**
 * True if `host` is a valid `Host` header value: RFC 3986 `host[:port]` as Tornado checks it
 * (unreserved, sub-delims, pct-encoded, and `[`, `]`, `:` for IPv6 literals), with no comma
 * (a comma means several hosts joined by a proxy, as ambiguous as two Host lines).
 */
export function isValidHostHeader(host: string): boolean {
  // HOST_RE as a loop over a table: the check runs on every request.
  const n = host.length;
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c < 128 && HOST_CHAR[c] === 1) continue;
    if (
      c === 0x25 &&
      i + 2 < n &&
      isHexDigit(host.charCodeAt(i + 1)) &&
      isHexDigit(host.charCodeAt(i + 2))
    ) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

/** Throws HTTPInputError unless {@link isValidHostHeader}, saying why. */
function checkHost(host: string): void {
  if (isValidHostHeader(host)) return;
  if (!HOST_RE.test(host)) {
    throw new HTTPInputError(`Invalid Host header: ${quoteForMessage(host)}`);
  }
  // Several Host headers (joined by "," here, or by a proxy): RFC 9112 says 400.
  throw new HTTPInputError(`Multiple host headers not allowed: ${quoteForMessage(host)}`);
}

function hostNameOf(host: string): string {
  if (host !== lastHost) {
    lastHostName = splitHostAndPort(host.toLowerCase())[0];
    lastHost = host;
  }
  return lastHostName;
}

/** Appends each of `from`'s values to `into`'s list of the same name. */
function mergeArguments(into: ArgumentMap, from: ArgumentMap): void {
  for (const [name, values] of from) {
    const list = into.get(name);
    if (list === undefined) into.set(name, values.slice());
    else list.push(...values);
  }
}

/** Options of {@link HTTPServerRequest}. */
export interface HTTPServerRequestOptions {
  /** The request line: method, target (`uri`) and version. */
  startLine: RequestStartLine;
  /** @defaultValue empty headers */
  headers?: HTTPHeaders;
  /** @defaultValue an empty Buffer */
  body?: Buffer;
  /** Uploaded files, when already parsed. @defaultValue an empty map */
  files?: FileMap;
  /** The exchange's connection; its `context` gives `remoteIp` and `protocol`. */
  connection?: HTTPConnection | null;
  /** The long-lived connection (opaque), as given to `startRequest`. */
  serverConnection?: object | null;
}

/**
 * A single HTTP request, as `RequestHandler.request` exposes it.
 *
 * Arguments map names (strings) to lists of byte values (`Buffer`): `queryArguments` from
 * the query string, `bodyArguments` from a form body (after {@link HTTPServerRequest.parseBody}),
 * `arguments` both; blank values are kept. Decoding to text is `RequestHandler`'s job.
 *
 * @throws HTTPInputError from the constructor when an HTTP/1.1 request has no `Host` header,
 *   the `Host` is not `host[:port]`, or it holds a comma (several Host headers).
 * @remarks Arguments and files are `Map`s (Tornado: dicts), so no name can clash with an
 *   object property. `cookies` maps names to values (Tornado: `Morsel`s with `.value`).
 *   `requestTime()` is in milliseconds.
 */
export class HTTPServerRequest {
  /** The request line this request was built from. */
  readonly startLine: RequestStartLine;
  /** Request method, e.g. `"GET"`. */
  method: string;
  /** The request target as sent, e.g. `"/foo?a=1"`. */
  uri: string;
  /** HTTP version, e.g. `"HTTP/1.1"`. */
  version: string;
  /** The request headers. */
  headers: HTTPHeaders;
  /** The request body (empty until read; streamed bodies never land here). */
  body: Buffer;
  /** The client's IP address (the proxy's view with `xheaders`); null when unknown. */
  remoteIp: string | null;
  /** `"http"` or `"https"`. */
  protocol: string;
  /** The `Host` header (`"127.0.0.1"` for an HTTP/1.0 request without one). */
  host: string;
  /** The exchange's connection (null when the request was built by hand). */
  connection: HTTPConnection | null;
  /** The long-lived connection, as given to `startRequest`. */
  serverConnection: object | null;
  // What the getters below compute on first use: most requests never look at most of it.
  // The target splits at the first "?" of `uri` as it was when the request was built.
  #target: string;
  #path: string | null;
  #query: string | null;
  #hostName: string | null;
  #arguments: ArgumentMap | null;
  #queryArguments: ArgumentMap | null;
  #bodyArguments: ArgumentMap | null;
  #files: FileMap | null;
  #startTime: number;
  #finishTime: number | null;
  #cookies: Map<string, string> | null;

  /** @throws TypeError without a `startLine`; HTTPInputError for a missing or bad `Host`. */
  constructor(options: HTTPServerRequestOptions) {
    const startLine = options.startLine;
    if (startLine === undefined || startLine === null) {
      throw new TypeError("HTTPServerRequest needs a startLine");
    }
    this.startLine = startLine;
    this.method = startLine.method;
    this.uri = startLine.path;
    this.version = startLine.version;
    this.headers = options.headers ?? new HTTPHeaders();
    this.body = options.body ?? EMPTY_BODY;
    const connection = options.connection ?? null;
    const context = connection?.context;
    this.remoteIp = context?.remoteIp ?? null;
    this.protocol = context?.protocol ?? "http";
    const host = this.headers.get("Host");
    if (host === undefined) {
      // HTTP/1.0 does not require a Host header; HTTP/1.1 does (RFC 9112 §3.2).
      if (this.version !== "HTTP/1.0") throw new HTTPInputError("Missing Host header");
      this.host = "127.0.0.1";
    } else {
      this.host = host;
    }
    if (connection?.checksHost !== true) checkHost(this.host);
    this.connection = connection;
    this.serverConnection = options.serverConnection ?? null;
    this.#target = this.uri;
    this.#path = null;
    this.#query = null;
    this.#hostName = null;
    this.#arguments = null;
    this.#queryArguments = null;
    this.#bodyArguments = null;
    this.#files = options.files ?? null;
    this.#startTime = connection?.requestStartTime ?? performance.now();
    this.#finishTime = null;
    this.#cookies = null;
  }

  /** `host` lower-cased, without the port. */
  get hostName(): string {
    if (this.#hostName === null) this.#hostName = hostNameOf(this.host);
    return this.#hostName;
  }

  set hostName(value: string) {
    this.#hostName = value;
  }

  /** Splits the target at its first "?" into whichever of path and query is not set yet. */
  #splitTarget(): void {
    const target = this.#target;
    const mark = target.indexOf("?");
    this.#path ??= mark === -1 ? target : target.slice(0, mark);
    this.#query ??= mark === -1 ? "" : target.slice(mark + 1);
  }

  /** The path part of `uri` (before `?`). */
  get path(): string {
    if (this.#path === null) this.#splitTarget();
    return this.#path!;
  }

  set path(value: string) {
    this.#path = value;
  }

  /** The query part of `uri` (after `?`, "" when none). */
  get query(): string {
    if (this.#query === null) this.#splitTarget();
    return this.#query!;
  }

  set query(value: string) {
    this.#query = value;
  }

  /** Query and body arguments together. */
  get arguments(): ArgumentMap {
    if (this.#arguments === null) {
      const query = this.query;
      const args: ArgumentMap = query === "" ? new Map() : qsParseKeepBlank(query);
      // Body arguments parsed before the first look here join the query's.
      if (this.#bodyArguments !== null) mergeArguments(args, this.#bodyArguments);
      this.#arguments = args;
    }
    return this.#arguments;
  }

  set arguments(value: ArgumentMap) {
    this.#arguments = value;
  }

  /** Arguments from the query string. */
  get queryArguments(): ArgumentMap {
    if (this.#queryArguments === null) {
      const query = this.query;
      this.#queryArguments = query === "" ? new Map() : qsParseKeepBlank(query);
    }
    return this.#queryArguments;
  }

  set queryArguments(value: ArgumentMap) {
    this.#queryArguments = value;
  }

  /** Arguments from a form body (filled by `parseBody`). */
  get bodyArguments(): ArgumentMap {
    if (this.#bodyArguments === null) this.#bodyArguments = new Map();
    return this.#bodyArguments;
  }

  set bodyArguments(value: ArgumentMap) {
    this.#bodyArguments = value;
  }

  /** Uploaded files by form field name. */
  get files(): FileMap {
    if (this.#files === null) this.#files = new Map();
    return this.#files;
  }

  set files(value: FileMap) {
    this.#files = value;
  }

  /**
   * The request's cookies, name → value, parsed from the `Cookie` header on first use.
   * Names a Python `SimpleCookie` would refuse (not a cookie token, or an attribute name
   * such as `path`) are dropped, as Tornado does.
   */
  get cookies(): Map<string, string> {
    if (this.#cookies === null) {
      const cookies = new Map<string, string>();
      const header = this.headers.get("Cookie");
      if (header !== undefined) {
        const parsed = parseCookie(header);
        for (const name of Object.keys(parsed)) {
          if (LEGAL_COOKIE_NAME_RE.test(name) && !RESERVED_COOKIE_NAMES.has(name.toLowerCase())) {
            cookies.set(name, parsed[name]!);
          }
        }
      }
      this.#cookies = cookies;
    }
    return this.#cookies;
  }

  /** The full URL: `protocol://host` + `uri`. */
  fullUrl(): string {
    return `${this.protocol}://${this.host}${this.uri}`;
  }

  /** Milliseconds since the request was created, or until `markFinished()` when called. */
  requestTime(): number {
    return (this.#finishTime ?? performance.now()) - this.#startTime;
  }

  /** Stops the `requestTime()` clock (`RequestHandler.finish` calls it). */
  markFinished(): void {
    this.#finishTime = performance.now();
  }

  /**
   * Parses `body` as a form (urlencoded or multipart, by `Content-Type`) into
   * `bodyArguments` and `files`, and adds the body arguments to `arguments`.
   * @throws HTTPInputError as {@link parseBodyArguments} does.
   */
  parseBody(): void {
    // No body, no form: the common case of a GET costs nothing here.
    if (this.body.length === 0) return;
    const bodyArguments = this.bodyArguments;
    parseBodyArguments(
      this.headers.get("Content-Type", ""),
      this.body,
      bodyArguments,
      this.files,
      this.headers,
    );
    // Once `arguments` exists it is kept in step; else its getter merges body arguments in.
    if (this.#arguments !== null) mergeArguments(this.#arguments, bodyArguments);
  }

  /**
   * The client's TLS certificate, or null (no TLS, no certificate, or the connection does
   * not expose its socket). The server's TLS options must ask for client certificates
   * (`requestCert`).
   * @param binaryForm - true for the DER bytes instead of Node's parsed certificate.
   */
  getSslCertificate(binaryForm = false): PeerCertificate | Buffer | null {
    const socket = (this.connection as { stream?: { socket?: unknown } } | null)?.stream?.socket;
    if (!(socket instanceof TLSSocket)) return null;
    const cert = socket.getPeerCertificate();
    if (cert === null || cert === undefined || Object.keys(cert).length === 0) return null;
    return binaryForm ? cert.raw : cert;
  }

  /** A summary without headers (which may hold credentials). */
  toString(): string {
    const fields = [
      `protocol=${JSON.stringify(this.protocol)}`,
      `host=${JSON.stringify(this.host)}`,
      `method=${JSON.stringify(this.method)}`,
      `uri=${JSON.stringify(this.uri)}`,
      `version=${JSON.stringify(this.version)}`,
      `remoteIp=${JSON.stringify(this.remoteIp)}`,
    ];
    return `HTTPServerRequest(${fields.join(", ")})`;
  }

  /** What `console.log` shows: the same summary, without headers. */
  [inspect.custom](): string {
    return this.toString();
  }
}
