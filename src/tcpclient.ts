/**
 * A non-blocking TCP connection factory: Tornado's `tornado.tcpclient`.
 *
 * {@link TCPClient.connect} resolves a host name, connects to its addresses in "Happy
 * Eyeballs" order (RFC 6555, as Tornado's `_Connector`: {@link Connector}), optionally
 * starts TLS, and returns an {@link IOStream} (an {@link SSLIOStream} with TLS). One timeout
 * covers the whole: resolution, connection and handshake.
 *
 * Main exports: {@link TCPClient}, {@link Connector}, {@link TCPClientConnectOptions}.
 */

import { Socket } from "node:net";
import { Future, futureAddDoneCallback } from "./concurrent.js";
import { IOLoop, type TimeoutHandle } from "./ioloop.js";
import { IOStream, SSLIOStream, StreamClosedError } from "./iostream.js";
import {
  type AddressFamily,
  isValidIp,
  type ResolvedAddress,
  Resolver,
  type SSLOptions,
  sslOptionsToContext,
  sslWrapSocket,
} from "./netutil.js";
import { TimeoutError } from "./util.js";

/** How long (ms) the connector waits on the primary family before also trying the other one. */
export const INITIAL_CONNECT_TIMEOUT = 300;

/** What {@link Connector} connects to: anything with an address family. */
export interface ConnectorAddress {
  family: number | string;
}

/** Something {@link Connector} can close: a losing or late connection. */
export interface Closable {
  close(): void;
}

/**
 * Starts a connection to `address`. @returns the (not yet connected) stream, and a Promise
 * that resolves with it once connected or rejects with the connect error.
 */
export type ConnectFunction<A extends ConnectorAddress, S extends Closable> = (
  address: A,
) => [S, PromiseLike<S>];

/** The result of a {@link Connector}: the address that answered and its stream. */
export interface ConnectorResult<A, S> {
  address: A;
  stream: S;
}

/**
 * Tries a list of addresses in "Happy Eyeballs" order, as Tornado's `_Connector`.
 *
 * The addresses are split by family: the primary list (the first address's family) and the
 * secondary (the others). The primary list is tried one address at a time; if no attempt has
 * succeeded within the initial timeout (300 ms), or as soon as one fails, the secondary list
 * starts in parallel (also one at a time). The first success wins and every other attempt is
 * closed; when all have failed the result fails with the last error. An optional connect
 * deadline fails everything with {@link TimeoutError}.
 *
 * It is generic over the address and stream types so its logic can be tested with a fake
 * connect function, as Tornado's own tests do.
 */
export class Connector<A extends ConnectorAddress, S extends Closable> {
  /** Resolves with the winning address and stream, or fails with the last error. */
  readonly future: Future<ConnectorResult<A, S>>;
  /** Every stream started and not yet won (failed ones stay, as in Tornado). */
  readonly streams: Set<S>;
  /** Addresses of the first address's family, in order. */
  readonly primaryAddresses: A[];
  /** Addresses of other families, in order. */
  readonly secondaryAddresses: A[];
  readonly #connect: ConnectFunction<A, S>;
  readonly #loop: IOLoop;
  #timeout: TimeoutHandle | null;
  #connectTimeout: TimeoutHandle | null;
  #lastError: unknown;
  #remaining: number;

  /**
   * @param addresses - in preference order (as a resolver returns them).
   * @param connect - starts one connection attempt.
   */
  constructor(addresses: readonly A[], connect: ConnectFunction<A, S>) {
    this.future = new Future<ConnectorResult<A, S>>();
    this.streams = new Set<S>();
    [this.primaryAddresses, this.secondaryAddresses] = Connector.split(addresses);
    this.#connect = connect;
    this.#loop = IOLoop.current();
    this.#timeout = null;
    this.#connectTimeout = null;
    this.#lastError = undefined;
    this.#remaining = addresses.length;
  }

  /**
   * Splits `addresses` into the first address's family and the rest, keeping the order.
   * @returns `[primary, secondary]`.
   */
  static split<A extends ConnectorAddress>(addresses: readonly A[]): [A[], A[]] {
    const primary: A[] = [];
    const secondary: A[] = [];
    if (addresses.length === 0) return [primary, secondary];
    const primaryFamily = addresses[0]!.family;
    for (const address of addresses) {
      (address.family === primaryFamily ? primary : secondary).push(address);
    }
    return [primary, secondary];
  }

  /**
   * Starts connecting.
   * @param timeout - ms before the secondary family starts. @defaultValue 300
   * @param connectTimeout - when to give up: a duration in ms, or `{ deadline }` on
   *   `IOLoop.time()`'s clock; none by default.
   * @returns {@link future}.
   */
  start(
    timeout: number = INITIAL_CONNECT_TIMEOUT,
    connectTimeout?: number | { deadline: number },
  ): Future<ConnectorResult<A, S>> {
    if (this.#remaining === 0) {
      this.future.setException(new Error("no address to connect to"));
      return this.future;
    }
    this.#tryConnect(this.primaryAddresses[Symbol.iterator]());
    if (this.future.done()) return this.future;
    this.#timeout = this.#loop.callLater(timeout, () => this.onTimeout());
    if (connectTimeout !== undefined) {
      this.#connectTimeout = this.#loop.addTimeout(connectTimeout, () => this.onConnectTimeout());
    }
    return this.future;
  }

