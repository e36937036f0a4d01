// The implementation-independent half of tornado.httpclient: requests, responses, errors, and
// the configurable AsyncHTTPClient with its queue, redirects and digest authentication.
// src/httpclient.ts re-exports it and registers the default implementation; it lives here so
// that simple_httpclient.ts can extend AsyncHTTPClient without an import cycle.

import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { HTTPHeaders, type HTTPHeadersInit } from "../httputil/headers.js";
import { encodeUsernamePassword, formatTimestamp } from "../httputil/misc.js";
import { responses } from "../httputil/startline.js";
import type { SSLOptions } from "../netutil.js";
import { Configurable, type ConfigurableClass, configurable } from "../util.js";

/** The version in the default `User-Agent` header. */
export const VERSION = "0.1.0";

/** What `bodyProducer` gets: writes one piece of the request body; resolves when flushed. */
export type BodyWriter = (chunk: Buffer | Uint8Array | string) => Promise<void>;

/** Authentication schemes for `authMode` and `proxyAuthMode`. */
export type AuthMode = "basic" | "digest";

/**
 * The options of an {@link HTTPRequest} (Tornado's keyword arguments, camelCase, durations
 * in ms). A field left undefined takes the client's `defaults`, then Tornado's defaults.
 */
export interface HTTPRequestOptions {
  /** HTTP method. @defaultValue "GET" */
  method?: string;
  /** Request headers. */
  headers?: HTTPHeadersInit | null;
  /** Request body; a string is sent as UTF-8. Needed for POST, PUT and PATCH, refused otherwise. */
  body?: string | Buffer | Uint8Array | null;
  /**
   * Streams the body instead of `body`: called with a writer, it writes pieces (each write
   * resolves when flushed, for flow control) and resolves when done. Without a
   * `Content-Length` header the body is sent chunked.
   */
  bodyProducer?: ((write: BodyWriter) => Promise<void>) | null;
  /** User name for HTTP authentication. */
  authUsername?: string;
  /** Password for HTTP authentication. @defaultValue "" */
  authPassword?: string;
  /** `"basic"` (sent up front) or `"digest"` (answered to a 401 challenge). @defaultValue "basic" */
  authMode?: AuthMode;
  /** Time allowed to connect (TCP, TLS, proxy), in ms; 0 for none. @defaultValue 20_000 */
  connectTimeout?: number;
  /** Time allowed for the whole exchange, in ms; 0 for none. @defaultValue 20_000 */
  requestTimeout?: number;
  /** Sets `If-Modified-Since` to this date (a Date or ms since the epoch). */
  ifModifiedSince?: Date | number | null;
  /** Follow 301, 302, 303, 307 and 308 redirects. @defaultValue true */
  followRedirects?: boolean;
  /** Redirects followed at most. @defaultValue 5 */
  maxRedirects?: number;
  /** `User-Agent` header. @defaultValue `"tornado-ts/<version>"` */
  userAgent?: string;
  /** Ask for gzip and decode it (`Accept-Encoding: gzip`). @defaultValue true */
  decompressResponse?: boolean;
  /** Deprecated alias of `decompressResponse`, as in Tornado. */
  useGzip?: boolean;
  /** Local address to connect from. */
  networkInterface?: string;
  /**
   * Receives the body in pieces as it arrives, instead of `response.body` (which stays
   * empty). A returned Promise pauses reading until it settles.
   */
  streamingCallback?: ((chunk: Buffer) => void | Promise<void>) | null;
  /**
   * Receives the response head line by line, each with its CRLF: the status line first, then
   * each header, then `"\r\n"`.
   */
  headerCallback?: ((line: string) => void) | null;
  /** Proxy host: the request goes through an HTTP `CONNECT` tunnel. */
  proxyHost?: string;
  /** Proxy port. */
  proxyPort?: number;
  /** Proxy user name (`Proxy-Authorization: Basic`). */
  proxyUsername?: string;
  /** Proxy password. @defaultValue "" */
  proxyPassword?: string;
  /** Proxy authentication scheme; only `"basic"` is supported. @defaultValue "basic" */
  proxyAuthMode?: AuthMode;
  /** Allow any method and a body with any method. @defaultValue false */
  allowNonstandardMethods?: boolean;
  /** Verify the server's TLS certificate and host name. @defaultValue true */
  validateCert?: boolean;
  /** Path of a PEM file of CA certificates to verify the server with. */
  caCerts?: string;
  /** Path of the client's PEM private key. */
  clientKey?: string;
  /** Path of the client's PEM certificate. */
  clientCert?: string;
  /** TLS settings (see `sslOptionsToContext`); they replace `validateCert`, `caCerts`, … */
  sslOptions?: SSLOptions | null;
  /** Send `Expect: 100-continue` and wait for the interim response before the body. @defaultValue false */
  expect100Continue?: boolean;
  /** Connect over IPv6 too. @defaultValue true */
  allowIpv6?: boolean;
}

