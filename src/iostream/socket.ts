// IOStream over net.Socket and SSLIOStream over tls.TLSSocket, with connect and STARTTLS
// (see src/iostream.ts).

import net from "node:net";
import tls from "node:tls";
import { genLog } from "../log.js";
import { type BaseIOStreamOptions, BaseIOStream, noop, rejected } from "./base.js";
import { StreamClosedError, StreamStateError } from "./errors.js";

/**
 * Node's keys for a socket made with the `onread` option of `net.Socket` (read into a given
 * buffer and hand each read to a callback, with no stream machinery in between), found once
 * on a probe socket; null when this Node has no such keys (the `data` event is used then).
 */
const userBufferKeys = findUserBufferKeys();

interface UserBufferKeys {
  buffer: symbol;
  callback: symbol;
  /** Gives the buffer for the next read (the `onread` option's buffer as a function). */
  generator: symbol | undefined;
}

function findUserBufferKeys(): UserBufferKeys | null {
  try {
    // `onread` is a documented option of net.connect(); the Socket constructor takes it too.
    const options = { onread: { buffer: Buffer.alloc(1), callback: () => true } };
    const probe = new net.Socket(options as net.SocketConstructorOpts);
    const symbols = Object.getOwnPropertySymbols(probe);
    const buffer = symbols.find((s) => s.description === "kBuffer");
    const callback = symbols.find((s) => s.description === "kBufferCb");
    const generator = symbols.find((s) => s.description === "kBufferGen");
    const ok =
      buffer !== undefined &&
      callback !== undefined &&
      Buffer.isBuffer((probe as unknown as Record<symbol, unknown>)[buffer]) &&
      typeof (probe as unknown as Record<symbol, unknown>)[callback] === "function";
    probe.destroy();
    return ok ? { buffer, callback, generator } : null;
  } catch {
    return null;
  }
}

/**
 * The buffer every plain TCP socket reads into. Each read is copied out, into a Buffer of
 * its exact size, before the next read can happen (reads run one at a time on the loop
 * thread), so one buffer serves all sockets.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(65536);

interface SocketHandle {
  useUserBuffer?: (buffer: Buffer) => void;
}

/** Options of {@link IOStream.startTls}. */
export interface StartTlsOptions {
  /** True on the side that accepted the connection. */
  serverSide: boolean;
  /**
   * TLS options for `tls.connect` (client) or `tls.createSecureContext` plus `TLSSocket`
   * options (server: `key`, `cert`, `requestCert`, …). Certificates are verified by default.
   */
  sslOptions?: tls.ConnectionOptions & tls.TlsOptions;
  /** A ready context, instead of building one from `sslOptions`. */
  secureContext?: tls.SecureContext;
  /** Client: the name the server certificate must match (also sent as SNI unless an IP). */
  serverHostname?: string;
}

/**
 * A stream over a TCP socket (`net.Socket`): Tornado's `IOStream`.
 *
 * @example
 * ```ts
 * const stream = await IOStream.connect({ host: "127.0.0.1", port: 8888 });
 * await stream.write("GET / HTTP/1.0\r\n\r\n");
 * const header = await stream.readUntil("\r\n\r\n");
 * ```
 */
export class IOStream extends BaseIOStream {
  #connecting: boolean;
  #connectPromise: Promise<IOStream> | null;
  #connectResolve: (stream: IOStream) => void;
  #connectReject: (error: Error) => void;
  readonly #onConnect: () => void;

