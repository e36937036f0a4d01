/**
 * A non-blocking, single-threaded HTTP/1.1 server: Tornado's `tornado.httpserver`.
 *
 * {@link HTTPServer} is a `TCPServer` that speaks HTTP/1.x on every connection through
 * {@link HTTP1ServerConnection}. It hands each request either to an
 * {@link HTTPServerConnectionDelegate} (an `Application` or a router, which can stream the
 * body) or to a plain callback that receives the whole {@link HTTPServerRequest} and answers
 * through `request.connection`:
 *
 * ```ts
 * const server = new HTTPServer((request) => {
 *   const body = Buffer.from("Hello world\n");
 *   request.connection!.writeHeaders(
 *     new ResponseStartLine("HTTP/1.1", 200, "OK"),
 *     new HTTPHeaders({ "Content-Length": String(body.length) }),
 *     body,
 *   );
 *   request.connection!.finish();
 * });
 * await server.listen(8888);
 * ```
 *
 * Limits have safe defaults: 64 KiB of headers, 100 MiB of body, 60 s to receive a header
 * block (Tornado waits an hour), 60 s of idle keep-alive. With `xheaders`, `X-Real-Ip`,
 * `X-Forwarded-For`, `X-Scheme` and `X-Forwarded-Proto` from a trusted proxy set
 * `remoteIp` and `protocol`.
 *
 * Main exports: {@link HTTPServer}, {@link HTTPServerOptions}.
 */

import {
  HTTP1Connection,
  type HTTP1ConnectionParameters,
  HTTP1ServerConnection,
  ResolvedParameters,
} from "./http1connection.js";
import {
  type HTTPConnection,
  type HTTPHeaders,
  type HTTPMessageDelegate,
  type HTTPServerConnectionDelegate,
  HTTPServerRequest,
  type RequestStartLine,
  type ResponseStartLine,
} from "./httputil.js";
import { type IOStream, SSLIOStream } from "./iostream.js";
import { appLog, genLog } from "./log.js";
import { isValidIp, type PeerAddress } from "./netutil.js";
import { TCPServer, type TCPServerOptions } from "./tcpserver.js";

/** Options of an {@link HTTPServer}; durations in ms, sizes in bytes. */
export interface HTTPServerOptions extends TCPServerOptions {
  /** Trust `X-Real-Ip`/`X-Forwarded-For` and `X-Scheme`/`X-Forwarded-Proto`. @defaultValue false */
  xheaders?: boolean;
  /** Proxy addresses skipped when reading `X-Forwarded-For` from the right. */
  trustedDownstream?: string[];
  /** Force `request.protocol` (e.g. "https" behind a TLS-terminating proxy). */
  protocol?: string;
  /** Close every connection after one request. @defaultValue false */
  noKeepAlive?: boolean;
  /** Decode gzip request bodies (with the body limit applied to the decoded size). @defaultValue false */
  decompressRequest?: boolean;
  /** Largest body piece handed to a streaming delegate. @defaultValue 65536 */
  chunkSize?: number;
  /** Largest header block. @defaultValue 65536 */
  maxHeaderSize?: number;
  /** Largest number of header lines. @defaultValue 1000 */
  maxHeaderCount?: number;
  /** Largest request body. @defaultValue 100 MiB (the stream's maxBufferSize) */
  maxBodySize?: number;
  /** Time a kept-alive connection may sit idle between requests. @defaultValue 60000 */
  idleConnectionTimeout?: number;
  /** Time allowed to receive a request's header block. @defaultValue 60000 */
  headerTimeout?: number;
  /** Time allowed to receive a request body. @defaultValue none */
  bodyTimeout?: number;
  /** Accept bare LF line ends (see `HTTP1ConnectionParameters.lenient`). @defaultValue false */
  lenient?: boolean;
  /**
   * Most connections open at once; a connection past it is closed as soon as it is accepted
   * (logged once per burst at info), so a flood cannot exhaust memory. @defaultValue unlimited
   */
  maxConnections?: number;
}

/** A plain request callback: receives the whole request and answers via `request.connection`. */
export type RequestCallback = (request: HTTPServerRequest) => unknown;

/** Per-connection facts the request needs: the peer address and the (proxied) protocol. */
export class HTTPRequestContext {
  readonly address: string;
  readonly family: string;
  remoteIp: string;
  protocol: string;
  readonly #originalRemoteIp: string;
  readonly #originalProtocol: string;
  readonly trustedDownstream: ReadonlySet<string>;