/** Tornado's `_DEFAULTS`, in ms. */
export const REQUEST_DEFAULTS = Object.freeze({
  connectTimeout: 20_000,
  requestTimeout: 20_000,
  followRedirects: true,
  maxRedirects: 5,
  decompressResponse: true,
  proxyPassword: "",
  allowNonstandardMethods: false,
  validateCert: true,
  authMode: "basic" as AuthMode,
  allowIpv6: true,
});

const OPTION_KEYS = [
  "method",
  "body",
  "bodyProducer",
  "authUsername",
  "authPassword",
  "authMode",
  "connectTimeout",
  "requestTimeout",
  "followRedirects",
  "maxRedirects",
  "userAgent",
  "decompressResponse",
  "networkInterface",
  "streamingCallback",
  "headerCallback",
  "proxyHost",
  "proxyPort",
  "proxyUsername",
  "proxyPassword",
  "proxyAuthMode",
  "allowNonstandardMethods",
  "validateCert",
  "caCerts",
  "clientKey",
  "clientCert",
  "sslOptions",
  "expect100Continue",
  "allowIpv6",
] as const;
const KNOWN_OPTIONS = new Set<string>([...OPTION_KEYS, "headers", "ifModifiedSince", "useGzip"]);

// CTL characters split a request line or a header (request smuggling, CVE-2018-12116).
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function invalid(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_INVALID_HTTP_REQUEST" });
}

function checkOptionKeys(options: object, what: string, allowRaiseError = false): void {
  for (const key in options) {
    if (!KNOWN_OPTIONS.has(key) && !(allowRaiseError && key === "raiseError")) {
      throw invalid(`unknown ${what} option ${JSON.stringify(key)}`);
    }
  }
}

function checkTimeout(name: string, value: number | undefined): void {
  if (value !== undefined && !(typeof value === "number" && value >= 0 && value < Infinity)) {
    throw new RangeError(`${name} must be a non-negative number of ms`);
  }
}

/**
 * One HTTP client request: Tornado's `HTTPRequest`. Fields are public and may be changed
 * before `fetch`; undefined fields take the client's defaults.
 *
 * @throws TypeError (`ERR_INVALID_HTTP_REQUEST`) at construction for a URL, method, header
 *   name or header value with CR, LF, NUL or another control character, or an unknown
 *   option; RangeError for a negative timeout.
 */
export class HTTPRequest {
  url: string;
  method: string;
  headers: HTTPHeaders;
  body: Buffer | null;
  bodyProducer: ((write: BodyWriter) => Promise<void>) | null;
  authUsername: string | undefined;
  authPassword: string | undefined;
  authMode: AuthMode | undefined;
  connectTimeout: number | undefined;
  requestTimeout: number | undefined;
  followRedirects: boolean | undefined;
  maxRedirects: number | undefined;
  userAgent: string | undefined;
  decompressResponse: boolean | undefined;
  networkInterface: string | undefined;
  streamingCallback: ((chunk: Buffer) => void | Promise<void>) | null;
  headerCallback: ((line: string) => void) | null;
  proxyHost: string | undefined;
  proxyPort: number | undefined;
  proxyUsername: string | undefined;
  proxyPassword: string | undefined;
  proxyAuthMode: AuthMode | undefined;
  allowNonstandardMethods: boolean | undefined;
  validateCert: boolean | undefined;
  caCerts: string | undefined;
  clientKey: string | undefined;
  clientCert: string | undefined;
  sslOptions: SSLOptions | null;
  expect100Continue: boolean;
  allowIpv6: boolean | undefined;
  /** When `fetch` was called, in ms since the epoch (set by the client). */
  startTime: number | undefined;
  /** The request this one was made from by a redirect or an auth retry, if any. */
  originalRequest: HTTPRequest | undefined;
  #parsed: URL | null;
  #parsedFor: string | null;