  #tryConnect(addresses: Iterator<A>): void {
    for (;;) {
      const next = addresses.next();
      if (next.done === true) {
        // This list is exhausted; fail only once the other one has finished too.
        if (this.#remaining === 0 && !this.future.done()) {
          this.clearTimeouts();
          this.future.setException(this.#lastError ?? new Error("connection failed"));
        }
        return;
      }
      const address = next.value;
      let stream: S;
      let connected: PromiseLike<S>;
      try {
        [stream, connected] = this.#connect(address);
      } catch (error) {
        // The attempt could not even start (a bad source address): count it as failed.
        this.#remaining--;
        this.#lastError = error;
        continue;
      }
      this.streams.add(stream);
      futureAddDoneCallback(connected, (done) => this.#onConnectDone(addresses, address, done));
      return;
    }
  }

  #onConnectDone(addresses: Iterator<A>, address: A, done: Future<S>): void {
    this.#remaining--;
    const error = done.exception();
    if (error !== undefined) {
      if (this.future.done()) return;
      this.#lastError = error;
      this.#tryConnect(addresses);
      // A failure is no reason to wait any longer for the other family.
      if (this.#timeout !== null) this.onTimeout();
      return;
    }
    const stream = done.result();
    this.clearTimeouts();
    if (this.future.done()) {
      // A late arrival after the race was decided: drop it.
      stream.close();
      return;
    }
    this.streams.delete(stream);
    this.future.setResult({ address, stream });
    this.closeStreams();
  }

  /** The initial timeout fired (or an attempt failed): start the secondary family. */
  onTimeout(): void {
    // Also when called by hand (tests) while the timer is pending.
    if (this.#timeout !== null) this.#loop.removeTimeout(this.#timeout);
    this.#timeout = null;
    if (!this.future.done()) this.#tryConnect(this.secondaryAddresses[Symbol.iterator]());
  }

  /** The connect deadline passed: fail with {@link TimeoutError} and close every attempt. */
  onConnectTimeout(): void {
    if (this.#connectTimeout !== null) this.#loop.removeTimeout(this.#connectTimeout);
    this.#connectTimeout = null;
    if (!this.future.done()) {
      if (this.#timeout !== null) this.#loop.removeTimeout(this.#timeout);
      this.#timeout = null;
      this.future.setException(new TimeoutError("Timeout while connecting"));
    }
    this.closeStreams();
  }

  /** Cancels both timers. */
  clearTimeouts(): void {
    if (this.#timeout !== null) this.#loop.removeTimeout(this.#timeout);
    if (this.#connectTimeout !== null) this.#loop.removeTimeout(this.#connectTimeout);
    this.#timeout = null;
    this.#connectTimeout = null;
  }

  /** Closes every stream still held (all but the winner). */
  closeStreams(): void {
    for (const stream of this.streams) stream.close();
  }
}

/** Options for {@link TCPClient.connect}. */
export interface TCPClientConnectOptions {
  /** Only IPv4 (4) or IPv6 (6) addresses; 0 for both. @defaultValue 0 */
  family?: AddressFamily;
  /**
   * Start TLS after connecting, with these settings (see `sslOptionsToContext`): the server
   * certificate is verified against `host` unless the options say otherwise.
   */
  ssl?: SSLOptions | null;
  /** `maxBufferSize` of the stream. @defaultValue the stream's (100 MiB) */
  maxBufferSize?: number;
  /** Local address to connect from. */
  sourceIp?: string;
  /** Local port to connect from; without `sourceIp`, binds the loopback address (as Tornado). */
  sourcePort?: number;
  /**
   * Give up with {@link TimeoutError} after this many ms, or at `{ deadline }` on
   * `IOLoop.time()`'s clock; covers resolution, connection and TLS handshake.
   */
  timeout?: number | { deadline: number };
}

/**
 * A non-blocking TCP connection factory, as Tornado's `TCPClient`.
 *
 * @example
 * ```ts
 * const client = new TCPClient();
 * const stream = await client.connect("localhost", 9888, { timeout: 5000 });
 * await stream.write("hello\n");
 * console.log((await stream.readUntil("\n")).toString());
 * stream.close();
 * client.close();
 * ```
 */
export class TCPClient {
  /** The resolver used for host names. */
  readonly resolver: Resolver;
  readonly #ownResolver: boolean;

  /** @param resolver - the resolver to use; by default `new Resolver()` (the configured one), closed by {@link close}. */
  constructor(resolver?: Resolver) {
    this.#ownResolver = resolver === undefined;
    this.resolver = resolver ?? new Resolver();
  }

  /** Closes the resolver if this client created it. */
  close(): void {
    if (this.#ownResolver) this.resolver.close();
  }

  /**
   * Connects to `host`:`port`.
   * @returns an {@link IOStream}, or an {@link SSLIOStream} with `ssl`, connected (and with
   *   TLS, past the handshake).
   * @throws (rejects) `ResolverError` if `host` does not resolve; `StreamClosedError` with the
   *   connect or TLS error as `realError` (`ECONNREFUSED`, `EADDRNOTAVAIL` for a bad
   *   `sourceIp`, a certificate error, …: the last one when every address failed);
   *   {@link TimeoutError} past `timeout`; RangeError for a bad port, family,
   *   `maxBufferSize` or `sourcePort`; TypeError for a `sourceIp` that is not an address.
   */
  async connect(
    host: string,
    port: number,
    options: TCPClientConnectOptions = {},
  ): Promise<IOStream> {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`port must be an integer in 0..65535, got ${String(port)}`);
    }
    const family = options.family ?? 0;
    if (family !== 0 && family !== 4 && family !== 6) {
      throw new RangeError(`family must be 0, 4 or 6, got ${String(family)}`);
    }
    const { maxBufferSize, sourceIp, sourcePort } = options;
    if (
      maxBufferSize !== undefined &&
      (!Number.isSafeInteger(maxBufferSize) || maxBufferSize <= 0)
    ) {
      throw new RangeError(
        `maxBufferSize must be a positive integer, got ${String(maxBufferSize)}`,
      );
    }
    if (
      sourcePort !== undefined &&
      (!Number.isInteger(sourcePort) || sourcePort < 0 || sourcePort > 65535)
    ) {
      throw new RangeError(`sourcePort must be an integer in 0..65535, got ${String(sourcePort)}`);
    }
    if (sourceIp !== undefined && !isValidIp(sourceIp)) {
      throw new TypeError(`sourceIp must be a numeric IP address, got ${JSON.stringify(sourceIp)}`);
    }
    const ssl =
      options.ssl === undefined || options.ssl === null
        ? null
        : sslOptionsToContext(options.ssl, false);
    const loop = IOLoop.current();
    let deadline: number | undefined;
    if (options.timeout !== undefined) {
      deadline =
        typeof options.timeout === "number"
          ? loop.time() + options.timeout
          : options.timeout.deadline;
    }
    const addresses = await withDeadline(this.resolver.resolve(host, port, family), deadline);
    const connector = new Connector<ResolvedAddress, Attempt>(addresses, (address) =>
      startAttempt(address, options),
    );
    const { stream: attempt } = await connector.start(
      INITIAL_CONNECT_TIMEOUT,
      deadline === undefined ? undefined : { deadline },
    );
    attempt.settle();
    const streamOptions =
      options.maxBufferSize !== undefined ? { maxBufferSize: options.maxBufferSize } : {};
    if (ssl === null) return new IOStream(attempt.socket, streamOptions);
    // TLS over the connected socket, wrapped at once so a timeout can close it mid-handshake
    // (the TLS socket, not the plain one under it).
    const stream = new SSLIOStream(
      sslWrapSocket(attempt.socket, ssl, { serverHostname: host }),
      streamOptions,
    );
    try {
      await withDeadline(stream.waitForHandshake(), deadline);
    } catch (error) {
      stream.close();
      throw error;
    }
    return stream;
  }
}

/** One connection attempt of {@link TCPClient.connect}: a socket connecting to one address. */
class Attempt implements Closable {
  readonly socket: Socket;
  readonly connected: Promise<Attempt>;
  #onError: (error: Error) => void = () => {};
  #onConnect: () => void = () => {};

  constructor(socket: Socket) {
    this.socket = socket;
    this.connected = new Promise<Attempt>((resolve, reject) => {
      this.#onConnect = () => resolve(this);
      this.#onError = (error) => reject(new StreamClosedError(error));
    });
    socket.once("connect", this.#onConnect);
    socket.on("error", this.#onError);
  }

  /** The attempt won: the socket is handed over to a stream. */
  settle(): void {
    this.socket.off("connect", this.#onConnect);
    this.socket.off("error", this.#onError);
  }

  close(): void {
    this.socket.destroy();
  }
}

function startAttempt(
  address: ResolvedAddress,
  options: TCPClientConnectOptions,
): [Attempt, Promise<Attempt>] {
  let localAddress = options.sourceIp;
  if (localAddress === undefined && options.sourcePort !== undefined) {
    localAddress = address.family === 6 ? "::1" : "127.0.0.1";
  }
  const socket = new Socket();
  const attempt = new Attempt(socket);
  socket.connect({
    host: address.address,
    port: address.port,
    family: address.family,
    ...(localAddress !== undefined ? { localAddress } : {}),
    ...(options.sourcePort !== undefined ? { localPort: options.sourcePort } : {}),
  });
  return [attempt, attempt.connected];
}

/** Races `promise` against a deadline on `IOLoop.time()`'s clock (none: no limit). */
function withDeadline<T>(promise: Promise<T>, deadline: number | undefined): Promise<T> {
  if (deadline === undefined) return promise;
  const loop = IOLoop.current();
  return new Promise<T>((resolve, reject) => {
    const timer = loop.addTimeout({ deadline }, () => reject(new TimeoutError()));
    promise.then(
      (value) => {
        loop.removeTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        loop.removeTimeout(timer);
        reject(error);
      },
    );
  });
}