  /**
   * Wraps `socket`, connected or not (see {@link IOStream.connect}).
   * @throws RangeError for a size option that is not a positive integer.
   */
  constructor(socket: net.Socket, options: BaseIOStreamOptions = {}) {
    super(socket, options);
    this.#connecting = socket.connecting;
    this.#connectPromise = null;
    this.#connectResolve = noop;
    this.#connectReject = noop;
    this.#onConnect = this.#handleConnect.bind(this);
    socket.on("connect", this.#onConnect);
    if (userBufferKeys !== null) this.#readIntoSharedBuffer(socket, userBufferKeys);
  }

  /**
   * Has `socket` read into {@link SHARED_READ_BUFFER} and hand each read straight to the
   * stream, as the `onread` option of `net.Socket` does; sockets accepted by a server cannot
   * be given that option, so its keys are set here. This skips the Readable machinery behind
   * the `data` event, about a quarter of the cost of a small request and its reply on a raw
   * socket. Sockets that already buffered data, TLS sockets and sockets whose handle lacks
   * the method keep the `data` event.
   */
  #readIntoSharedBuffer(socket: net.Socket, keys: UserBufferKeys): void {
    if (
      !(socket instanceof net.Socket) ||
      socket instanceof tls.TLSSocket ||
      socket.destroyed ||
      socket.readableLength > 0
    ) {
      return;
    }
    const handle = (socket as unknown as { _handle?: SocketHandle | null })._handle ?? null;
    // No handle yet: connect() makes one and installs the buffer itself (net's initSocketHandle).
    if (handle === null ? socket.connecting : typeof handle.useUserBuffer !== "function") return;
    const fields = socket as unknown as Record<symbol, unknown>;
    // A read that filled the buffer means a bulk transfer: the next read goes into a buffer of
    // its own, kept as it is, rather than copied out of the shared one. Any shorter read goes
    // back to the shared buffer (so an idle connection holds no buffer of its own).
    let bulk = false;
    fields[keys.buffer] = SHARED_READ_BUFFER;
    fields[keys.callback] = (length: number, buffer: Buffer): void => {
      bulk = length === buffer.length;
      if (buffer === SHARED_READ_BUFFER) this._receiveTransient(buffer, length);
      else this._receive(bulk ? buffer : buffer.subarray(0, length));
    };
    if (keys.generator !== undefined) {
      fields[keys.generator] = (): Buffer =>
        bulk ? Buffer.allocUnsafe(SHARED_READ_BUFFER.length) : SHARED_READ_BUFFER;
    }
    handle?.useUserBuffer!(SHARED_READ_BUFFER);
    // What the Readable behind the data event would have read ahead (its high-water mark).
    this._readAhead = socket.readableHighWaterMark;
  }

  /**
   * Connects to `options` (as `net.connect`) and wraps the socket.
   * @returns the stream, once connected.
   * @throws (rejects) {@link StreamClosedError} with the connect error as `realError`.
   */
  static connect(
    options: net.NetConnectOpts,
    streamOptions: BaseIOStreamOptions = {},
  ): Promise<IOStream> {
    const stream = new IOStream(net.connect(options), streamOptions);
    return stream.#waitConnect();
  }

  /** The socket. */
  get socket(): net.Socket {
    return this._socket as net.Socket;
  }

