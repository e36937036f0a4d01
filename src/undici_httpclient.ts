/**
 * An {@link AsyncHTTPClient} implementation on undici, the HTTP/1.1 client behind Node's
 * `fetch`: the counterpart of Tornado's `tornado.curl_httpclient` (an optional, faster
 * engine chosen with `configure`).
 *
 * undici is an optional peer dependency: it is loaded with a dynamic `import("undici")` on
 * the first request, and only when this implementation is used:
 *
 * ```ts
 * import { AsyncHTTPClient } from "tornado-ts/httpclient";
 * import { UndiciAsyncHTTPClient } from "tornado-ts/undici_httpclient";
 * AsyncHTTPClient.configure(UndiciAsyncHTTPClient, { maxClients: 50 });
 * ```
 *
 * The base class runs what both implementations share (validation, the `maxClients` queue,
 * redirects, digest authentication); undici runs each exchange with its keep-alive pool.
 * gzip is decoded here (undici's `request` does not), with the same decoded-size limit.
 *
 * Main export: {@link UndiciAsyncHTTPClient}; errors: {@link UndiciMissingError}.
 */

import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import {
  AsyncHTTPClient,
  type AsyncHTTPClientOptions,
  basicAuthorization,
  type HTTPRequest,
  HTTPResponse,
  HTTPStreamClosedError,
  HTTPTimeoutError,
  VERSION,
} from "./httpclient/base.js";
import { HTTPInputError } from "./httputil/errors.js";
import { HTTPHeaders } from "./httputil/headers.js";
import { responses } from "./httputil/startline.js";
import { sslOptionsToContext } from "./netutil.js";
import { GzipDecompressor } from "./util.js";

type Undici = typeof import("undici");

/** undici is not installed: `npm install undici` to use {@link UndiciAsyncHTTPClient}. */
export class UndiciMissingError extends Error {
  override name = "UndiciMissingError";
  readonly code = "ERR_UNDICI_MISSING";
  constructor(options?: ErrorOptions) {
    super(
      "UndiciAsyncHTTPClient needs the optional peer dependency undici (npm install undici)",
      options,
    );
  }
}

let undiciModule: Promise<Undici> | null = null;

function loadUndici(): Promise<Undici> {
  undiciModule ??= import("undici").catch((error: unknown) => {
    undiciModule = null;
    throw new UndiciMissingError({ cause: error });
  });
  return undiciModule;
}

/** Options of an {@link UndiciAsyncHTTPClient}; sizes in bytes, durations in ms. */
export interface UndiciAsyncHTTPClientOptions extends AsyncHTTPClientOptions {
  /** Host names mapped to others before resolving. */
  hostnameMapping?: Record<string, string> | null;
  /** Largest response header block. @defaultValue 65_536 */
  maxHeaderSize?: number;
  /** Largest response body, counted after gzip decoding. @defaultValue 104_857_600 */
  maxBodySize?: number;
  /** Time an idle kept-alive connection is kept, in ms. @defaultValue 4_000 */
  idleTimeout?: number;
}

const DEFAULT_USER_AGENT = `tornado-ts/${VERSION}`;

/**
 * The undici-backed {@link AsyncHTTPClient}. Behaves as {@link SimpleAsyncHTTPClient} for
 * everything the shared suite checks; errors from undici itself (`UND_ERR_*`) are passed on
 * with their codes, except timeouts and closed sockets, which become Tornado's 599 errors.
 */
export class UndiciAsyncHTTPClient extends AsyncHTTPClient {
  /** Largest response header block, in bytes. */
  readonly maxHeaderSize: number;
  /** Largest response body, in bytes. */
  readonly maxBodySize: number;
  /** Time an idle connection is kept, in ms. */
  readonly idleTimeout: number;
  readonly #mapping: Map<string, string>;
  readonly #dispatchers = new Map<string, Dispatcher>();
  #lastPlain: { connectTimeout: number; noIpv6: boolean; dispatcher: Dispatcher } | null = null;

