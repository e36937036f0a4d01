// The implementation-independent half of tornado.httpclient: the configurable AsyncHTTPClient
// with its queue, redirects and digest authentication, and the re-exports of the request,
// response and error classes. src/httpclient.ts re-exports it and registers the default
// implementation; it lives here so that simple_httpclient.ts can extend AsyncHTTPClient
// without an import cycle.

import { performance } from "node:perf_hooks";
import type { HTTPHeaders } from "../httputil/headers.js";
import { Configurable, type ConfigurableClass, configurable } from "../util.js";
import { digestAuthorization, isDigest } from "./auth.js";
import {
  checkOptionKeys,
  FROM_FETCH,
  HTTPRequest,
  type HTTPRequestOptions,
  invalid,
  REQUEST_DEFAULTS,
} from "./request.js";
import { HTTPResponse, HTTPTimeoutError, HTTPTooManyRedirectsError } from "./response.js";

export { basicAuthorization, digestAuthorization } from "./auth.js";
export {
  type AuthMode,
  type BodyWriter,
  HTTPRequest,
  type HTTPRequestOptions,
  REQUEST_DEFAULTS,
  VERSION,
} from "./request.js";
export {
  HTTPClientError,
  HTTPError,
  HTTPProxyError,
  HTTPResponse,
  type HTTPResponseInit,
  HTTPStreamClosedError,
  HTTPTimeoutError,
  HTTPTooManyRedirectsError,
  type TimeInfo,
} from "./response.js";

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
