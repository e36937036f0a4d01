/**
 * The default, dependency-free HTTP client: Tornado's `tornado.simple_httpclient`.
 *
 * {@link SimpleAsyncHTTPClient} speaks HTTP/1.1 through {@link HTTP1Connection} (the parser
 * the server uses) over streams from {@link TCPClient}. Beyond Tornado's client it keeps
 * connections alive: idle connections are pooled per origin (capped, closed after an idle
 * timeout) and reused; a connection whose framing is in doubt (a malformed response, bytes
 * past the end of a response, an error or timeout mid-exchange) is closed, never reused.
 * Proxies are HTTP `CONNECT` tunnels, for `http:` and `https:` targets alike (TLS runs inside
 * the tunnel).
 *
 * Main export: {@link SimpleAsyncHTTPClient}; select it with
 * `AsyncHTTPClient.configure(SimpleAsyncHTTPClient, options)` (it is the default).
 */

import { performance } from "node:perf_hooks";
import { HTTP1Connection, ResolvedParameters } from "./http1connection.js";
import {
  AsyncHTTPClient,
  type AsyncHTTPClientOptions,
  basicAuthorization,
  HTTPProxyError,
  type HTTPRequest,
  HTTPResponse,
  HTTPStreamClosedError,
  HTTPTimeoutError,
  setDefaultImplementation,
  VERSION,
} from "./httpclient/base.js";
import { HTTPInputError } from "./httputil/errors.js";
import { HTTPHeaders } from "./httputil/headers.js";
import {
  type RequestStartLine as RequestStartLineType,
  RequestStartLine,
  type ResponseStartLine,
} from "./httputil/startline.js";
import type { HTTPMessageDelegate } from "./httputil/request.js";
import { type IOStream, StreamClosedError } from "./iostream.js";
import {
  type OverrideKey,
  OverrideResolver,
  type OverrideTarget,
  Resolver,
  type SSLContext,
  type SSLOptions,
  sslOptionsToContext,
} from "./netutil.js";
import { TCPClient } from "./tcpclient.js";
import { TimeoutError } from "./util.js";

/** Options of a {@link SimpleAsyncHTTPClient}; sizes in bytes, durations in ms. */
export interface SimpleAsyncHTTPClientOptions extends AsyncHTTPClientOptions {
  /**
   * Host names mapped to others before resolving (TLS still checks the original name): an
   * object of name → host, or `OverrideResolver` entries, which can also map a host and port
   * to another host and port (`[[{ host: "example.com", port: 80 }, { host: "127.0.0.1", port: 8888 }]]`).
   */
  hostnameMapping?:
    Record<string, string> | Iterable<readonly [OverrideKey, OverrideTarget]> | null;
  /** Largest read buffer of a connection. @defaultValue 104_857_600 (100 MiB) */
  maxBufferSize?: number;
  /** Resolver for host names. @defaultValue `new Resolver()`, closed by {@link close} */
  resolver?: Resolver | null;
  /** Largest response header block. @defaultValue 65_536 */
  maxHeaderSize?: number;
  /** Largest response body, counted after gzip decoding. @defaultValue `maxBufferSize` */
  maxBodySize?: number;
  /** Idle connections kept per origin; 0 disables keep-alive (`Connection: close`). @defaultValue `maxClients` */
  maxIdlePerOrigin?: number;
  /** Time an idle pooled connection is kept, in ms. @defaultValue 4_000 */
  idleTimeout?: number;
}

const DEFAULT_MAX_BUFFER_SIZE = 104_857_600;
const DEFAULT_USER_AGENT = `tornado-ts/${VERSION}`;
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/** A pooled connection's record, made once per connection (no closure per request). */
interface Idle {
  readonly stream: IOStream;
  readonly key: string;
  since: number;
  /** Close callback while idle: drops the record from the pool. */
  readonly onClose: () => void;
}

let nextTlsId = 1;
const tlsIds = new WeakMap<object, number>();