  /** @throws RangeError for a size or time that is not positive. */
  constructor(options: UndiciAsyncHTTPClientOptions = {}) {
    super(options);
    this.maxHeaderSize = options.maxHeaderSize ?? 65_536;
    this.maxBodySize = options.maxBodySize ?? 104_857_600;
    this.idleTimeout = options.idleTimeout ?? 4_000;
    for (const [name, value] of [
      ["maxHeaderSize", this.maxHeaderSize],
      ["idleTimeout", this.idleTimeout],
    ] as const) {
      if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be positive`);
    }
    if (!(Number.isFinite(this.maxBodySize) && this.maxBodySize >= 0)) {
      throw new RangeError("maxBodySize must be >= 0");
    }
    this.#mapping = new Map(Object.entries(options.hostnameMapping ?? {}));
  }

  /** Closes the client and every undici pool it made. */
  override close(): void {
    if (this.closed) return;
    super.close();
    for (const dispatcher of this.#dispatchers.values()) void dispatcher.destroy().catch(noop);
    this.#dispatchers.clear();
    this.#lastPlain = null;
  }

  #dispatcher(undici: Undici, request: HTTPRequest, https: boolean): Dispatcher {
    const connectTimeout = request.connectTimeout ?? 0;
    // Plain http with no proxy or interface (most requests): a key of two primitives, and
    // the last such pool kept at hand.
    const plain =
      !https && request.proxyHost === undefined && request.networkInterface === undefined;
    const noIpv6 = request.allowIpv6 === false;
    const last = this.#lastPlain;
    if (
      plain &&
      last !== null &&
      last.connectTimeout === connectTimeout &&
      last.noIpv6 === noIpv6
    ) {
      return last.dispatcher;
    }
    const fullKey = plain
      ? `plain|${connectTimeout}|${noIpv6}`
      : this.#fullKey(request, https, connectTimeout);
    let dispatcher = this.#dispatchers.get(fullKey);
    if (dispatcher === undefined) {
      dispatcher = this.#newDispatcher(undici, request, https, connectTimeout);
      this.#dispatchers.set(fullKey, dispatcher);
    }
    if (plain) this.#lastPlain = { connectTimeout, noIpv6, dispatcher };
    return dispatcher;
  }

  /** The pool key of a request that may need its own TLS, proxy or interface settings. */
  #fullKey(request: HTTPRequest, https: boolean, connectTimeout: number): string {
    const key = JSON.stringify([
      connectTimeout,
      https && request.sslOptions === null
        ? [request.validateCert !== false, request.caCerts, request.clientCert, request.clientKey]
        : null,
      request.proxyHost ?? null,
      request.proxyPort ?? null,
      request.proxyUsername ?? null,
      request.networkInterface ?? null,
      request.allowIpv6 === false,
    ]);
    const sslKey = https && request.sslOptions !== null ? sslIdentity(request.sslOptions) : 0;
    return `${key}|${sslKey}`;
  }

  #newDispatcher(
    undici: Undici,
    request: HTTPRequest,
    https: boolean,
    connectTimeout: number,
  ): Dispatcher {
    let dispatcher: Dispatcher;
    const connect: Record<string, unknown> = {
      timeout: connectTimeout > 0 ? connectTimeout : null,
    };
    if (request.allowIpv6 === false) connect["family"] = 4;
    if (https) {
      if (request.sslOptions !== null) {
        Object.assign(connect, sslOptionsToContext(request.sslOptions));
      } else {
        connect["rejectUnauthorized"] = request.validateCert !== false;
        if (request.caCerts !== undefined) connect["ca"] = readFileSync(request.caCerts);
        if (request.clientCert !== undefined) connect["cert"] = readFileSync(request.clientCert);
        if (request.clientKey !== undefined) connect["key"] = readFileSync(request.clientKey);
      }
    }
    if (this.#mapping.size > 0) {
      const mapping = this.#mapping;
      connect["lookup"] = (
        hostname: string,
        options: object,
        callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
      ) => dnsLookup(mapping.get(hostname) ?? hostname, options, callback as never);
    }
    const common = {
      connections: this.maxClients,
      maxHeaderSize: this.maxHeaderSize,
      keepAliveTimeout: this.idleTimeout,
      headersTimeout: 0,
      bodyTimeout: 0,
      connect,
      // A Client option: undici's connector overrides connect.localAddress with it.
      ...(request.networkInterface !== undefined ? { localAddress: request.networkInterface } : {}),
    };
    if (request.proxyHost !== undefined) {
      dispatcher = new undici.ProxyAgent({
        ...common,
        uri: `http://${request.proxyHost}:${request.proxyPort ?? 80}`,
        ...(request.proxyUsername !== undefined
          ? { token: basicAuthorization(request.proxyUsername, request.proxyPassword ?? "") }
          : {}),
        requestTls: connect,
      } as never);
    } else {
      dispatcher = new undici.Agent(common as never);
    }
    return dispatcher;
  }

  override async fetchImpl(request: HTTPRequest, queued: number): Promise<HTTPResponse> {
    const start = performance.now();
    const fail = (error: Error): HTTPResponse => {
      const now = performance.now();
      return new HTTPResponse(request, 599, {
        error,
        requestTime: now - start + queued,
        timeInfo: { queue: queued, total: now - start },
      });
    };
    let undici: Undici;
    try {
      undici = await loadUndici();
    } catch (error) {
      return fail(error as Error);
    }
    const url = request.parsedUrl();
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of request.headers.getAll()) {
      const existing = headers[name];
      if (existing === undefined) headers[name] = value;
      else if (Array.isArray(existing)) existing.push(value);
      else headers[name] = [existing, value];
    }
    const has = (name: string): boolean => request.headers.has(name);
    if (!has("Authorization")) {
      if (url.username !== "" || url.password !== "") {
        headers["Authorization"] = basicAuthorization(
          decodeURIComponent(url.username),
          decodeURIComponent(url.password),
        );
      } else if (request.authUsername !== undefined && request.authMode !== "digest") {
        headers["Authorization"] = basicAuthorization(
          request.authUsername,
          request.authPassword ?? "",
        );
      }
    }
    if (!has("User-Agent")) headers["User-Agent"] = request.userAgent ?? DEFAULT_USER_AGENT;
    if (request.decompressResponse && !has("Accept-Encoding")) headers["Accept-Encoding"] = "gzip";
    if (
      request.method === "POST" &&
      !has("Content-Type") &&
      (request.body !== null || request.bodyProducer !== null)
    ) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
    let body: Buffer | AsyncIterable<Buffer> | null = request.body;
    if (request.bodyProducer !== null) body = producerIterable(request.bodyProducer);
    else if (
      body === null &&
      (request.method === "POST" || request.method === "PUT" || request.method === "PATCH")
    ) {
      body = EMPTY;
    }
    const https = url.protocol === "https:";
    // undici takes an EventEmitter as the abort signal (its documented alternative to an
    // AbortSignal, which costs several times more to make and to listen to).
    let signal: EventEmitter | null = null;
    let timedOut = false;
    const requestTimeout = request.requestTimeout ?? 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    if (requestTimeout > 0) {
      const abort = new EventEmitter();
      signal = abort;
      timer = setTimeout(() => {
        timedOut = true;
        abort.emit("abort");
      }, requestTimeout);
    }
    let bodyStream: { destroy(error?: Error): void } | null = null;
    try {
      const dispatcher = this.#dispatcher(undici, request, https);
      const answer = await dispatcher.request({
        origin: url.origin,
        path: (url.pathname || "/") + url.search,
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body,
        signal,
        expectContinue: request.expect100Continue,
      } as Dispatcher.RequestOptions);
      bodyStream = answer.body;
      const code = answer.statusCode;
      const responseHeaders = new HTTPHeaders();
      const raw = answer.headers;
      for (const name of Object.keys(raw)) {
        const value = raw[name];
        if (typeof value === "string") responseHeaders.add(name, value);
        else if (Array.isArray(value)) for (const v of value) responseHeaders.add(name, v);
      }
      let decompressor: GzipDecompressor | null = null;
      const encoding = responseHeaders.get("Content-Encoding");
      if (
        request.decompressResponse &&
        encoding !== undefined &&
        encoding.toLowerCase() === "gzip" &&
        request.method !== "HEAD"
      ) {
        decompressor = new GzipDecompressor();
        responseHeaders.add("X-Consumed-Content-Encoding", encoding);
        responseHeaders.delete("Content-Encoding");
      }
      const reason = responses[code] ?? "Unknown";
      const headerCallback = request.headerCallback;
      if (headerCallback !== null) {
        headerCallback(`HTTP/1.1 ${code} ${reason}\r\n`);
        for (const [name, value] of responseHeaders.getAll())
          headerCallback(`${name}: ${value}\r\n`);
        headerCallback("\r\n");
      }
      const follow = this.willFollow(request, code, responseHeaders);
      const streaming = follow ? null : request.streamingCallback;
      const chunks: Buffer[] = [];
      let size = 0;
      // Synchronous unless a streaming callback returns a Promise.
      const deliver = (piece: Buffer): void | Promise<void> => {
        if (piece.length === 0) return;
        size += piece.length;
        if (size > this.maxBodySize) {
          throw new HTTPInputError(
            decompressor ? "decompressed body too large" : "body too large",
            {
              status: 413,
            },
          );
        }
        if (streaming === null) chunks.push(piece);
        else return streaming(piece) as void | Promise<void>;
      };
      const inflate = async (chunk: Buffer): Promise<void> => {
        let input = chunk;
        while (input.length > 0) {
          let decoded: Buffer;
          try {
            decoded = decompressor!.decompress(input, 65_536);
          } catch (error) {
            throw new HTTPInputError("invalid gzip data", { cause: error });
          }
          const delivered = deliver(decoded);
          if (delivered !== undefined) await delivered;
          input = decompressor!.unconsumedTail;
          if (input.length > 0 && decoded.length === 0) {
            throw new HTTPInputError("unconsumed gzip data without progress");
          }
        }
      };
      // A 304 or a HEAD response has no body whatever its Content-Length says; undici
      // reports the mismatch, Tornado (and RFC 9110 §8.6) ignore it.
      const bodiless = code === 304 || request.method === "HEAD";
      if (bodiless) answer.body.on("error", noop);
      else await readStream(answer.body, decompressor === null ? deliver : inflate);
      if (decompressor !== null) {
        let tail: Buffer;
        try {
          tail = decompressor.flush();
        } catch (error) {
          throw new HTTPInputError("truncated gzip data", { cause: error });
        }
        if (tail.length > 0) throw new HTTPInputError("truncated gzip data");
      }
      const now = performance.now();
      return new HTTPResponse(request, code, {
        reason,
        headers: responseHeaders,
        ...(chunks.length === 0
          ? {}
          : { body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }),
        effectiveUrl: request.url,
        requestTime: now - start + queued,
        timeInfo: { queue: queued, total: now - start },
      });
    } catch (error) {
      bodyStream?.destroy();
      return fail(translate(error, timedOut));
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }
}