  /**
   * @param url - an absolute `http:` or `https:` URL.
   * @param options - the other fields; see {@link HTTPRequestOptions}.
   */
  constructor(
    url: string,
    options: HTTPRequestOptions = {},
    internal?: typeof CLONE | typeof FROM_FETCH,
  ) {
    const cloning = internal === CLONE;
    if (typeof url !== "string") throw invalid("url must be a string");
    if (!cloning) checkOptionKeys(options, "request", internal === FROM_FETCH);
    this.url = url;
    this.method = options.method ?? "GET";
    this.headers = new HTTPHeaders(options.headers ?? undefined);
    this.body = options.body == null ? null : toBuffer(options.body);
    this.bodyProducer = options.bodyProducer ?? null;
    this.authUsername = options.authUsername;
    this.authPassword = options.authPassword;
    this.authMode = options.authMode;
    this.connectTimeout = options.connectTimeout;
    this.requestTimeout = options.requestTimeout;
    this.followRedirects = options.followRedirects;
    this.maxRedirects = options.maxRedirects;
    this.userAgent = options.userAgent;
    this.decompressResponse = options.decompressResponse ?? options.useGzip;
    this.networkInterface = options.networkInterface;
    this.streamingCallback = options.streamingCallback ?? null;
    this.headerCallback = options.headerCallback ?? null;
    this.proxyHost = options.proxyHost;
    this.proxyPort = options.proxyPort;
    this.proxyUsername = options.proxyUsername;
    this.proxyPassword = options.proxyPassword;
    this.proxyAuthMode = options.proxyAuthMode;
    this.allowNonstandardMethods = options.allowNonstandardMethods;
    this.validateCert = options.validateCert;
    this.caCerts = options.caCerts;
    this.clientKey = options.clientKey;
    this.clientCert = options.clientCert;
    this.sslOptions = options.sslOptions ?? null;
    this.expect100Continue = options.expect100Continue ?? false;
    this.allowIpv6 = options.allowIpv6;
    this.startTime = undefined;
    this.originalRequest = undefined;
    this.#parsed = null;
    this.#parsedFor = null;
    if (cloning) return;
    if (options.ifModifiedSince != null) {
      this.headers.set("If-Modified-Since", formatTimestamp(options.ifModifiedSince));
    }
    this.validate();
  }

  /**
   * Checks the fields that reach the wire (called again by `fetch`, since fields may change).
   * @throws TypeError as the constructor.
   */
  validate(): void {
    if (typeof this.url !== "string" || CONTROL_RE.test(this.url)) {
      throw invalid(
        `invalid character (control, CR, LF or NUL) in URL ${JSON.stringify(this.url)}`,
      );
    }
    if (typeof this.method !== "string" || !TOKEN_RE.test(this.method)) {
      throw invalid(`invalid HTTP method ${JSON.stringify(this.method)}`);
    }
    for (const [name, value] of this.headers.getAll()) {
      if (!TOKEN_RE.test(name)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
      if (/[\r\n\0]/.test(value)) {
        throw invalid(`invalid character (CR, LF or NUL) in header ${name}`);
      }
    }
    checkTimeout("connectTimeout", this.connectTimeout);
    checkTimeout("requestTimeout", this.requestTimeout);
    if (
      this.maxRedirects !== undefined &&
      !(Number.isInteger(this.maxRedirects) && this.maxRedirects >= 0)
    ) {
      throw new RangeError("maxRedirects must be a non-negative integer");
    }
    if (this.authMode !== undefined && this.authMode !== "basic" && this.authMode !== "digest") {
      throw invalid(`unsupported authMode ${JSON.stringify(this.authMode)}`);
    }
  }

  /** A copy (headers copied too; callbacks and body shared). */
  clone(): HTTPRequest {
    // The fields have the options' names, so the constructor copies them (one hidden class).
    const copy = new HTTPRequest(this.url, this as HTTPRequestOptions, CLONE);
    copy.startTime = this.startTime;
    copy.originalRequest = this.originalRequest;
    copy.#parsed = this.#parsed;
    copy.#parsedFor = this.#parsedFor;
    return copy;
  }

  /**
   * The URL parsed (cached while `url` is unchanged; do not modify the result).
   * @throws TypeError for an invalid URL.
   */
  parsedUrl(): URL {
    if (this.#parsedFor !== this.url || this.#parsed === null) {
      const url = this.url;
      // Clients fetch the same URLs again and again: parsing costs more than the lookup.
      // The URL objects are shared, so nothing may modify them.
      let parsed = URL_CACHE.get(url);
      if (parsed === undefined) {
        try {
          parsed = new URL(url);
        } catch (error) {
          throw Object.assign(invalid(`invalid URL ${JSON.stringify(url)}`), { cause: error });
        }
        if (URL_CACHE.size >= URL_CACHE_LIMIT) URL_CACHE.clear();
        if (url.length <= 2048) URL_CACHE.set(url, parsed);
      }
      this.#parsed = parsed;
      this.#parsedFor = url;
    }
    return this.#parsed;
  }

  /** A copy whose undefined fields are filled from `defaults`, then Tornado's defaults. @internal */
  withDefaults(defaults: HTTPRequestOptions | undefined): HTTPRequest {
    const copy = this.clone();
    copy.fillDefaults(defaults);
    return copy;
  }

  /** Fills undefined fields in place from `defaults`, then Tornado's defaults. @internal */
  fillDefaults(defaults: HTTPRequestOptions | undefined): void {
    if (defaults !== undefined) {
      const target = this as unknown as Record<string, unknown>;
      const source = defaults as Record<string, unknown>;
      for (const key of Object.keys(source)) {
        if (key === "headers") {
          for (const [name, value] of new HTTPHeaders(defaults.headers).getAll()) {
            if (!this.headers.has(name)) this.headers.add(name, value);
          }
        } else if (key === "useGzip") {
          this.decompressResponse ??= defaults.useGzip;
        } else if (key === "ifModifiedSince") {
          if (defaults.ifModifiedSince != null && !this.headers.has("If-Modified-Since")) {
            this.headers.set("If-Modified-Since", formatTimestamp(defaults.ifModifiedSince));
          }
        } else if (target[key] === undefined || target[key] === null) {
          if (source[key] !== undefined) target[key] = source[key];
        }
      }
    }
    this.connectTimeout ??= REQUEST_DEFAULTS.connectTimeout;
    this.requestTimeout ??= REQUEST_DEFAULTS.requestTimeout;
    this.followRedirects ??= REQUEST_DEFAULTS.followRedirects;
    this.maxRedirects ??= REQUEST_DEFAULTS.maxRedirects;
    this.decompressResponse ??= REQUEST_DEFAULTS.decompressResponse;
    this.proxyPassword ??= REQUEST_DEFAULTS.proxyPassword;
    this.allowNonstandardMethods ??= REQUEST_DEFAULTS.allowNonstandardMethods;
    this.validateCert ??= REQUEST_DEFAULTS.validateCert;
    this.authMode ??= REQUEST_DEFAULTS.authMode;
    this.allowIpv6 ??= REQUEST_DEFAULTS.allowIpv6;
  }
}

const CLONE: unique symbol = Symbol("HTTPRequest.clone");
/** The options are fetch()'s, which may also hold `raiseError`. */
const FROM_FETCH: unique symbol = Symbol("HTTPRequest.fromFetch");
const URL_CACHE = new Map<string, URL>();
const URL_CACHE_LIMIT = 512;

function toBuffer(body: string | Buffer | Uint8Array): Buffer {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.length);
  throw invalid("body must be a string, Buffer or Uint8Array");
}