  constructor(
    stream: IOStream,
    address: PeerAddress,
    protocol: string | undefined,
    trusted: ReadonlySet<string>,
  ) {
    this.address = address.address;
    this.family = address.family;
    // A Unix socket has no peer IP: a placeholder, as Tornado does.
    this.remoteIp = address.family === "unix" ? "0.0.0.0" : address.address;
    this.protocol = protocol ?? (stream instanceof SSLIOStream ? "https" : "http");
    this.#originalRemoteIp = this.remoteIp;
    this.#originalProtocol = this.protocol;
    this.trustedDownstream = trusted;
  }

  toString(): string {
    return this.family === "unix" ? this.address : this.remoteIp;
  }

  /** Applies a trusted proxy's headers for one request. */
  applyXheaders(headers: HTTPHeaders): void {
    let ip = headers.get("X-Forwarded-For") ?? this.remoteIp;
    const candidates = ip.split(",").map((s) => s.trim());
    for (let i = candidates.length - 1; i >= 0; i--) {
      ip = candidates[i]!;
      if (!this.trustedDownstream.has(ip)) break;
    }
    ip = headers.get("X-Real-Ip") ?? ip;
    if (isValidIp(ip)) this.remoteIp = ip;
    let proto = headers.get("X-Scheme") ?? headers.get("X-Forwarded-Proto") ?? this.protocol;
    proto = proto.split(",").at(-1)!.trim();
    if (proto === "http" || proto === "https") this.protocol = proto;
  }

  /** Undoes {@link applyXheaders}: proxy headers apply to one request only. */
  unapplyXheaders(): void {
    this.remoteIp = this.#originalRemoteIp;
    this.protocol = this.#originalProtocol;
  }
}

/** Collects a whole request for a plain callback. */
class CallableAdapter implements HTTPMessageDelegate {
  readonly #callback: RequestCallback;
  readonly #connection: HTTPConnection;
  #request: HTTPServerRequest | null = null;
  // Body pieces; most requests have none, so the list is made by the first.
  #chunks: Buffer[] | null = null;
  #size = 0;