/** SimpleAsyncHTTPClient's pool, for Exchange (set in the client's static block). */
let pool: {
  checkout(client: SimpleAsyncHTTPClient, key: string): IOStream | null;
  track(client: SimpleAsyncHTTPClient, stream: IOStream): void;
  release(client: SimpleAsyncHTTPClient, key: string, stream: IOStream, reusable: boolean): void;
  discard(client: SimpleAsyncHTTPClient, stream: IOStream): void;
  params(client: SimpleAsyncHTTPClient, decompress: boolean): ResolvedParameters;
  tlsFor(client: SimpleAsyncHTTPClient, request: HTTPRequest): [SSLContext, string];
};

/**
 * The pure-TypeScript {@link AsyncHTTPClient}: Tornado's `SimpleAsyncHTTPClient`, with
 * keep-alive connection pooling and `CONNECT` proxies.
 *
 * @example
 * ```ts
 * const client = new SimpleAsyncHTTPClient({ maxClients: 50, idleTimeout: 10_000 });
 * const response = await client.fetch("http://127.0.0.1:8888/api", { method: "POST", body: "{}" });
 * client.close();
 * ```
 */
export class SimpleAsyncHTTPClient extends AsyncHTTPClient {
  /** Largest response header block, in bytes. */
  readonly maxHeaderSize: number;
  /** Largest response body, in bytes. */
  readonly maxBodySize: number;
  /** Largest read buffer of a connection, in bytes. */
  readonly maxBufferSize: number;
  /** Idle connections kept per origin. */
  readonly maxIdlePerOrigin: number;
  /** Time an idle connection is kept, in ms. */
  readonly idleTimeout: number;
  /** The TCP connection factory (its resolver applies `hostnameMapping`). */
  readonly tcpClient: TCPClient;
  readonly #ownResolver: Resolver | null;
  readonly #pool = new Map<string, Idle[]>();
  #idleCount = 0;
  #sweeper: NodeJS.Timeout | null = null;
  readonly #plainParams: ResolvedParameters;
  readonly #gzipParams: ResolvedParameters;
  readonly #tlsContexts = new Map<string, SSLContext>();
  /** Streams in use by an exchange, closed by {@link close}. */
  readonly #busy = new Set<IOStream>();
  readonly #records = new WeakMap<IOStream, Idle>();