/** Timing of one response, in ms (Tornado's `time_info`). */
export interface TimeInfo {
  /** Time spent waiting for a free slot (`maxClients`). */
  queue?: number;
  /** Time to get a connection (0 when a pooled one was reused). */
  connect?: number;
  /** From the request's start (after the queue) to the end of the response. */
  total?: number;
}

/** The parts of an {@link HTTPResponse} besides the request and code. */
export interface HTTPResponseInit {
  headers?: HTTPHeaders;
  body?: Buffer | null;
  effectiveUrl?: string;
  error?: Error | null;
  requestTime?: number;
  timeInfo?: TimeInfo;
  reason?: string;
  startTime?: number;
}

/**
 * An HTTP response: Tornado's `HTTPResponse`.
 *
 * A response whose code is not 2xx and which has no other error gets `error` set to an
 * {@link HTTPClientError} of that code.
 */
export class HTTPResponse {
  /** The request as given to `fetch` (before redirects). */
  readonly request: HTTPRequest;
  /** Status code; 599 when no response was received. */
  readonly code: number;
  /** Reason phrase from the status line, else the standard one, else "Unknown". */
  readonly reason: string;
  readonly headers: HTTPHeaders;
  /** The body; empty when a `streamingCallback` received it. */
  readonly body: Buffer;
  /** The URL after redirects. */
  readonly effectiveUrl: string;
  /** The error, if the request failed or the code is not 2xx. */
  readonly error: Error | null;
  /** From the start of the request to the end of the response, in ms. */
  readonly requestTime: number | undefined;
  /** When the request started, in ms since the epoch. */
  readonly startTime: number | undefined;
  readonly timeInfo: TimeInfo;
  /** True when `error` was made from the status code (not a network failure). @internal */
  readonly errorIsResponseCode: boolean;

  constructor(request: HTTPRequest, code: number, init: HTTPResponseInit = {}) {
    this.request = request.originalRequest ?? request;
    this.code = code;
    this.reason = init.reason || responses[code] || "Unknown";
    this.headers = init.headers ?? new HTTPHeaders();
    this.body = init.body ?? EMPTY;
    this.effectiveUrl = init.effectiveUrl ?? request.url;
    this.requestTime = init.requestTime;
    this.startTime = init.startTime ?? request.startTime;
    this.timeInfo = init.timeInfo ?? {};
    if (init.error != null) {
      this.error = init.error;
      this.errorIsResponseCode = false;
    } else if (code < 200 || code >= 300) {
      this.error = new HTTPClientError(code, { message: this.reason, response: this });
      this.errorIsResponseCode = true;
    } else {
      this.error = null;
      this.errorIsResponseCode = false;
    }
  }

  /** The body decoded as UTF-8. */
  get text(): string {
    return this.body.toString("utf8");
  }

  /** The body parsed as JSON. @throws SyntaxError for invalid JSON. */
  json(): unknown {
    return JSON.parse(this.text);
  }

  /** Throws `error` if there is one. */
  rethrow(): void {
    if (this.error !== null) throw this.error;
  }