let nextSslId = 1;
const sslIds = new WeakMap<object, number>();

function sslIdentity(options: object): number {
  let id = sslIds.get(options);
  if (id === undefined) {
    id = nextSslId++;
    sslIds.set(options, id);
  }
  return id;
}

const EMPTY = Buffer.alloc(0);

function noop(): void {}

/** Maps undici's errors to Tornado's 599 errors where Tornado has one. */
function translate(error: unknown, timedOut: boolean): Error {
  if (timedOut) return new HTTPTimeoutError("Timeout during request");
  const code = (error as { code?: string } | null)?.code;
  if (code === "UND_ERR_CONNECT_TIMEOUT") return new HTTPTimeoutError("Timeout while connecting");
  if (code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED") {
    return new HTTPStreamClosedError("Stream closed", { cause: error });
  }
  // A connect failure (ECONNREFUSED, …) arrives as the system error itself, as in Tornado.
  if (error instanceof Error) return error;
  return new Error(String(error));
}

/**
 * Reads `body` to its end, handing each chunk to `onChunk` in order (reading pauses while a
 * Promise it returns is pending): by the stream's events rather than its async iterator,
 * which costs a Promise and a turn per chunk. Resolves once the stream has ended and every
 * chunk is handled; rejects with the stream's error or what `onChunk` throws or rejects with
 * (the stream is then destroyed), or if the stream closes before its end.
 */