  constructor(callback: RequestCallback, connection: HTTPConnection) {
    this.#callback = callback;
    this.#connection = connection;
  }

  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void {
    this.#request = new HTTPServerRequest({
      connection: this.#connection,
      startLine: startLine as RequestStartLine,
      headers,
    });
  }

  dataReceived(chunk: Buffer): void {
    (this.#chunks ??= []).push(chunk);
    this.#size += chunk.length;
  }

  finish(): void {
    const request = this.#request!;
    const chunks = this.#chunks;
    request.body =
      chunks === null
        ? EMPTY
        : chunks.length === 1
          ? chunks[0]!
          : Buffer.concat(chunks, this.#size);
    request.parseBody();
    this.#chunks = null;
    const result = this.#callback(request);
    if (
      result !== null &&
      typeof result === "object" &&
      typeof (result as any).then === "function"
    ) {
      // An async callback that fails: log it and drop the connection (no response can be
      // trusted to be complete), never an unhandled rejection.
      (result as PromiseLike<unknown>).then(undefined, (error: unknown) => {
        appLog.error("Uncaught exception in request callback for %s", request.uri, error);
        (this.#connection as HTTP1Connection).close();
      });
    }
  }

  onConnectionClose(): void {
    this.#chunks = null;
  }
}

const EMPTY = Buffer.alloc(0);

/** Applies `xheaders` around another delegate. */
class ProxyAdapter implements HTTPMessageDelegate {
  readonly #delegate: HTTPMessageDelegate;
  readonly #context: HTTPRequestContext;

  constructor(delegate: HTTPMessageDelegate, context: HTTPRequestContext) {
    this.#delegate = delegate;
    this.#context = context;
  }

  headersReceived(
    startLine: RequestStartLine | ResponseStartLine,
    headers: HTTPHeaders,
  ): void | Promise<void> {
    this.#context.applyXheaders(headers);
    return this.#delegate.headersReceived(startLine, headers);
  }

  dataReceived(chunk: Buffer): void | Promise<void> {
    return this.#delegate.dataReceived(chunk);
  }

  finish(): void | Promise<void> {
    try {
      return this.#delegate.finish();
    } finally {
      this.#context.unapplyXheaders();
    }
  }

  onConnectionClose(): void {
    try {
      this.#delegate.onConnectionClose();
    } finally {
      this.#context.unapplyXheaders();
    }
  }
}

function isServerConnectionDelegate(value: unknown): value is HTTPServerConnectionDelegate {
  return (
    typeof value === "object" && value !== null && typeof (value as any).startRequest === "function"
  );
}

/**
 * An HTTP/1.1 server over {@link TCPServer}.
 *
 * @example
 * ```ts
 * const server = new HTTPServer(app, { xheaders: true });
 * await server.listen(8888, "127.0.0.1");
 * // later
 * await server.close({ timeout: 5000 });
 * ```
 */
export class HTTPServer extends TCPServer implements HTTPServerConnectionDelegate {
  readonly requestCallback: HTTPServerConnectionDelegate | RequestCallback;
  readonly xheaders: boolean;
  readonly protocol: string | undefined;
  readonly trustedDownstream: ReadonlySet<string>;
  readonly connectionParameters: ResolvedParameters;
  readonly maxConnections: number;
  readonly #connections = new Set<HTTP1ServerConnection>();
  #refusing = false;
  #closeWaiters: (() => void)[] = [];

  constructor(
    requestCallback: HTTPServerConnectionDelegate | RequestCallback,
    options: HTTPServerOptions = {},
  ) {
    super({
      ssl: options.ssl,
      maxBufferSize: options.maxBufferSize,
      readChunkSize: options.chunkSize,
    });
    this.requestCallback = requestCallback;
    this.xheaders = options.xheaders ?? false;
    this.protocol = options.protocol;
    this.trustedDownstream = new Set(options.trustedDownstream ?? []);
    const params: HTTP1ConnectionParameters = {
      noKeepAlive: options.noKeepAlive,
      decompress: options.decompressRequest,
      chunkSize: options.chunkSize,
      maxHeaderSize: options.maxHeaderSize,
      maxHeaderCount: options.maxHeaderCount,
      maxBodySize: options.maxBodySize,
      headerTimeout: options.headerTimeout ?? 60_000,
      idleTimeout: options.idleConnectionTimeout ?? 60_000,
      bodyTimeout: options.bodyTimeout,
      lenient: options.lenient,
    };
    this.connectionParameters = new ResolvedParameters(params);
    const max = options.maxConnections ?? Infinity;
    if (!(max >= 1)) throw new RangeError("maxConnections must be at least 1");
    this.maxConnections = max;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  override handleStream(stream: IOStream, address: PeerAddress): void {
    if (this.#connections.size >= this.maxConnections) {
      if (!this.#refusing) {
        genLog.info("Connection limit (%d) reached; closing new connections", this.maxConnections);
        this.#refusing = true;
      }
      stream.close();
      return;
    }
    this.#refusing = false;
    // Responses are written whole (head and body in one write per turn), so Nagle's algorithm
    // would only delay them behind the peer's delayed ACK; node:http turns it off too.
    stream.setNodelay(true);
    const context = new HTTPRequestContext(stream, address, this.protocol, this.trustedDownstream);
    const connection = new HTTP1ServerConnection(stream, this.connectionParameters, context);
    this.#connections.add(connection);
    connection.startServing(this);
  }

  /** @internal HTTPServerConnectionDelegate */
  startRequest(serverConnection: object, requestConnection: HTTPConnection): HTTPMessageDelegate {
    let delegate: HTTPMessageDelegate = isServerConnectionDelegate(this.requestCallback)
      ? this.requestCallback.startRequest(serverConnection, requestConnection)
      : new CallableAdapter(this.requestCallback, requestConnection);
    if (this.xheaders) {
      delegate = new ProxyAdapter(
        delegate,
        (requestConnection as HTTP1Connection).context as HTTPRequestContext,
      );
    }
    return delegate;
  }

  /** @internal HTTPServerConnectionDelegate */
  onClose(serverConnection: object): void {
    this.#connections.delete(serverConnection as HTTP1ServerConnection);
    if (this.#connections.size === 0 && this.#closeWaiters.length > 0) {
      const waiters = this.#closeWaiters;
      this.#closeWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * Closes every open connection (in-flight requests are cut) and resolves when their loops
   * have ended. Call {@link stop} first to stop accepting.
   */
  async closeAllConnections(): Promise<void> {
    while (this.#connections.size > 0) {
      const connection = this.#connections.values().next().value as HTTP1ServerConnection;
      await connection.close();
      this.#connections.delete(connection);
    }
  }

  /**
   * Graceful shutdown: stops accepting, closes idle keep-alive connections at once, lets
   * in-flight requests finish (their connections close after the response), and after
   * `timeout` ms closes whatever is left.
   * @param options.timeout bound on the wait, ms. @defaultValue 10000
   */
  async close(options: { timeout?: number } = {}): Promise<void> {
    this.stop();
    for (const connection of this.#connections) connection.closeWhenIdle();
    if (this.#connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#closeWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.timeout ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
    }
    await this.closeAllConnections();
  }
}
