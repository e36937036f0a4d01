/**
 * A non-blocking, single-threaded TCP server: Tornado's `tornado.tcpserver`.
 *
 * Subclass {@link TCPServer} and override {@link TCPServer.handleStream}; each accepted
 * connection arrives there as an {@link IOStream} (an {@link SSLIOStream} with TLS).
 * Start it in one of three ways:
 *
 * 1. `await server.listen(port)`: one process.
 * 2. `server.addSockets(await bindSockets(port))`: sockets made elsewhere.
 * 3. `server.bind(port); await server.start(0)`: several processes through `node:cluster`
 *    (see `forkProcesses` in `process.ts`).
 *
 * Main exports: {@link TCPServer}, {@link TCPServerOptions}.
 */

import type { AddressInfo, Server, Socket } from "node:net";
import { createServer as createTLSServer, type Server as TLSServer, TLSSocket } from "node:tls";
import { IOStream, SSLIOStream } from "./iostream.js";
import { appLog, genLog } from "./log.js";
import {
  addAcceptHandler,
  type BindSocketsOptions,
  bindSockets,
  type PeerAddress,
  type SSLContext,
  type SSLOptions,
  sslOptionsToContext,
} from "./netutil.js";
import { forkProcesses } from "./process.js";

/** Options for {@link TCPServer}. */
export interface TCPServerOptions {
  /**
   * Serve TLS: a `tls.SecureContext`, Node TLS options (`{key, cert, ...}`) or Tornado's
   * `{certfile, keyfile, ...}` (see `sslOptionsToContext`). Files are read by the constructor.
   */
  ssl?: SSLOptions | null;
  /** `maxBufferSize` of each connection's stream. @defaultValue the stream's (100 MiB) */
  maxBufferSize?: number;
  /** `readChunkSize` of each connection's stream. @defaultValue the stream's (64 KiB) */
  readChunkSize?: number;
}

// Socket errors that mean "the client went away": closed quietly, as Tornado does for SSL EOF,
// ECONNABORTED and friends.
const QUIET_CODES = new Set(["ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EINVAL"]);

/** How long (ms) a client may take over its TLS handshake: Node's tls.Server default. */
const HANDSHAKE_TIMEOUT = 120_000;

/**
 * A TCP server: accepts connections and hands each one to {@link handleStream}.
 *
 * With `ssl`, every connection goes through TLS (Node's `tls.Server` machinery, fed the
 * accepted sockets) and reaches `handleStream` as an {@link SSLIOStream} once the handshake
 * is done and, if the options ask for it, the client certificate verified. A failed handshake
 * or a rejected certificate is logged once as a warning (a client that just disconnects or
 * resets, silently) and affects no other connection.
 *
 * @remarks Tornado may call `handle_stream` before the handshake finishes; here it is always
 * after, so `stream.socket.getPeerCertificate()` is ready.
 *
 * @example
 * ```ts
 * class EchoServer extends TCPServer {
 *   override async handleStream(stream: IOStream, address: PeerAddress) {
 *     for (;;) {
 *       const line = await stream.readUntil("\n");
 *       await stream.write(line);
 *     }
 *   }
 * }
 * const server = new EchoServer();
 * await server.listen(8888, "127.0.0.1");
 * ```
 */
