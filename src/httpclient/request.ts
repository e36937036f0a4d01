// tornado.httpclient's HTTPRequest: options, defaults and validation at the boundary.

import { HTTPHeaders, type HTTPHeadersInit } from "../httputil/headers.js";
import { formatTimestamp } from "../httputil/misc.js";
import type { SSLOptions } from "../netutil.js";

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

/** A TypeError with code ERR_INVALID_HTTP_REQUEST. @internal */
export function invalid(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_INVALID_HTTP_REQUEST" });
}

/** Refuses unknown option names. @internal */
export function checkOptionKeys(options: object, what: string, allowRaiseError = false): void {
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
/** @internal */
export const FROM_FETCH: unique symbol = Symbol("HTTPRequest.fromFetch");
const URL_CACHE = new Map<string, URL>();
const URL_CACHE_LIMIT = 512;

function toBuffer(body: string | Buffer | Uint8Array): Buffer {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.length);
  throw invalid("body must be a string, Buffer or Uint8Array");
}