  /**
   * @throws RangeError for a size or count that is not positive (or a negative idle setting).
   */
  constructor(options: SimpleAsyncHTTPClientOptions = {}) {
    super(options);
    this.maxBufferSize = options.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE;
    this.maxHeaderSize = options.maxHeaderSize ?? 65_536;
    this.maxBodySize = options.maxBodySize ?? this.maxBufferSize;
    this.maxIdlePerOrigin = options.maxIdlePerOrigin ?? this.maxClients;
    this.idleTimeout = options.idleTimeout ?? 4_000;
    for (const [name, value] of [
      ["maxBufferSize", this.maxBufferSize],
      ["maxHeaderSize", this.maxHeaderSize],
      ["idleTimeout", this.idleTimeout],
    ] as const) {
      if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be positive`);
    }
    if (!(Number.isInteger(this.maxIdlePerOrigin) && this.maxIdlePerOrigin >= 0)) {
      throw new RangeError("maxIdlePerOrigin must be a non-negative integer");
    }
    if (!(Number.isFinite(this.maxBodySize) && this.maxBodySize >= 0)) {
      throw new RangeError("maxBodySize must be >= 0");
    }
    const base = options.resolver ?? null;
    let resolver: Resolver;
    if (options.hostnameMapping != null) {
      const inner = base ?? new Resolver();
      resolver = new OverrideResolver(inner, options.hostnameMapping);
      // Closing the override closes what it wraps: only when we made that one.
      this.#ownResolver = base === null ? resolver : null;
    } else {
      resolver = base ?? new Resolver();
      this.#ownResolver = base === null ? resolver : null;
    }
    this.tcpClient = new TCPClient(resolver);
    const common = {
      maxHeaderSize: this.maxHeaderSize,
      maxBodySize: this.maxBodySize,
    };
    this.#plainParams = new ResolvedParameters(common);
    this.#gzipParams = new ResolvedParameters({ ...common, decompress: true });
  }

  /** Idle connections in the pool now (all origins). */
  get idleConnections(): number {
    return this.#idleCount;
  }

  /** Closes pooled and in-use connections and the resolver it created; see {@link AsyncHTTPClient.close}. */
  override close(): void {
    if (this.closed) return;
    super.close();
    for (const list of this.#pool.values()) for (const idle of list) idle.stream.close();
    this.#pool.clear();
    this.#idleCount = 0;
    for (const stream of this.#busy) stream.close();
    this.#busy.clear();
    if (this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
    this.#ownResolver?.close();
  }

  override fetchImpl(request: HTTPRequest, queued: number): Promise<HTTPResponse> {
    return new Exchange(this, request, queued).run();
  }

  // --- pool ---------------------------------------------------------------------------------

  /** An idle connection for `key`, or null. */
  #checkout(key: string): IOStream | null {
    const list = this.#pool.get(key);
    if (list === undefined) return null;
    const now = performance.now();
    while (list.length > 0) {
      const idle = list.pop()!;
      this.#idleCount--;
      const stream = idle.stream;
      // Closed by the server while idle, expired, or with stray bytes: never reused.
      if (stream.closed() || stream.readBufferSize > 0 || now - idle.since >= this.idleTimeout) {
        stream.close();
        continue;
      }
      stream.setCloseCallback(null);
      refSocket(stream, true);
      this.#busy.add(stream);
      return stream;
    }
    this.#pool.delete(key);
    return null;
  }

  /** Marks a fresh stream as in use. */
  #track(stream: IOStream): void {
    if (this.closed) {
      stream.close();
      return;
    }
    this.#busy.add(stream);
  }

  /** Returns a stream after an exchange: pooled if `reusable`, else closed. */
  #release(key: string, stream: IOStream, reusable: boolean): void {
    this.#busy.delete(stream);
    if (!reusable || this.closed || stream.closed() || stream.readBufferSize > 0) {
      stream.close();
      return;
    }
    let list = this.#pool.get(key);
    if (list === undefined) {
      list = [];
      this.#pool.set(key, list);
    }
    if (list.length >= this.maxIdlePerOrigin) {
      stream.close();
      return;
    }
    let idle = this.#records.get(stream);
    if (idle === undefined) {
      const record: Idle = {
        stream,
        key,
        since: 0,
        onClose: () => this.#dropIdle(record),
      };
      idle = record;
      this.#records.set(stream, idle);
    }
    idle.since = performance.now();
    list.push(idle);
    this.#idleCount++;
    // A server closing an idle connection is noticed at once (the stream keeps reading).
    stream.setCloseCallback(idle.onClose);
    refSocket(stream, false);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(this.#sweep, Math.max(50, this.idleTimeout / 2));
      this.#sweeper.unref();
    }
  }

  /** Forgets a stream (closed or failed) without pooling it. */
  #discard(stream: IOStream): void {
    this.#busy.delete(stream);
    stream.close();
  }

  #dropIdle(idle: Idle): void {
    const key = idle.key;
    const list = this.#pool.get(key);
    if (list === undefined) return;
    const index = list.indexOf(idle);
    if (index < 0) return;
    list.splice(index, 1);
    this.#idleCount--;
    if (list.length === 0) this.#pool.delete(key);
  }

  #sweep = (): void => {
    const now = performance.now();
    for (const [key, list] of this.#pool) {
      let kept = 0;
      for (const idle of list) {
        if (now - idle.since >= this.idleTimeout || idle.stream.closed()) {
          idle.stream.setCloseCallback(null);
          idle.stream.close();
          this.#idleCount--;
        } else list[kept++] = idle;
      }
      list.length = kept;
      if (kept === 0) this.#pool.delete(key);
    }
    if (this.#idleCount === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  };

  /** HTTP/1 parameters for a request. */
  #params(decompress: boolean): ResolvedParameters {
    return decompress ? this.#gzipParams : this.#plainParams;
  }

  /** TLS settings for a request, and a key for the pool. */
  #tlsFor(request: HTTPRequest): [SSLContext, string] {
    if (request.sslOptions !== null) {
      const options = request.sslOptions as object;
      let id = tlsIds.get(options);
      if (id === undefined) {
        id = nextTlsId++;
        tlsIds.set(options, id);
      }
      return [sslOptionsToContext(request.sslOptions), `o${id}`];
    }
    const key = JSON.stringify([
      request.validateCert !== false,
      request.caCerts ?? null,
      request.clientCert ?? null,
      request.clientKey ?? null,
    ]);
    let context = this.#tlsContexts.get(key);
    if (context === undefined) {
      const options: Record<string, unknown> = {
        cert_reqs: request.validateCert !== false ? "CERT_REQUIRED" : "CERT_NONE",
      };
      if (request.caCerts !== undefined) options["ca_certs"] = request.caCerts;
      if (request.clientCert !== undefined) options["certfile"] = request.clientCert;
      if (request.clientKey !== undefined) options["keyfile"] = request.clientKey;
      context = sslOptionsToContext(options as SSLOptions);
      this.#tlsContexts.set(key, context);
    }
    return [context, key];
  }

  static {
    // Exchange (below) works the pool through these: module-private, so they are not part
    // of the client's API.
    pool = {
      checkout: (client, key) => client.#checkout(key),
      track: (client, stream) => client.#track(stream),
      release: (client, key, stream, reusable) => client.#release(key, stream, reusable),
      discard: (client, stream) => client.#discard(stream),
      params: (client, decompress) => client.#params(decompress),
      tlsFor: (client, request) => client.#tlsFor(request),
    };
  }
}

setDefaultImplementation(SimpleAsyncHTTPClient);

function refSocket(stream: IOStream, ref: boolean): void {
  const socket = (stream as { socket?: { ref?: () => void; unref?: () => void } }).socket;
  if (ref) socket?.ref?.();
  else socket?.unref?.();
}

const PHASE_CONNECT = 0;
const PHASE_REQUEST = 1;

/** One request/response exchange of a {@link SimpleAsyncHTTPClient} (Tornado's `_HTTPConnection`). */
class Exchange implements HTTPMessageDelegate {
  readonly #client: SimpleAsyncHTTPClient;
  readonly #request: HTTPRequest;
  readonly #queued: number;
  readonly #start: number;
  #resolve: (response: HTTPResponse) => void = noop;
  #settled = false;
  #timer: NodeJS.Timeout | null = null;
  #phase = PHASE_CONNECT;
  #stream: IOStream | null = null;
  #key = "";
  #connection: HTTP1Connection | null = null;
  #connectTime = 0;
  #reused = false;
  #retried = false;
  #code = 0;
  #reason = "";
  #headers: HTTPHeaders | null = null;
  #chunks: Buffer[] = [];
  #follow = false;
  #bodyPending = false;
  #writingBody = false;
  #responseDone = false;
  #startLine: RequestStartLineType | null = null;
  #requestHeaders: HTTPHeaders | null = null;
  /** The request's own headers have Transfer-Encoding (else HTTP1Connection may add one). */
  #userFraming = false;

  constructor(client: SimpleAsyncHTTPClient, request: HTTPRequest, queued: number) {
    this.#client = client;
    this.#request = request;
    this.#queued = queued;
    this.#start = performance.now();
  }

  run(): Promise<HTTPResponse> {
    const promise = new Promise<HTTPResponse>((resolve) => {
      this.#resolve = resolve;
    });
    const timeout = this.#request.requestTimeout ?? 0;
    // A module-level callback with the exchange as argument: no closure per request.
    if (timeout > 0) this.#timer = setTimeout(onExchangeTimeout, timeout, this);
    void this.#begin(false);
    return promise;
  }

  /** The request timer fired. @internal */
  timedOut(): void {
    this.#timer = null;
    this.#fail(
      new HTTPTimeoutError(
        this.#phase === PHASE_CONNECT ? "Timeout while connecting" : "Timeout during request",
      ),
    );
  }

  /** Starts (or, after a failed reuse, restarts) the exchange; never rejects. */
  async #begin(restart: boolean): Promise<void> {
    try {
      await (restart ? this.#restart() : this.#start2());
    } catch (error) {
      this.#fail(error);
    }
  }

  async #start2(): Promise<void> {
    const request = this.#request;
    const client = this.#client;
    const url = request.parsedUrl();
    const https = url.protocol === "https:";
    let host = url.hostname;
    if (host.startsWith("[")) host = host.slice(1, -1);
    const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
    const proxy = request.proxyHost !== undefined;
    let tls: SSLContext | null = null;
    let key = `${url.protocol}//${host}:${port}`;
    if (https) {
      const [context, tlsKey] = pool.tlsFor(client, request);
      tls = context;
      key += `|${tlsKey}`;
    }
    if (proxy)
      key += `|proxy ${request.proxyHost}:${request.proxyPort} ${request.proxyUsername ?? ""}`;
    if (request.networkInterface !== undefined) key += `|from ${request.networkInterface}`;
    if (request.allowIpv6 === false) key += "|v4";
    this.#key = key;

    this.#buildRequest(url);

    const connectStart = performance.now();
    let stream = pool.checkout(client, key);
    if (stream !== null) {
      this.#reused = true;
    } else {
      stream = await this.#connect(host, port, tls);
      if (stream === null) return;
    }
    this.#connectTime = performance.now() - connectStart;
    this.#stream = stream;
    if (this.#settled) {
      pool.discard(client, stream);
      return;
    }
    this.#phase = PHASE_REQUEST;
    await this.#send(stream);
  }

  /** Connects (through the proxy tunnel if any); null if the exchange settled meanwhile. */
  async #connect(host: string, port: number, tls: SSLContext | null): Promise<IOStream | null> {
    const request = this.#request;
    const client = this.#client;
    const connectTimeout = request.connectTimeout ?? 0;
    const requestTimeout = request.requestTimeout ?? 0;
    let timeout = connectTimeout > 0 ? connectTimeout : 0;
    if (requestTimeout > 0 && (timeout === 0 || requestTimeout < timeout)) timeout = requestTimeout;
    const proxy = request.proxyHost !== undefined;
    let stream: IOStream;
    try {
      stream = await client.tcpClient.connect(
        proxy ? request.proxyHost! : host,
        proxy ? (request.proxyPort ?? 80) : port,
        {
          ssl: proxy ? null : tls,
          maxBufferSize: client.maxBufferSize,
          family: request.allowIpv6 === false ? 4 : 0,
          ...(timeout > 0 ? { timeout } : {}),
          ...(request.networkInterface !== undefined ? { sourceIp: request.networkInterface } : {}),
        },
      );
    } catch (error) {
      if (error instanceof TimeoutError) throw new HTTPTimeoutError("Timeout while connecting");
      throw error;
    }
    pool.track(client, stream);
    if (this.#settled) {
      pool.discard(client, stream);
      return null;
    }
    stream.setNodelay(true);
    if (proxy) {
      this.#stream = stream;
      stream = await this.#tunnel(stream, host, port, tls);
      pool.track(client, stream);
    }
    return stream;
  }