export class TCPServer {
  /** The TLS settings, or null for plain TCP. */
  readonly sslContext: SSLContext | null;
  /** `maxBufferSize` given to each stream, if set. */
  readonly maxBufferSize: number | undefined;
  /** `readChunkSize` given to each stream, if set. */
  readonly readChunkSize: number | undefined;
  readonly #servers = new Map<Server, () => void>();
  readonly #pendingBinds: {
    port: number;
    address: string | undefined;
    options: BindSocketsOptions;
  }[];
  #started: boolean;
  readonly #onAccept: (socket: Socket, address: PeerAddress) => void;
  // Made once: every connection's stream gets the same options.
  readonly #streamOptions: { maxBufferSize?: number; readChunkSize?: number };
  readonly #tlsServer: TLSServer | null;

  /**
   * @throws RangeError for a `maxBufferSize` or `readChunkSize` that is not a positive
   *   integer; TypeError for Tornado-style `ssl` options without `certfile`, or a bare
   *   `tls.SecureContext` with `requestCert`; the errors of
   *   `sslOptionsToContext` (`SSLOptionsError` for a missing or invalid file).
   */
  constructor(options: TCPServerOptions = {}) {
    const ssl = options.ssl ?? null;
    if (ssl !== null && typeof ssl === "object" && isTornadoStyle(ssl) && !("certfile" in ssl)) {
      throw new TypeError('missing key "certfile" in ssl options');
    }
    for (const key of ["maxBufferSize", "readChunkSize"] as const) {
      const value = options[key];
      if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
        throw new RangeError(`${key} must be a positive integer, got ${String(value)}`);
      }
    }
    this.sslContext = ssl === null ? null : sslOptionsToContext(ssl, true);
    this.maxBufferSize = options.maxBufferSize;
    this.readChunkSize = options.readChunkSize;
    this.#streamOptions = {
      ...(this.maxBufferSize !== undefined ? { maxBufferSize: this.maxBufferSize } : {}),
      ...(this.readChunkSize !== undefined ? { readChunkSize: this.readChunkSize } : {}),
    };
    this.#pendingBinds = [];
    this.#started = false;
    this.#onAccept = this.#handleConnection.bind(this);
    this.#tlsServer = null;
    const context = this.sslContext;
    if (context !== null && hasCredentials(context)) {
      // Verification is ours (after the handshake) so a rejected certificate can be logged.
      const tlsServer = createTLSServer({ ...context, rejectUnauthorized: false });
      tlsServer.on("secureConnection", (socket: TLSSocket) => this.#handleSecureConnection(socket));
      tlsServer.on("tlsClientError", (error: Error, socket: TLSSocket) =>
        this.#handleTLSError(error, socket),
      );
      this.#tlsServer = tlsServer;
    } else if (context !== null && context.requestCert) {
      throw new TypeError(
        "a TLS server that asks for client certificates needs key/cert options " +
          "(or Tornado's certfile), not a bare tls.SecureContext",
      );
    }
  }

  /**
   * Starts accepting connections on `port` (and `address`; all interfaces by default), in
   * this process. May be called several times.
   * @param options - as `bindSockets`: `family`, `backlog`, `reusePort`.
   * @returns once listening.
   * @throws the errors of `bindSockets` (`EADDRINUSE`, `ResolverError`, …).
   */
  async listen(port: number, address?: string, options: BindSocketsOptions = {}): Promise<void> {
    const servers = await bindSockets(port, address, options);
    this.addSockets(servers);
  }

  /** Makes this server accept connections on already listening servers (from `bindSockets`). */
  addSockets(servers: Iterable<Server>): void {
    for (const server of servers) this.addSocket(server);
  }

  /** Makes this server accept connections on one listening server. Adding it twice does nothing. */
  addSocket(server: Server): void {
    if (this.#servers.has(server)) return;
    this.#servers.set(server, addAcceptHandler(server, this.#onAccept));
  }

  /**
   * Records a port to listen on when {@link start} runs: in every worker process when it
   * forks, so that `node:cluster` shares the port among them.
   * @throws RangeError for a bad port (checked again when bound).
   */
  bind(port: number, address?: string, options: BindSocketsOptions = {}): void {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`port must be an integer in 0..65535, got ${String(port)}`);
    }
    this.#pendingBinds.push({ port, address, options });
  }

  /**
   * Starts the server after {@link bind}. With `numProcesses` other than 1, forks that many
   * worker processes first (0 or less: one per CPU) through `forkProcesses`: the promise
   * then never resolves in the primary, which supervises the workers, and each worker binds
   * the recorded ports (shared by `node:cluster`) and resolves.
   *
   * @remarks Unlike Tornado, the ports are bound after the fork, in each worker: Node's
   * cluster module hands one listening socket to all of them.
   * @param numProcesses - worker processes. @defaultValue 1 (no fork)
   * @param maxRestarts - restarts of crashed workers before the primary gives up. @defaultValue 100
   * @throws Error if already started; the bind errors.
   */
  async start(numProcesses = 1, maxRestarts?: number): Promise<void> {
    if (this.#started) throw new Error("TCPServer already started");
    this.#started = true;
    if (numProcesses !== 1) await forkProcesses(numProcesses, maxRestarts);
    const binds = this.#pendingBinds.splice(0);
    for (const { port, address, options } of binds) await this.listen(port, address, options);
  }

  /**
   * Stops listening for new connections. Connections in progress go on. Calling it again,
   * or from inside a connection handler, is harmless.
   */
  stop(): void {
    for (const [server, remove] of this.#servers) {
      if (server.listening) server.close();
      remove();
    }
    this.#servers.clear();
  }

  /** The addresses this server listens on (TCP), for finding an ephemeral port. */
  addresses(): AddressInfo[] {
    const out: AddressInfo[] = [];
    for (const server of this.#servers.keys()) {
      const info = server.address();
      if (info !== null && typeof info !== "string") out.push(info);
    }
    return out;
  }

  /**
   * Handles a new connection: override it. It may return a Promise (an `async` method);
   * a rejection or exception is logged and the stream closed.
   * @param stream - the connection ({@link SSLIOStream} with TLS, past the handshake).
   * @param address - the peer's address.
   */
  handleStream(stream: IOStream, address: PeerAddress): void | Promise<void> {
    void address;
    stream.close();
    throw new Error(`${this.constructor.name} does not override handleStream`);
  }

  #handleConnection(socket: Socket, address: PeerAddress): void {
    if (this.#tlsServer !== null) {
      // The TLS server wraps the socket and runs the handshake; see #handleSecureConnection.
      this.#tlsServer.emit("connection", socket);
    } else if (this.sslContext !== null) {
      this.#handleBareTLS(socket, address);
    } else {
      // The peer's FIN does not end our side (Node would, and fail later writes): the stream
      // closes on it anyway, but an end-of-input callback may answer first.
      socket.allowHalfOpen = true;
      this.#serve(new IOStream(socket, this.#streamOptions), address);
    }
  }

  // TLS from a bare SecureContext (no options for a tls.Server to build from, and no client
  // certificates to verify): the stream runs the handshake and logs its failure.
  #handleBareTLS(socket: Socket, address: PeerAddress): void {
    const tlsSocket = new TLSSocket(socket, { ...this.sslContext, isServer: true });
    const stream = new SSLIOStream(tlsSocket, this.#streamOptions);
    // As tls.Server does: a client that never finishes its handshake is dropped.
    tlsSocket.setTimeout(HANDSHAKE_TIMEOUT, () => {
      genLog.warning("SSL Error on %s: handshake timed out", describe(address));
      stream.close();
    });
    stream.waitForHandshake().then(
      () => {
        tlsSocket.setTimeout(0);
        this.#serve(stream, address);
      },
      () => stream.close(),
    );
  }

  #handleSecureConnection(socket: TLSSocket): void {
    const address = peerOf(socket);
    const context = this.sslContext!;
    if (context.requestCert && context.rejectUnauthorized && !socket.authorized) {
      const certificate = socket.getPeerCertificate();
      const reason =
        certificate === null || Object.keys(certificate).length === 0
          ? "no certificate"
          : String(socket.authorizationError);
      genLog.warning(
        "SSL Error on %s: client certificate rejected (%s)",
        describe(address),
        reason,
      );
      socket.destroy();
      return;
    }
    this.#serve(new SSLIOStream(socket, this.#streamOptions), address);
  }

  #handleTLSError(error: Error, socket: TLSSocket): void {
    socket.destroy();
    // A client that goes away mid-handshake is no news (Tornado: SSL EOF, ECONNRESET).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && QUIET_CODES.has(code)) return;
    genLog.warning("SSL Error on %s: %s", describe(peerOf(socket)), error.message);
  }

  #serve(stream: IOStream, address: PeerAddress): void {
    let result: void | Promise<void>;
    try {
      result = this.handleStream(stream, address);
    } catch (error) {
      this.#handlerFailed(stream, address, error);
      return;
    }
    if (result !== undefined && result !== null && typeof result.then === "function") {
      result.then(undefined, (error: unknown) => this.#handlerFailed(stream, address, error));
    }
  }

  #handlerFailed(stream: IOStream, address: PeerAddress, error: unknown): void {
    appLog.error("Exception in callback handleStream() for %s", describe(address), error);
    stream.close();
  }
}

function peerOf(socket: Socket): PeerAddress {
  const remote = socket.remoteAddress;
  // TLS over a Unix socket has no remote address (as in Tornado, "").
  if (remote === undefined) return { address: "", family: "unix", port: 0 };
  return {
    address: remote,
    family: socket.remoteFamily === "IPv6" ? "IPv6" : "IPv4",
    port: socket.remotePort ?? 0,
  };
}

function describe(address: PeerAddress): string {
  if (address.family === "unix") return "unix socket";
  return address.family === "IPv6"
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}

function hasCredentials(context: SSLContext): boolean {
  return context.key !== undefined || context.cert !== undefined || context.pfx !== undefined;
}

function isTornadoStyle(options: object): boolean {
  return ["certfile", "keyfile", "ca_certs", "cert_reqs", "ssl_version"].some((k) => k in options);
}