  toString(): string {
    return `HTTPResponse(${this.code} ${this.reason}, ${this.effectiveUrl})`;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * An unsuccessful HTTP request: Tornado's `HTTPClientError` (`tornado.httpclient.HTTPError`).
 *
 * `code` is the HTTP status (a number, as in Tornado): the response's code for a non-2xx
 * response, 599 when no response arrived (timeout, closed connection). `errorCode` is the
 * stable string code. The message reads `HTTP 404: Not Found`.
 */
export class HTTPClientError extends Error {
  override name = "HTTPClientError";
  /** The HTTP status code, or 599. */
  readonly code: number;
  /** Stable string code for programs: `ERR_HTTP_CLIENT` (subclasses have their own). */
  readonly errorCode: string = "ERR_HTTP_CLIENT";
  /** The response, when there is one. */
  response: HTTPResponse | undefined;

  /**
   * @param code - HTTP status, or 599.
   * @param options - `message` (default: the standard reason phrase), `response`, `cause`.
   */
  constructor(
    code: number,
    options: { message?: string; response?: HTTPResponse; cause?: unknown } = {},
  ) {
    const message = options.message ?? responses[code] ?? "Unknown";
    super(
      `HTTP ${code}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.response = options.response;
  }
}

/** Tornado's name for {@link HTTPClientError}. */
export { HTTPClientError as HTTPError };

/** A timeout (599): connecting, in the request queue, or during the request. */
export class HTTPTimeoutError extends HTTPClientError {
  override name = "HTTPTimeoutError";
  override readonly errorCode = "ERR_HTTP_TIMEOUT";
  /** @param message - e.g. `"Timeout while connecting"`. */
  constructor(message: string) {
    super(599, { message });
  }
}

/** The connection closed before the response was complete (599). */
export class HTTPStreamClosedError extends HTTPClientError {
  override name = "HTTPStreamClosedError";
  override readonly errorCode = "ERR_HTTP_STREAM_CLOSED";
  constructor(message = "Stream closed", options: { cause?: unknown } = {}) {
    super(599, { message, ...options });
  }
}

/** More redirects than `maxRedirects`: `code` is the last redirect's, `response` is it. */
export class HTTPTooManyRedirectsError extends HTTPClientError {
  override name = "HTTPTooManyRedirectsError";
  override readonly errorCode = "ERR_HTTP_TOO_MANY_REDIRECTS";
  constructor(code: number, maxRedirects: number) {
    super(code, { message: `too many redirects (more than ${maxRedirects})` });
  }
}

/** The proxy refused the `CONNECT` tunnel: `code` is the proxy's status. */
export class HTTPProxyError extends HTTPClientError {
  override name = "HTTPProxyError";
  override readonly errorCode = "ERR_HTTP_PROXY";
  constructor(code: number, message: string) {
    super(code, { message });
  }
}

/** Options of {@link AsyncHTTPClient.fetch}: request options plus `raiseError`. */
export interface FetchOptions extends HTTPRequestOptions {
  /**
   * Reject for a non-2xx response (with {@link HTTPClientError}); when false such responses
   * resolve. Network errors and timeouts reject either way. @defaultValue true
   */
  raiseError?: boolean;
}

/** Options every {@link AsyncHTTPClient} implementation accepts. */
export interface AsyncHTTPClientOptions {
  /** Requests running at once; more wait in a FIFO queue. @defaultValue 10 */
  maxClients?: number;
  /** Defaults for every request's undefined fields. */
  defaults?: HTTPRequestOptions;
}

const NO_OPTIONS: FetchOptions = Object.freeze({});
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const SUPPORTED_METHODS = new Set(["GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"]);
const CREDENTIAL_HEADERS = ["Authorization", "Cookie", "Proxy-Authorization"];

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

/**
 * A non-blocking HTTP client: Tornado's `AsyncHTTPClient`, a configurable interface whose
 * constructor builds the configured implementation ({@link SimpleAsyncHTTPClient} unless
 * {@link AsyncHTTPClient.configure} chose another, such as `UndiciAsyncHTTPClient`).
 *
 * The base class runs what every implementation shares: request validation and defaults,
 * the `maxClients` queue and its timeout, redirects (RFC 9110: 303, and 301/302 after POST,
 * become GET; 307/308 keep method and body; credentials dropped across origins) and digest
 * authentication. An implementation runs one exchange in {@link AsyncHTTPClient.fetchImpl}.
 *
 * @remarks Tornado keeps one client per IOLoop unless `force_instance`; Node has one loop,
 * and here each `new AsyncHTTPClient()` is a new client with its own connection pool. Share
 * one client per process for connection reuse. Tornado's blocking `HTTPClient` has no
 * equivalent (Node cannot block on its own loop).
 *
 * @example
 * ```ts
 * AsyncHTTPClient.configure(null, { defaults: { userAgent: "MyBot/1.0" } });
 * const client = new AsyncHTTPClient();
 * const response = await client.fetch("http://127.0.0.1:8888/", { requestTimeout: 5000 });
 * console.log(response.code, response.text);
 * client.close();
 * ```
 */
export const AsyncHTTPClient = configurable(
  class AsyncHTTPClient extends Configurable {
    /** Requests running at once. */
    readonly maxClients: number;
    /** Defaults for every request's undefined fields. */
    readonly defaults: HTTPRequestOptions;
    #active = 0;
    #queue: Waiter[] = [];
    #queueHead = 0;
    #closed = false;
    readonly #hasDefaults: boolean;

    /** The implementation built when none is configured: `SimpleAsyncHTTPClient`. */
    static override configurableDefault(): ConfigurableClass {
      if (defaultImplementation === null) {
        throw new Error("no AsyncHTTPClient implementation loaded (import tornado-ts/httpclient)");
      }
      return defaultImplementation;
    }

    /**
     * @param options - see {@link AsyncHTTPClientOptions} and the implementation's options.
     * @throws RangeError for a `maxClients` that is not a positive integer.
     */
    constructor(options: AsyncHTTPClientOptions = {}) {
      super(options);
      const maxClients = options.maxClients ?? 10;
      if (!(Number.isInteger(maxClients) && maxClients > 0)) {
        throw new RangeError("maxClients must be a positive integer");
      }
      this.maxClients = maxClients;
      if (options.defaults !== undefined) checkOptionKeys(options.defaults, "defaults");
      this.defaults = { ...options.defaults };
      this.#hasDefaults = Object.keys(this.defaults).length > 0;
    }

    /** True after {@link close}. */
    get closed(): boolean {
      return this.#closed;
    }

    /**
     * Frees the client's resources (pooled connections). Requests still queued are rejected;
     * later `fetch` calls reject.
     */
    close(): void {
      if (this.#closed) return;
      this.#closed = true;
      const queue = this.#queue;
      this.#queue = [];
      for (let i = this.#queueHead; i < queue.length; i++) {
        const waiter = queue[i]!;
        if (waiter.timer !== null) clearTimeout(waiter.timer);
        waiter.reject(new Error("AsyncHTTPClient closed"));
      }
      this.#queueHead = 0;
    }

    /**
     * Runs an HTTP request.
     *
     * @param request - a URL or an {@link HTTPRequest}.
     * @param options - `raiseError`, and request options when `request` is a URL.
     * @returns the {@link HTTPResponse}, after redirects.
     * @throws (synchronously) TypeError for options given with an `HTTPRequest`, or an invalid
     *   request (control characters, body with GET unless `allowNonstandardMethods`,
     *   an unsupported scheme or method).
     * @throws (rejects) {@link HTTPClientError} for a non-2xx response (unless `raiseError` is
     *   false), {@link HTTPTimeoutError}, {@link HTTPStreamClosedError},
     *   {@link HTTPTooManyRedirectsError}; `HTTPInputError` for a malformed response; the
     *   network error (`ECONNREFUSED`, a TLS error, …) as is.
     */
    fetch(
      request: HTTPRequest | string,
      options: FetchOptions = NO_OPTIONS,
    ): Promise<HTTPResponse> {
      if (this.#closed)
        return Promise.reject(new Error("fetch() called on a closed AsyncHTTPClient"));
      const raiseError = options.raiseError ?? true;
      let resolved: HTTPRequest;
      if (typeof request === "string") {
        // Nobody else holds this request: defaults go in place, no copy. The options object
        // is read as is (no copy without raiseError).
        resolved = new HTTPRequest(request, options, FROM_FETCH);
        resolved.startTime = Date.now();
        resolved.fillDefaults(this.#hasDefaults ? this.defaults : undefined);
      } else {
        if (!(request instanceof HTTPRequest))
          throw invalid("request must be a URL or an HTTPRequest");
        for (const key in options) {
          if (key !== "raiseError") throw invalid("options cannot be given with an HTTPRequest");
        }
        request.validate();
        request.startTime = Date.now();
        resolved = request.withDefaults(this.#hasDefaults ? this.defaults : undefined);
        resolved.originalRequest = request;
      }
      checkRequest(resolved);
      return this.#run(resolved, raiseError);
    }

    async #run(request: HTTPRequest, raiseError: boolean): Promise<HTTPResponse> {
      const original = request.originalRequest ?? request;
      const limit = request.maxRedirects ?? REQUEST_DEFAULTS.maxRedirects;
      let digestTried = false;
      for (;;) {
        let queued = 0;
        if (this.#active < this.maxClients && this.#queueHead === this.#queue.length) {
          // A free slot: no Promise, no wait.
          this.#active++;
        } else {
          const queueStart = performance.now();
          await this.#acquire(request);
          queued = performance.now() - queueStart;
        }
        let response: HTTPResponse;
        try {
          response = await this.fetchImpl(request, queued);
        } finally {
          this.#release();
        }
        const error = response.error;
        if (error !== null && !response.errorIsResponseCode) throw error;
        const code = response.code;
        if (
          code === 401 &&
          request.authMode === "digest" &&
          request.authUsername !== undefined &&
          !digestTried
        ) {
          const challenge = response.headers.getList("WWW-Authenticate").find(isDigest);
          if (challenge !== undefined) {
            digestTried = true;
            const next = request.clone();
            next.originalRequest = original;
            next.headers.set("Authorization", digestAuthorization(next, challenge));
            request = next;
            continue;
          }
        }
        const next = this.redirectRequest(request, response);
        if (next === null) {
          if (
            request.followRedirects &&
            REDIRECT_CODES.has(code) &&
            response.headers.has("Location") &&
            request.maxRedirects === 0
          ) {
            const tooMany = new HTTPTooManyRedirectsError(code, limit);
            const final = new HTTPResponse(request, code, {
              headers: response.headers,
              body: response.body,
              effectiveUrl: response.effectiveUrl,
              error: tooMany,
              reason: response.reason,
              requestTime: response.requestTime,
              timeInfo: response.timeInfo,
            });
            tooMany.response = final;
            if (raiseError) throw tooMany;
            return final;
          }
          if (raiseError && error !== null) throw error;
          return response;
        }
        next.originalRequest = original;
        request = next;
        digestTried = false;
      }
    }

    /**
     * True when `response` to `request` is a redirect that will be followed (its body is then
     * not streamed). Implementations call it when the headers arrive.
     */
    willFollow(request: HTTPRequest, code: number, headers: HTTPHeaders): boolean {
      if (
        code === 401 &&
        request.authMode === "digest" &&
        request.authUsername !== undefined &&
        headers.getList("WWW-Authenticate").some(isDigest)
      ) {
        return true;
      }
      return (
        request.followRedirects === true &&
        (request.maxRedirects ?? 0) > 0 &&
        REDIRECT_CODES.has(code) &&
        headers.has("Location")
      );
    }

    /**
     * The request that follows `response` when it is a redirect to follow, else null.
     * @throws TypeError for a `Location` that is not a valid http(s) URL.
     */
    redirectRequest(request: HTTPRequest, response: HTTPResponse): HTTPRequest | null {
      const code = response.code;
      if (!this.willFollow(request, code, response.headers) || code === 401) return null;
      const location = response.headers.get("Location")!;
      let target: URL;
      try {
        target = new URL(location, request.url);
      } catch (error) {
        throw Object.assign(invalid(`invalid redirect Location ${JSON.stringify(location)}`), {
          cause: error,
        });
      }
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        throw invalid(`redirect to unsupported scheme ${JSON.stringify(target.protocol)}`);
      }
      const next = request.clone();
      next.url = target.href;
      next.maxRedirects = request.maxRedirects! - 1;
      next.headers.delete("Host");
      // RFC 9110 §15.4: 303 becomes GET (except HEAD); 301/302 after POST become GET as
      // browsers do; 307 and 308 keep the method and body.
      if (
        ((code === 301 || code === 302) && request.method === "POST") ||
        (code === 303 && request.method !== "HEAD")
      ) {
        next.method = "GET";
        next.body = null;
        next.bodyProducer = null;
        for (const name of [
          "Content-Length",
          "Content-Type",
          "Content-Encoding",
          "Transfer-Encoding",
        ]) {
          next.headers.delete(name);
        }
      }
      const from = request.parsedUrl();
      // Credentials go to the origin they were meant for only, and never down to plain http.
      if (from.origin !== target.origin) {
        for (const name of CREDENTIAL_HEADERS) next.headers.delete(name);
        next.authUsername = undefined;
        next.authPassword = undefined;
      }
      return next;
    }

    /**
     * Runs one exchange of `request` (defaults applied and checked, redirects not followed):
     * the implementation's part, as Tornado's `fetch_impl`.
     * @param _queued - ms the request waited in the queue (for `timeInfo`).
     * @returns the response; a failure without response resolves with code 599 and `error`.
     */
    fetchImpl(_request: HTTPRequest, _queued: number): Promise<HTTPResponse> {
      return Promise.reject(new Error(`${this.constructor.name} does not implement fetchImpl`));
    }

    #acquire(request: HTTPRequest): Promise<void> {
      if (this.#active < this.maxClients && this.#queueHead === this.#queue.length) {
        this.#active++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { resolve, reject, timer: null };
        const timeout = queueTimeout(request);
        if (timeout > 0) {
          waiter.timer = setTimeout(() => {
            waiter.timer = null;
            const index = this.#queue.indexOf(waiter, this.#queueHead);
            if (index >= 0) this.#queue.splice(index, 1);
            reject(new HTTPTimeoutError("Timeout in request queue"));
          }, timeout);
        }
        this.#queue.push(waiter);
      });
    }

    #release(): void {
      const queue = this.#queue;
      if (this.#queueHead < queue.length) {
        const waiter = queue[this.#queueHead]!;
        queue[this.#queueHead++] = undefined as unknown as Waiter;
        if (this.#queueHead === queue.length) {
          this.#queue = [];
          this.#queueHead = 0;
        }
        if (waiter.timer !== null) clearTimeout(waiter.timer);
        waiter.resolve();
        return;
      }
      this.#active--;
    }
  },
);
/** An {@link AsyncHTTPClient} instance. */
export type AsyncHTTPClient = InstanceType<typeof AsyncHTTPClient>;

let defaultImplementation: ConfigurableClass | null = null;

/** Registers the implementation built when none is configured. @internal */
export function setDefaultImplementation(impl: ConfigurableClass): void {
  defaultImplementation = impl;
}

function queueTimeout(request: HTTPRequest): number {
  const connect = request.connectTimeout ?? 0;
  const total = request.requestTimeout ?? 0;
  if (connect > 0 && total > 0) return Math.min(connect, total);
  return connect > 0 ? connect : total;
}

/** Checks a request with defaults applied, before anything is sent. @internal */
export function checkRequest(request: HTTPRequest): void {
  const url = request.parsedUrl();
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(`unsupported URL scheme ${JSON.stringify(url.protocol)}`);
  }
  const nonstandard = request.allowNonstandardMethods === true;
  if (!nonstandard && !SUPPORTED_METHODS.has(request.method)) {
    throw invalid(`unknown method ${request.method}`);
  }
  if (!nonstandard) {
    const expected =
      request.method === "POST" || request.method === "PATCH" || request.method === "PUT";
    const present = request.body !== null || request.bodyProducer !== null;
    if (expected !== present) {
      throw invalid(
        `Body must ${expected ? "not " : ""}be null for method ${request.method} (unless allowNonstandardMethods is true)`,
      );
    }
  }
  if (
    request.proxyHost !== undefined &&
    request.proxyAuthMode !== undefined &&
    request.proxyAuthMode !== "basic"
  ) {
    throw invalid(`unsupported proxyAuthMode ${JSON.stringify(request.proxyAuthMode)}`);
  }
}

function isDigest(challenge: string): boolean {
  return /^digest\s/i.test(challenge);
}

/** Parses `key=value, key="quoted"` auth parameters. */
function parseAuthParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of text.matchAll(re)) {
    params.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!);
  }
  return params;
}

function hashHex(algorithm: string, text: string): string {
  return createHash(algorithm).update(text, "utf8").digest("hex");
}

/**
 * The `Authorization` value answering a digest challenge (RFC 7616: MD5, SHA-256 and their
 * `-sess` forms; qop `auth`, or none for RFC 2069 servers).
 * @throws TypeError for an unsupported algorithm or qop.
 */
export function digestAuthorization(request: HTTPRequest, challenge: string): string {
  const params = parseAuthParams(challenge.replace(/^digest\s+/i, ""));
  const realm = params.get("realm") ?? "";
  const nonce = params.get("nonce") ?? "";
  const algorithmName = params.get("algorithm") ?? "MD5";
  const upper = algorithmName.toUpperCase();
  const sess = upper.endsWith("-SESS");
  const base = sess ? upper.slice(0, -5) : upper;
  const algorithm = base === "MD5" ? "md5" : base === "SHA-256" ? "sha256" : null;
  if (algorithm === null)
    throw invalid(`unsupported digest algorithm ${JSON.stringify(algorithmName)}`);
  const qopOffered = params.get("qop");
  let qop: string | null = null;
  if (qopOffered !== undefined) {
    const offered = qopOffered.split(",").map((q) => q.trim().toLowerCase());
    if (!offered.includes("auth"))
      throw invalid(`unsupported digest qop ${JSON.stringify(qopOffered)}`);
    qop = "auth";
  }
  const url = new URL(request.url);
  const uri = `${url.pathname || "/"}${url.search}`;
  const username = request.authUsername ?? "";
  const password = request.authPassword ?? "";
  const cnonce = randomBytes(16).toString("hex");
  const nc = "00000001";
  let ha1 = hashHex(algorithm, `${username}:${realm}:${password}`);
  if (sess) ha1 = hashHex(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const ha2 = hashHex(algorithm, `${request.method}:${uri}`);
  const response =
    qop === null
      ? hashHex(algorithm, `${ha1}:${nonce}:${ha2}`)
      : hashHex(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  const quote = (s: string): string => `"${s.replace(/(["\\])/g, "\\$1")}"`;
  let value = `Digest username=${quote(username)}, realm=${quote(realm)}, nonce=${quote(nonce)}, uri=${quote(uri)}, algorithm=${algorithmName}, response=${quote(response)}`;
  const opaque = params.get("opaque");
  if (opaque !== undefined) value += `, opaque=${quote(opaque)}`;
  if (qop !== null) value += `, qop=${qop}, nc=${nc}, cnonce=${quote(cnonce)}`;
  return value;
}

/** `Basic <base64>` for a user name and password. @internal */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${encodeUsernamePassword(username, password).toString("base64")}`;
}