  /** Opens a `CONNECT` tunnel through the proxy on `stream`; TLS inside it for https. */
  async #tunnel(
    stream: IOStream,
    host: string,
    port: number,
    tls: SSLContext | null,
  ): Promise<IOStream> {
    const request = this.#request;
    const authority = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
    if (request.proxyUsername !== undefined) {
      head += `Proxy-Authorization: ${basicAuthorization(request.proxyUsername, request.proxyPassword ?? "")}\r\n`;
    }
    await stream.write(Buffer.from(`${head}\r\n`, "latin1"));
    const answer = await stream.readUntilRegex(/\r\n\r\n/, {
      maxBytes: this.#client.maxHeaderSize,
    });
    const m = /^HTTP\/1\.[01] ([0-9]{3})(?: ([^\r\n]*))?\r\n/.exec(answer.toString("latin1"));
    if (m === null) throw new HTTPInputError("malformed response from proxy to CONNECT");
    const code = Number(m[1]);
    if (code < 200 || code >= 300) {
      pool.discard(this.#client, stream);
      throw new HTTPProxyError(code, `proxy refused CONNECT ${authority}: ${m[2] ?? ""}`.trim());
    }
    if (stream.readBufferSize > 0) {
      throw new HTTPInputError("proxy sent data after its CONNECT response");
    }
    if (tls === null) return stream;
    const tlsStream = await stream.startTls({
      serverSide: false,
      sslOptions: tls,
      serverHostname: host,
    });
    pool.discard(this.#client, stream);
    return tlsStream;
  }

  #buildRequest(url: URL): void {
    const request = this.#request;
    const headers = request.headers;
    if (!headers.has("Host")) {
      headers.set("Host", url.host);
    }
    if (!headers.has("Authorization")) {
      if (url.username !== "" || url.password !== "") {
        headers.set(
          "Authorization",
          basicAuthorization(decodeURIComponent(url.username), decodeURIComponent(url.password)),
        );
      } else if (request.authUsername !== undefined && request.authMode !== "digest") {
        headers.set(
          "Authorization",
          basicAuthorization(request.authUsername, request.authPassword ?? ""),
        );
      }
    }
    if (!headers.has("User-Agent"))
      headers.set("User-Agent", request.userAgent ?? DEFAULT_USER_AGENT);
    if (this.#client.maxIdlePerOrigin === 0 && !headers.has("Connection")) {
      headers.set("Connection", "close");
    }
    const body = request.body;
    if (body !== null) headers.set("Content-Length", String(body.length));
    if (
      request.method === "POST" &&
      !headers.has("Content-Type") &&
      (body !== null || request.bodyProducer !== null)
    ) {
      headers.set("Content-Type", "application/x-www-form-urlencoded");
    }
    if (request.decompressResponse && !headers.has("Accept-Encoding")) {
      headers.set("Accept-Encoding", "gzip");
    }
    if (request.expect100Continue) headers.set("Expect", "100-continue");
    const path = (url.pathname || "/") + url.search;
    this.#startLine = new RequestStartLine(request.method, path, "HTTP/1.1");
    this.#requestHeaders = headers;
    this.#userFraming = headers.has("Transfer-Encoding");
  }

  async #send(stream: IOStream): Promise<void> {
    const request = this.#request;
    const client = this.#client;
    const connection = new HTTP1Connection(
      stream,
      true,
      pool.params(client, request.decompressResponse === true),
    );
    this.#connection = connection;
    const body = request.body;
    let written: Promise<void>;
    if (request.expect100Continue && (body !== null || request.bodyProducer !== null)) {
      this.#bodyPending = true;
      written = connection.writeHeaders(this.#startLine!, this.#requestHeaders!);
    } else if (body !== null && request.bodyProducer === null) {
      // Head and body in one write.
      written = connection.writeHeaders(this.#startLine!, this.#requestHeaders!, body);
      connection.finish();
    } else if (request.bodyProducer !== null) {
      this.#bodyPending = true;
      written = connection.writeHeaders(this.#startLine!, this.#requestHeaders!);
      written.catch(noop);
      void this.#writeBody();
    } else {
      written = connection.writeHeaders(this.#startLine!, this.#requestHeaders!);
      connection.finish();
    }
    written.catch(noop);
    // writeHeaders adds Transfer-Encoding: chunked to the headers it frames; the request keeps
    // its own headers (a redirect or retry frames them again).
    if (!this.#userFraming) this.#requestHeaders!.delete("Transfer-Encoding");
    let reusable: boolean;
    try {
      reusable = await connection.readResponse(this);
    } catch (error) {
      this.#failStream(error);
      return;
    }
    this.#finishExchange(reusable);
  }

  async #writeBody(): Promise<void> {
    const request = this.#request;
    const connection = this.#connection!;
    this.#bodyPending = false;
    this.#writingBody = true;
    try {
      if (request.bodyProducer !== null) {
        await request.bodyProducer((chunk) => connection.write(chunk));
      } else if (request.body !== null && request.body.length > 0) {
        await connection.write(request.body);
      }
      this.#writingBody = false;
      if (!connection.writeFinished && !this.#responseDone) connection.finish();
    } catch (error) {
      this.#writingBody = false;
      // The server answered before taking the whole body (413, 401, …): that answer wins.
      if (!this.#responseDone) this.#fail(error);
    }
  }

  // --- HTTPMessageDelegate ------------------------------------------------------------------

  headersReceived(
    startLine: RequestStartLineType | ResponseStartLine,
    headers: HTTPHeaders,
  ): void | Promise<void> {
    const line = startLine as ResponseStartLine;
    if (line.code >= 100 && line.code < 200) {
      if (line.code === 100 && this.#bodyPending) return this.#writeBody();
      return;
    }
    this.#code = line.code;
    this.#reason = line.reason;
    this.#headers = headers;
    const request = this.#request;
    this.#follow = this.#client.willFollow(request, line.code, headers);
    const callback = request.headerCallback;
    if (callback !== null) {
      callback(`${line.version} ${line.code} ${line.reason}\r\n`);
      for (const [name, value] of headers.getAll()) callback(`${name}: ${value}\r\n`);
      callback("\r\n");
    }
    return;
  }

  dataReceived(chunk: Buffer): void | Promise<void> {
    const callback = this.#request.streamingCallback;
    if (callback === null || this.#follow) {
      this.#chunks.push(chunk);
      return;
    }
    return callback(chunk);
  }

  finish(): void {
    this.#responseDone = true;
    // A final response came before the body was (wholly) sent: the request is incomplete, so
    // the connection cannot carry another one.
    if (this.#bodyPending || this.#writingBody) {
      this.#bodyPending = false;
      this.#connection?.close();
    }
  }

  onConnectionClose(): void {}

  // --- settling -----------------------------------------------------------------------------

  #finishExchange(reusable: boolean): void {
    const stream = this.#stream!;
    if (this.#settled) {
      pool.discard(this.#client, stream);
      return;
    }
    if (this.#headers === null) {
      this.#failStream(new StreamClosedError());
      return;
    }
    pool.release(this.#client, this.#key, stream, reusable && this.#connection!.writeFinished);
    const chunks = this.#chunks;
    const body =
      chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const now = performance.now();
    this.#settle(
      new HTTPResponse(this.#request, this.#code, {
        reason: this.#reason,
        headers: this.#headers,
        body,
        effectiveUrl: this.#request.url,
        requestTime: now - this.#start + this.#queued,
        timeInfo: { queue: this.#queued, connect: this.#connectTime, total: now - this.#start },
      }),
    );
  }

  /** A failure of the stream during the exchange: retry once on a fresh connection if safe. */
  #failStream(error: unknown): void {
    const stream = this.#stream;
    if (stream !== null) pool.discard(this.#client, stream);
    if (
      !this.#settled &&
      this.#reused &&
      !this.#retried &&
      this.#headers === null &&
      error instanceof StreamClosedError &&
      IDEMPOTENT.has(this.#request.method) &&
      this.#request.bodyProducer === null
    ) {
      // The server closed a pooled connection as we reused it: a known race of keep-alive.
      this.#retried = true;
      this.#reused = false;
      this.#phase = PHASE_CONNECT;
      this.#stream = null;
      this.#chunks = [];
      void this.#begin(true);
      return;
    }
    this.#fail(error);
  }

  async #restart(): Promise<void> {
    const url = this.#request.parsedUrl();
    const https = url.protocol === "https:";
    let host = url.hostname;
    if (host.startsWith("[")) host = host.slice(1, -1);
    const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
    const tls = https ? pool.tlsFor(this.#client, this.#request)[0] : null;
    const stream = await this.#connect(host, port, tls);
    if (stream === null) return;
    this.#stream = stream;
    if (this.#settled) {
      pool.discard(this.#client, stream);
      return;
    }
    this.#phase = PHASE_REQUEST;
    await this.#send(stream);
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    const stream = this.#stream;
    if (stream !== null) pool.discard(this.#client, stream);
    let value: Error;
    if (error instanceof StreamClosedError) {
      value = error.realError ?? new HTTPStreamClosedError("Stream closed", { cause: error });
    } else if (error instanceof Error) {
      value = error;
    } else {
      value = new Error(String(error));
    }
    const now = performance.now();
    this.#settle(
      new HTTPResponse(this.#request, 599, {
        error: value,
        requestTime: now - this.#start + this.#queued,
        timeInfo: { queue: this.#queued, total: now - this.#start },
      }),
    );
  }

  #settle(response: HTTPResponse): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#resolve(response);
  }
}

function noop(): void {}

function onExchangeTimeout(exchange: Exchange): void {
  exchange.timedOut();
}