  /**
   * Connects the (unconnected) socket to `address`. Writes made before it resolves are sent
   * once connected.
   * @returns this stream, once connected.
   * @throws (rejects) {@link StreamClosedError} whose `realError` is the connect error
   *   (ECONNREFUSED, ENOTFOUND, …), also kept in `stream.error`; the stream is closed.
   */
  connect(address: net.NetConnectOpts): Promise<this> {
    if (this.closed()) return rejected(new StreamClosedError(this.error));
    if (this.#connecting || this.#connectPromise !== null) {
      return Promise.reject(new StreamStateError("Already connecting", "ERR_ALREADY_CONNECTING"));
    }
    try {
      // Bad options (a port out of range, …) throw here, before anything is under way.
      this.socket.connect(address);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#connecting = true;
    return this.#waitConnect();
  }

  #waitConnect(): Promise<this> {
    if (!this.#connecting) return Promise.resolve(this);
    if (this.#connectPromise === null) {
      this.#connectPromise = new Promise<IOStream>((resolve, reject) => {
        this.#connectResolve = resolve;
        this.#connectReject = reject;
      });
    }
    return this.#connectPromise as Promise<this>;
  }

  #handleConnect(): void {
    this.#connecting = false;
    const resolve = this.#connectResolve;
    this.#connectPromise = null;
    this.#connectResolve = noop;
    this.#connectReject = noop;
    resolve(this);
  }

  protected override _signalClosed(error: Error | null): void {
    this.#connecting = false;
    if (this.#connectPromise !== null) {
      const reject = this.#connectReject;
      this.#connectPromise.catch(noop);
      this.#connectPromise = null;
      this.#connectResolve = noop;
      this.#connectReject = noop;
      reject(new StreamClosedError(error));
    }
  }

  protected override _canFlushOnClose(): boolean {
    // Closing a connection still being made (a timeout) abandons it at once.
    return !this.#connecting && !this.socket.connecting;
  }

  protected override _logError(error: Error): void {
    // A failed connect is reported to whoever awaits connect(); no log record.
    if (this.#connectPromise !== null || isConnectError(error)) return;
    genLog.warning("Error on %s: %s", describePeer(this.socket), error.message);
  }

  /** Sets TCP_NODELAY (Nagle's algorithm off when true). */
  override setNodelay(value: boolean): void {
    if (!this.closed()) this.socket.setNoDelay(value);
  }

  /**
   * Upgrades this plain connection to TLS (STARTTLS), on the client or the server side.
   *
   * The stream must be idle: no read or write pending, nothing buffered; it is unusable
   * afterwards. The close callback and buffer sizes move to the new stream.
   * @returns the {@link SSLIOStream}, once the handshake is done.
   * @throws (rejects) {@link StreamStateError} `ERR_STREAM_NOT_IDLE` ("IOStream is not idle;
   *   cannot convert to SSL"); {@link StreamClosedError} whose `realError` is the TLS error if
   *   the handshake fails (certificate not trusted, hostname mismatch, …).
   */
  startTls(options: StartTlsOptions): Promise<SSLIOStream> {
    if (!this._isIdle() || this.#connecting) {
      return Promise.reject(
        new StreamStateError("IOStream is not idle; cannot convert to SSL", "ERR_STREAM_NOT_IDLE"),
      );
    }
    const raw = this.socket;
    const sslOptions = options.sslOptions ?? {};
    let tlsSocket: tls.TLSSocket;
    try {
      if (options.serverSide) {
        const secureContext = options.secureContext ?? tls.createSecureContext(sslOptions);
        tlsSocket = new tls.TLSSocket(raw, { ...sslOptions, isServer: true, secureContext });
      } else {
        const hostname = options.serverHostname;
        const connectOptions: tls.ConnectionOptions = { ...sslOptions, socket: raw };
        if (options.secureContext !== undefined)
          connectOptions.secureContext = options.secureContext;
        if (hostname !== undefined) {
          connectOptions.host = hostname;
          if (net.isIP(hostname) === 0) connectOptions.servername = hostname;
        }
        tlsSocket = tls.connect(connectOptions);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const closeCallback = this._detach();
    const stream = new SSLIOStream(tlsSocket, {
      maxBufferSize: this.maxBufferSize,
      readChunkSize: this.readChunkSize,
      ...(this.maxWriteBufferSize === undefined
        ? {}
        : { maxWriteBufferSize: this.maxWriteBufferSize }),
    });
    stream.setCloseCallback(closeCallback);
    return stream.waitForHandshake().then(() => stream);
  }
}

/** True for errors of making the TCP connection (refused, unreachable, name not found). */
function isConnectError(error: Error): boolean {
  const syscall = (error as NodeJS.ErrnoException).syscall;
  return syscall === "connect" || syscall === "getaddrinfo";
}

function describePeer(socket: net.Socket): string {
  const address = socket.remoteAddress;
  return address === undefined ? "socket" : `${address}:${socket.remotePort}`;
}

/**
 * A stream over a TLS socket (`tls.TLSSocket`): Tornado's `SSLIOStream`. Reads and writes
 * wait for the handshake; {@link SSLIOStream.waitForHandshake} tells when it is done.
 */
export class SSLIOStream extends IOStream {
  #handshakeDone: boolean;
  #handshakePromise: Promise<void> | null;
  #handshakeResolve: () => void;
  #handshakeReject: (error: Error) => void;
  readonly #onSecure: () => void;

  /**
   * Wraps a TLS socket: from `tls.connect`, a `tls.Server`'s `secureConnection`, or
   * `new tls.TLSSocket(socket, { isServer: true, … })`.
   * @throws RangeError for a size option that is not a positive integer.
   */
  constructor(socket: tls.TLSSocket, options: BaseIOStreamOptions = {}) {
    super(socket, options);
    // Node has no public "handshake done" flag; sockets from a tls.Server arrive done.
    this.#handshakeDone =
      (socket as unknown as { _secureEstablished?: boolean })._secureEstablished === true;
    this.#handshakePromise = null;
    this.#handshakeResolve = noop;
    this.#handshakeReject = noop;
    this.#onSecure = this.#handleSecure.bind(this);
    if (!this.#handshakeDone) {
      // Clients verify the peer before 'secureConnect'; servers emit only 'secure' (after
      // their own checks). A verification failure destroys the socket before our listener.
      socket.once("secureConnect", this.#onSecure);
      socket.once("secure", this.#onSecure);
    }
  }

  /**
   * Connects with `tls.connect(options)` and wraps the socket. Certificates are verified
   * unless `rejectUnauthorized: false`.
   * @returns the stream, once the handshake is done.
   * @throws (rejects) {@link StreamClosedError} whose `realError` is the connect or TLS error.
   */
  static override connect(
    options: tls.ConnectionOptions,
    streamOptions: BaseIOStreamOptions = {},
  ): Promise<SSLIOStream> {
    const stream = new SSLIOStream(tls.connect(options), streamOptions);
    return stream.waitForHandshake().then(() => stream);
  }

  /** The TLS socket. */
  override get socket(): tls.TLSSocket {
    return this._socket as tls.TLSSocket;
  }

  /**
   * Waits for the TLS handshake (at once if done). Call it before looking at the peer
   * certificate (`stream.socket.getPeerCertificate()`).
   * @throws (rejects) {@link StreamClosedError} whose `realError` is the TLS error if the
   *   handshake fails; {@link StreamStateError} if a wait is already pending (as Tornado).
   */
  waitForHandshake(): Promise<void> {
    if (this.#handshakePromise !== null) {
      return Promise.reject(
        new StreamStateError("Already waiting", "ERR_ALREADY_WAITING_FOR_HANDSHAKE"),
      );
    }
    if (this.#handshakeDone) return Promise.resolve();
    if (this.closed()) return rejected(new StreamClosedError(this.error));
    this.#handshakePromise = new Promise<void>((resolve, reject) => {
      this.#handshakeResolve = resolve;
      this.#handshakeReject = reject;
    });
    return this.#handshakePromise;
  }

  #handleSecure(): void {
    if (this.#handshakeDone || this.socket.destroyed || this.closed()) return;
    this.#handshakeDone = true;
    const resolve = this.#handshakeResolve;
    this.#handshakePromise = null;
    this.#handshakeResolve = noop;
    this.#handshakeReject = noop;
    resolve();
  }

  protected override _signalClosed(error: Error | null): void {
    super._signalClosed(error);
    if (this.#handshakePromise !== null) {
      const reject = this.#handshakeReject;
      this.#handshakePromise.catch(noop);
      this.#handshakePromise = null;
      this.#handshakeResolve = noop;
      this.#handshakeReject = noop;
      reject(new StreamClosedError(error));
    }
  }

  protected override _canFlushOnClose(): boolean {
    return this.#handshakeDone && super._canFlushOnClose();
  }

  protected override _logError(error: Error): void {
    if (isConnectError(error)) return; // reported by connect() / waitForHandshake()
    if (!this.#handshakeDone) {
      genLog.warning("SSL Error on %s: %s", describePeer(this.socket), error.message);
    } else super._logError(error);
  }
}
