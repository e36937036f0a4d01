// tornado.httpclient's HTTPResponse and the client's error classes.

import { HTTPHeaders } from "../httputil/headers.js";
import { responses } from "../httputil/startline.js";
import type { HTTPRequest } from "./request.js";

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