function readStream(
  body: Readable,
  onChunk: (chunk: Buffer) => void | Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let ended = false;
    // The chunk being handled asynchronously, if any, and chunks that came meanwhile (the
    // stream is paused then, so normally none).
    let busy = false;
    const waiting: Buffer[] = [];
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      body.destroy();
      reject(error);
    };
    const next = (): void => {
      while (!busy && !settled && waiting.length > 0) handle(waiting.shift()!);
      if (busy || settled) return;
      // The stream may end while paused, with the last chunk still being handled.
      if (ended) {
        settled = true;
        resolve();
      } else body.resume();
    };
    const handle = (chunk: Buffer): void => {
      let pending: void | Promise<void>;
      try {
        pending = onChunk(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      // Anything but a thenable (a callback's stray return value) is taken as done.
      if (typeof (pending as PromiseLike<void> | undefined)?.then !== "function") return;
      busy = true;
      body.pause();
      (pending as PromiseLike<void>).then(() => {
        busy = false;
        next();
      }, fail);
    };
    body.on("data", (chunk: Buffer) => {
      if (settled) return;
      if (busy) waiting.push(chunk);
      else handle(chunk);
    });
    body.once("end", () => {
      ended = true;
      if (!busy && waiting.length === 0 && !settled) {
        settled = true;
        resolve();
      }
    });
    body.once("error", fail);
    body.once("close", () => {
      if (!ended) fail(new HTTPStreamClosedError("Stream closed"));
    });
  });
}

/** A `bodyProducer` as an async iterable: each write resolves when undici takes the chunk. */
function producerIterable(
  producer: (write: (chunk: Buffer | Uint8Array | string) => Promise<void>) => Promise<void>,
): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      const pending: { chunk: Buffer; taken: () => void }[] = [];
      let done = false;
      let failure: unknown = null;
      let wake: (() => void) | null = null;
      const notify = (): void => {
        const w = wake;
        wake = null;
        w?.();
      };
      producer(
        (chunk) =>
          new Promise<void>((taken) => {
            const data = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
            pending.push({ chunk: data, taken });
            notify();
          }),
      ).then(
        () => {
          done = true;
          notify();
        },
        (error: unknown) => {
          failure = error ?? new Error("bodyProducer failed");
          notify();
        },
      );
      return {
        async next(): Promise<IteratorResult<Buffer>> {
          for (;;) {
            const item = pending.shift();
            if (item !== undefined) {
              item.taken();
              return { value: item.chunk, done: false };
            }
            if (failure !== null) throw failure;
            if (done) return { value: undefined, done: true };
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        },
      };
    },
  };
}
