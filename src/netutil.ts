/**
 * Miscellaneous network utility code: Tornado's `tornado.netutil`.
 *
 * - {@link bindSockets} and {@link bindUnixSocket} create listening `net.Server`s (one per
 *   address family, dual-stack by default), and {@link addAcceptHandler} hands their
 *   connections to a callback. Connections that arrive before a handler is attached wait in
 *   a queue bounded by the backlog, as they would in the kernel's listen queue.
 * - {@link Resolver} is the configurable asynchronous DNS resolver family:
 *   {@link DefaultResolver} (`dns.lookup`, the system's getaddrinfo with `/etc/hosts`),
 *   {@link CaresResolver} (c-ares through `dns.Resolver`, DNS queries only) and
 *   {@link OverrideResolver} (a fixed mapping in front of another resolver, for tests).
 * - {@link isValidIp} tells a numeric IPv4/IPv6 address from a host name.
 * - {@link sslOptionsToContext} turns a `tls.SecureContext`, Node TLS options or
 *   Tornado-style `{certfile, keyfile, ca_certs, cert_reqs, ...}` into one {@link SSLContext}
 *   (a `SecureContext` plus the verification flags Node keeps per connection), and
 *   {@link sslWrapSocket} wraps a connected socket with it.
 *
 * Errors: {@link ResolverError}, {@link SSLOptionsError}, {@link SocketFileError},
 * {@link ReusePortUnsupportedError}.
 */

import { promises as dnsPromises } from "node:dns";
import { chmodSync, lstatSync, readFileSync, unlinkSync } from "node:fs";
import { createServer, isIP, type Server, type Socket } from "node:net";
import type * as tls from "node:tls";
import {
  createSecureContext,
  type SecureContext,
  TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { appLog } from "./log.js";
import { type ConfigurableClass, Configurable, configurable } from "./util.js";

// ---------------------------------------------------------------------------------------------
// Errors

/** A host name could not be resolved. `cause` holds the resolver's own error (`code` `ENOTFOUND`, …). */
export class ResolverError extends Error {
  override name = "ResolverError";
  readonly code = "ERR_RESOLVE";
  /** The host that failed to resolve. */
  readonly host: string;
  constructor(host: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.host = host;
  }
}

/** TLS options that cannot be turned into a context: unreadable or invalid certificate files. */
export class SSLOptionsError extends Error {
  override name = "SSLOptionsError";
  readonly code = "ERR_SSL_OPTIONS";
}

/** {@link bindUnixSocket} found a file that is not a socket where the socket should go. */
export class SocketFileError extends Error {
  override name = "SocketFileError";
  readonly code = "ERR_NOT_A_SOCKET";
  /** The path of the offending file. */
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

/** `reusePort` was asked for but this Node.js cannot set `SO_REUSEPORT` (it needs ≥ 22.12 / 23.1). */
export class ReusePortUnsupportedError extends Error {
  override name = "ReusePortUnsupportedError";
  readonly code = "ERR_REUSE_PORT_UNSUPPORTED";
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** An address family as Node's `dns` names it: 4, 6, or 0 for "either". */
export type AddressFamily = 0 | 4 | 6;

/** One result of {@link Resolver.resolve}: a numeric address with the port to connect to. */
export interface ResolvedAddress {
  /** 4 for IPv4, 6 for IPv6. */
  family: 4 | 6;
  /** The numeric address, e.g. `127.0.0.1` or `::1`. */
  address: string;
  /** The port, as passed to `resolve` (or rewritten by an {@link OverrideResolver}). */
  port: number;
}

/** The peer of an accepted connection, given to {@link addAcceptHandler} callbacks. */
export interface PeerAddress {
  /** The peer's numeric address; `""` on a Unix socket (as in Tornado). */
  address: string;
  /** `"IPv4"`, `"IPv6"` or `"unix"`. */
  family: "IPv4" | "IPv6" | "unix";
  /** The peer's port; 0 on a Unix socket. */
  port: number;
}

/**
 * True if `ip` is a numeric IPv4 or IPv6 address (an IPv6 zone such as `fe80::1%lo` is
 * accepted); false for host names, the empty string, and strings with NUL or whitespace.
 */
export function isValidIp(ip: string): boolean {
  if (typeof ip !== "string" || ip === "" || ip.includes("\0")) return false;
  return isIP(ip) !== 0;
}

function checkPort(port: unknown, what = "port"): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${what} must be an integer in 0..65535, got ${String(port)}`);
  }
  return port;
}

function checkFamily(family: unknown): AddressFamily {
  if (family !== 0 && family !== 4 && family !== 6) {
    throw new RangeError(`family must be 0, 4 or 6, got ${String(family)}`);
  }
  return family;
}

// ---------------------------------------------------------------------------------------------
// Listening sockets

/** Options for {@link bindSockets}. */
export interface BindSocketsOptions {
  /** Restrict to IPv4 (4) or IPv6 (6); 0 binds every family the address resolves to. @defaultValue 0 */
  family?: AddressFamily;
  /**
   * The listen backlog; also bounds the connections queued before {@link addAcceptHandler}.
   * @defaultValue 2048 (Tornado uses 128, Node 511; with a burst of a thousand connects,
   * a short queue overflows while the loop accepts and clients wait out SYN retransmissions
   * of 1, 3, 7 s; the kernel caps it at net.core.somaxconn)
   */
  backlog?: number;
  /**
   * Set `SO_REUSEPORT` so several processes can bind the same port.
   * @throws {@link ReusePortUnsupportedError} where Node cannot (Node 20).
   * @defaultValue false
   */
  reusePort?: boolean;
  /** Resolves a host name `address`. @defaultValue a {@link DefaultResolver} */
  resolver?: Resolver;
}

/** True if this Node.js accepts `reusePort` in `server.listen` (22.12+, 23.1+). */
export const reusePortSupported: boolean = (() => {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
})();

interface AcceptState {
  handler: ((socket: Socket, address: PeerAddress) => void) | null;
  pending: Socket[];
  backlog: number;
  unix: boolean;
}

const acceptStates = new WeakMap<Server, AcceptState>();

// One module-level listener for every server; it finds its state through `this`.
function onConnection(this: Server, socket: Socket): void {
  const state = acceptStates.get(this);
  if (state === undefined) return;
  if (state.handler !== null) {
    deliver(state, socket);
    return;
  }
  if (state.pending.length >= state.backlog) {
    // The queue is full: refuse, as a full kernel backlog would.
    socket.destroy();
    return;
  }
  state.pending.push(socket);
  socket.once("close", () => {
    const i = state.pending.indexOf(socket);
    if (i >= 0) state.pending.splice(i, 1);
  });
}

function deliver(state: AcceptState, socket: Socket): void {
  let address: PeerAddress;
  if (state.unix) {
    address = { address: "", family: "unix", port: 0 };
  } else {
    const remote = socket.remoteAddress;
    if (remote === undefined || socket.destroyed) {
      // The peer reset the connection before we got to it (Tornado skips ECONNABORTED).
      socket.destroy();
      return;
    }
    address = {
      address: remote,
      family: socket.remoteFamily === "IPv6" ? "IPv6" : "IPv4",
      port: socket.remotePort ?? 0,
    };
  }
  try {
    state.handler!(socket, address);
  } catch (error) {
    appLog.error("Error in connection callback", error);
    socket.destroy();
  }
}

/** Listen backlog when none is given: room for a burst of connects. */
const DEFAULT_BACKLOG = 2048;

function stateFor(server: Server, backlog = DEFAULT_BACKLOG): AcceptState {
  let state = acceptStates.get(server);
  if (state === undefined) {
    const bound = server.address();
    state = { handler: null, pending: [], backlog, unix: typeof bound === "string" };
    acceptStates.set(server, state);
    server.on("connection", onConnection);
  }
  return state;
}

function listenOn(
  server: Server,
  options: { host?: string; port?: number; path?: string; backlog: number; ipv6Only?: boolean },
  reusePort: boolean,
): Promise<void> {
  const listenOptions: Record<string, unknown> = { ...options };
  if (reusePort) listenOptions["reusePort"] = true;
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(listenOptions, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeQuietly(server: Server): void {
  try {
    server.close();
  } catch {
    // not listening: nothing to close
  }
}

async function bindAddresses(
  address: string | undefined | null,
  family: AddressFamily,
  resolver: Resolver | undefined,
): Promise<{ host: string; family: 4 | 6; wildcard: boolean }[]> {
  if (address === undefined || address === null || address === "") {
    const all: { host: string; family: 4 | 6; wildcard: boolean }[] = [
      { host: "0.0.0.0", family: 4, wildcard: true },
      { host: "::", family: 6, wildcard: true },
    ];
    return all.filter((a) => family === 0 || a.family === family);
  }
  const literal = isIP(address);
  if (literal !== 0) {
    if (family !== 0 && family !== literal) {
      throw new ResolverError(address, `${address} is not an IPv${family} address`);
    }
    return [{ host: address, family: literal as 4 | 6, wildcard: false }];
  }
  const found = await (resolver ?? new DefaultResolver()).resolve(address, 0, family);
  const seen = new Set<string>();
  const out: { host: string; family: 4 | 6; wildcard: boolean }[] = [];
  for (const a of found) {
    if (seen.has(a.address)) continue;
    seen.add(a.address);
    out.push({ host: a.address, family: a.family, wildcard: false });
  }
  return out;
}

/**
 * Creates listening servers for `port` on `address`: one per address it resolves to.
 *
 * With `address` undefined or `""`, binds every interface on both IPv4 (`0.0.0.0`) and IPv6
 * (`::`, IPv6-only so the two do not collide); an IPv6 that the host lacks is skipped. A host
 * name binds each of its addresses (`::1` for `"localhost"` is skipped when the host has no
 * IPv6 loopback). With `port` 0 the first server gets an ephemeral port and the others the
 * same one. The servers do nothing with connections until {@link addAcceptHandler}.
 *
 * @param port - TCP port, 0 for an ephemeral one.
 * @param address - host name or numeric address; undefined or `""` for all interfaces.
 * @returns the listening servers, in resolution order (IPv4 first for the wildcard).
 * @throws RangeError for a bad port, family or backlog; {@link ResolverError} if `address`
 *   does not resolve; {@link ReusePortUnsupportedError}; the `listen` error (`EADDRINUSE`,
 *   `EACCES`, …) after closing any server already bound.
 */
export async function bindSockets(
  port: number,
  address?: string | null,
  options: BindSocketsOptions = {},
): Promise<Server[]> {
  checkPort(port);
  const family = checkFamily(options.family ?? 0);
  const backlog = options.backlog ?? DEFAULT_BACKLOG;
  if (!Number.isInteger(backlog) || backlog < 0) {
    throw new RangeError(`backlog must be a non-negative integer, got ${String(backlog)}`);
  }
  const reusePort = options.reusePort ?? false;
  if (reusePort && !reusePortSupported) {
    throw new ReusePortUnsupportedError(
      `reusePort needs Node.js 22.12 or later (this is ${process.versions.node})`,
    );
  }
  const targets = await bindAddresses(address, family, options.resolver);
  const servers: Server[] = [];
  let boundPort = port;
  let lastError: unknown;
  try {
    for (const target of targets) {
      const server = createServer();
      try {
        await listenOn(
          server,
          {
            host: target.host,
            port: boundPort,
            backlog,
            ...(target.family === 6 ? { ipv6Only: true } : {}),
          },
          reusePort,
        );
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // No IPv6 here: skip `::` for the wildcard and `::1` for "localhost", as Tornado does.
        const skippable =
          target.family === 6 &&
          (target.wildcard || address === "localhost") &&
          (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT");
        if (skippable) {
          lastError = error;
          continue;
        }
        throw error;
      }
      stateFor(server, backlog);
      servers.push(server);
      if (port === 0 && servers.length === 1) {
        const info = server.address();
        if (info !== null && typeof info !== "string") boundPort = info.port;
      }
    }
  } catch (error) {
    for (const server of servers) closeQuietly(server);
    throw error;
  }
  if (servers.length === 0) {
    throw lastError ?? new ResolverError(String(address), `no address to bind for ${address}`);
  }
  return servers;
}

/** Options for {@link bindUnixSocket}. */
export interface BindUnixSocketOptions {
  /** File mode of the socket. @defaultValue 0o600 */
  mode?: number;
  /** The listen backlog. @defaultValue 2048 (see {@link BindSocketsOptions.backlog}) */
  backlog?: number;
}

/**
 * Creates a server listening on the Unix socket `path`. A socket file already there (left by
 * a dead process) is replaced; any other file is refused. Linux abstract names (starting
 * with `"\0"`) are allowed and have no file.
 *
 * @remarks Node binds and listens in one step, so the mode is applied just after `listen`.
 * @returns the listening server; closing it removes the socket file.
 * @throws {@link SocketFileError} if `path` exists and is not a socket; the `listen` error.
 */
export async function bindUnixSocket(
  path: string,
  options: BindUnixSocketOptions = {},
): Promise<Server> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("bindUnixSocket needs a non-empty path");
  }
  const mode = options.mode ?? 0o600;
  const backlog = options.backlog ?? DEFAULT_BACKLOG;
  const abstract = path.startsWith("\0");
  if (!abstract) {
    let isSocket: boolean | undefined;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (isSocket === false) {
      throw new SocketFileError(path, `File ${path} exists and is not a socket`);
    }
    if (isSocket === true) unlinkSync(path);
  }
  const server = createServer();
  await listenOn(server, { path, backlog }, false);
  if (!abstract) {
    try {
      chmodSync(path, mode);
    } catch (error) {
      closeQuietly(server);
      throw error;
    }
  }
  stateFor(server, backlog);
  return server;
}

/**
 * Hands each connection accepted by `server` to `callback(socket, address)`. Connections
 * queued since the server was bound are delivered first, on a later turn of the loop.
 * A peer that already reset its connection is skipped. An exception thrown by `callback`
 * is logged and its socket destroyed.
 *
 * @param server - a listening server, from {@link bindSockets} or any `net.Server`.
 * @returns a function that detaches the callback; later connections queue again (on a server
 *   already closed, the queued connections are closed instead).
 * @throws TypeError if the server already has an accept handler.
 */
export function addAcceptHandler(
  server: Server,
  callback: (socket: Socket, address: PeerAddress) => void,
): () => void {
  const state = stateFor(server);
  if (state.handler !== null) throw new TypeError("server already has an accept handler");
  state.unix = typeof server.address() === "string";
  state.handler = callback;
  if (state.pending.length > 0) {
    setImmediate(() => {
      while (state.handler === callback && state.pending.length > 0) {
        deliver(state, state.pending.shift()!);
      }
    });
  }
  return () => {
    if (state.handler === callback) state.handler = null;
    // A closed server will never hand its queue to anyone: close those connections.
    if (!server.listening) for (const socket of state.pending.splice(0)) socket.destroy();
  };
}

// ---------------------------------------------------------------------------------------------
// Resolvers

/**
 * Configurable asynchronous DNS resolver, as Tornado's `Resolver` (a `Configurable`).
 *
 * `new Resolver(options?)` builds the configured implementation, by default
 * {@link DefaultResolver}; `Resolver.configure(CaresResolver, defaults)` changes it for the
 * whole process (e.g. for every `TCPClient` created later), and
 * `Resolver.saveConfiguration()` / `restoreConfiguration()` undo that in tests.
 * Implementations extend `Resolver` and override {@link Resolver.resolve} (and `close`).
 *
 * @example
 * ```ts
 * Resolver.configure(CaresResolver, { timeout: 2000 });
 * const addresses = await new Resolver().resolve("example.com", 443);
 * ```
 */
export const Resolver = configurable(
  class Resolver extends Configurable {
    /** The implementation built when none is configured: {@link DefaultResolver}. */
    static override configurableDefault(): ConfigurableClass {
      return DefaultResolver;
    }

    /**
     * Resolves `host` to numeric addresses. Implementations override it.
     *
     * @param host - a host name or numeric address.
     * @param port - copied into each result.
     * @param family - 4 or 6 to restrict the answer; 0 (the default) for both.
     * @returns the addresses, in the resolver's preference order; never empty.
     * @throws (rejects) {@link ResolverError} when the name does not resolve; TypeError
     *   from an implementation that does not override it.
     */
    resolve(host: string, port: number, family?: AddressFamily): Promise<ResolvedAddress[]> {
      void host;
      void port;
      void family;
      return Promise.reject(new TypeError(`${this.constructor.name} does not implement resolve()`));
    }

    /** Releases the resolver's resources. Safe to call more than once. */
    close(): void {}
  },
);
/** A resolver: an instance of any {@link Resolver} implementation. */
export type Resolver = InstanceType<typeof Resolver>;

function resolveError(host: string, error: unknown): ResolverError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new ResolverError(
    host,
    `Failed to resolve ${JSON.stringify(host)}${code ? `: ${code}` : ""}`,
    { cause: error },
  );
}

/**
 * The default resolver: the system's `getaddrinfo` through `dns.lookup` (so `/etc/hosts` and
 * the system's configuration apply), returning every address in the system's order.
 */
export class DefaultResolver extends Resolver {
  override async resolve(
    host: string,
    port: number,
    family: AddressFamily = 0,
  ): Promise<ResolvedAddress[]> {
    checkFamily(family);
    if (typeof host !== "string" || host === "") throw resolveError(String(host), undefined);
    let found: { address: string; family: number }[];
    try {
      found = await dnsPromises.lookup(host, { all: true, family, verbatim: true });
    } catch (error) {
      throw resolveError(host, error);
    }
    const seen = new Set<string>();
    const out: ResolvedAddress[] = [];
    for (const a of found) {
      if (seen.has(a.address)) continue;
      seen.add(a.address);
      out.push({ family: a.family === 6 ? 6 : 4, address: a.address, port });
    }
    if (out.length === 0) throw resolveError(host, undefined);
    return out;
  }
}

/** Options for {@link CaresResolver}. */
export interface CaresResolverOptions {
  /** Query timeout in ms; -1 for c-ares' default. @defaultValue -1 */
  timeout?: number;
  /** Attempts per name server. @defaultValue 4 */
  tries?: number;
  /** Name servers to ask instead of the system's (`dns.Resolver.setServers` format). */
  servers?: string[];
}

const LOCALHOST_RE = /^(?:localhost|.+\.localhost)\.?$/i;

/**
 * A resolver asking DNS servers directly through c-ares (`dns.Resolver`), as Tornado's
 * `CaresResolver`: it does not read `/etc/hosts` and never blocks a libuv thread.
 * A numeric address is returned as is (a family mismatch is an error). With family 0 the
 * IPv6 and IPv4 answers are combined, IPv6 first.
 *
 * @remarks `localhost` and `*.localhost` answer the loopback addresses without a query
 * (RFC 6761), since DNS servers do not know them and `/etc/hosts` is not read.
 */
export class CaresResolver extends Resolver {
  readonly #resolver: dnsPromises.Resolver;

  constructor(options: CaresResolverOptions = {}) {
    super(options);
    this.#resolver = new dnsPromises.Resolver({
      timeout: options.timeout ?? -1,
      tries: options.tries ?? 4,
    });
    if (options.servers !== undefined) this.#resolver.setServers(options.servers);
  }

  override async resolve(
    host: string,
    port: number,
    family: AddressFamily = 0,
  ): Promise<ResolvedAddress[]> {
    checkFamily(family);
    const literal = isIP(host);
    if (literal !== 0) {
      if (family !== 0 && family !== literal) {
        throw new ResolverError(host, `Requested IPv${family} but got IPv${literal}: ${host}`);
      }
      return [{ family: literal as 4 | 6, address: host, port }];
    }
    if (LOCALHOST_RE.test(host)) {
      const out: ResolvedAddress[] = [];
      if (family !== 4) out.push({ family: 6, address: "::1", port });
      if (family !== 6) out.push({ family: 4, address: "127.0.0.1", port });
      return out;
    }
    const queries: Promise<string[]>[] = [];
    const families: (4 | 6)[] = family === 0 ? [6, 4] : [family];
    for (const f of families) {
      queries.push(f === 6 ? this.#resolver.resolve6(host) : this.#resolver.resolve4(host));
    }
    const settled = await Promise.allSettled(queries);
    const out: ResolvedAddress[] = [];
    let lastError: unknown;
    settled.forEach((result, i) => {
      if (result.status === "rejected") {
        lastError = result.reason;
        return;
      }
      for (const address of result.value) out.push({ family: families[i]!, address, port });
    });
    if (out.length === 0) throw resolveError(host, lastError);
    return out;
  }

  /** Cancels outstanding queries (they fail with `ECANCELLED`). */
  override close(): void {
    this.#resolver.cancel();
  }
}

/** A key of an {@link OverrideResolver} mapping: a host, or a host with port (and family). */
export type OverrideKey = string | { host: string; port?: number; family?: AddressFamily };
/** What a key maps to: a host (the port is kept), or a host and port. */
export type OverrideTarget = string | { host: string; port: number };

/** The mapping of an {@link OverrideResolver}: `[key, target]` entries, or hosts to hosts. */
export type OverrideMapping =
  Iterable<readonly [OverrideKey, OverrideTarget]> | Readonly<Record<string, string>>;

/** Options of {@link OverrideResolver} in the single-object (`Configurable`) form. */
export interface OverrideResolverOptions {
  /** The resolver to delegate to. */
  resolver: Resolver;
  /** The names to override. */
  mapping: OverrideMapping;
}

function overrideKey(host: string, port?: number, family?: AddressFamily): string {
  if (port === undefined) return JSON.stringify([host]);
  if (family === undefined) return JSON.stringify([host, port]);
  return JSON.stringify([host, port, family]);
}

/**
 * Resolves some names from a fixed mapping before asking another resolver; for tests that
 * must reach a local server under a public name. Keys are tried from the most specific:
 * `{host, port, family}`, then `{host, port}`, then `host`. The target is then resolved by
 * the wrapped resolver (a numeric target resolves to itself).
 *
 * @example
 * ```ts
 * const resolver = new OverrideResolver(new DefaultResolver(), [
 *   ["example.com", "127.0.0.1"],
 *   [{ host: "login.example.com", port: 443 }, { host: "localhost", port: 1443 }],
 *   [{ host: "login.example.com", port: 443, family: 6 }, { host: "::1", port: 1443 }],
 * ]);
 * ```
 */
export class OverrideResolver extends Resolver {
  /** The resolver asked after the mapping is applied. */
  readonly resolver: Resolver;
  readonly #mapping = new Map<string, OverrideTarget>();

  /**
   * @param resolver - the resolver to delegate to, or one options object
   *   `{ resolver, mapping }` (the `Configurable` form, for `Resolver.configure`).
   * @param mapping - entries `[key, target]`, or an object mapping host names to hosts.
   * @throws TypeError for a missing resolver, a malformed key or target.
   */
  constructor(resolver: Resolver | OverrideResolverOptions, mapping?: OverrideMapping) {
    super();
    if (!(resolver instanceof Resolver) && typeof resolver === "object" && resolver !== null) {
      mapping = resolver.mapping;
      resolver = resolver.resolver;
    }
    if (!(resolver instanceof Resolver)) {
      throw new TypeError("OverrideResolver needs a Resolver to delegate to");
    }
    if (typeof mapping !== "object" || mapping === null) {
      throw new TypeError("OverrideResolver needs a mapping");
    }
    this.resolver = resolver;
    const entries: Iterable<readonly [OverrideKey, OverrideTarget]> =
      Symbol.iterator in Object(mapping)
        ? (mapping as Iterable<readonly [OverrideKey, OverrideTarget]>)
        : Object.entries(mapping as Record<string, string>);
    for (const [key, target] of entries) {
      if (typeof target !== "string" && (typeof target?.host !== "string" || target === null)) {
        throw new TypeError(`bad OverrideResolver target for ${JSON.stringify(key)}`);
      }
      if (typeof target !== "string") checkPort(target.port, "target port");
      if (typeof key === "string") {
        this.#mapping.set(overrideKey(key), target);
      } else if (key !== null && typeof key === "object" && typeof key.host === "string") {
        if (key.port === undefined && key.family !== undefined) {
          throw new TypeError("an OverrideResolver key with a family needs a port");
        }
        if (key.port !== undefined) checkPort(key.port, "key port");
        if (key.family !== undefined) checkFamily(key.family);
        this.#mapping.set(overrideKey(key.host, key.port, key.family), target);
      } else {
        throw new TypeError(`bad OverrideResolver key ${JSON.stringify(key)}`);
      }
    }
  }

  override async resolve(
    host: string,
    port: number,
    family: AddressFamily = 0,
  ): Promise<ResolvedAddress[]> {
    const target =
      this.#mapping.get(overrideKey(host, port, family)) ??
      this.#mapping.get(overrideKey(host, port)) ??
      this.#mapping.get(overrideKey(host));
    if (target !== undefined) {
      if (typeof target === "string") host = target;
      else {
        host = target.host;
        port = target.port;
      }
    }
    return this.resolver.resolve(host, port, family);
  }

  /** Closes the wrapped resolver. */
  override close(): void {
    this.resolver.close();
  }
}

// ---------------------------------------------------------------------------------------------
// TLS

const SSL_CONTEXT = Symbol("tornado-ts.SSLContext");

/**
 * TLS settings ready for a connection: a `SecureContext` (certificates, ciphers, versions)
 * plus the per-connection flags Node keeps outside it, and the options the context was built
 * from when there were some (`key`, `cert`, `ca`, …: `tls.createServer` ignores
 * `secureContext` and builds its own from them). Spread it into `tls.connect`,
 * `new tls.TLSSocket` or `tls.createServer` options. Made by {@link sslOptionsToContext}.
 */
export type SSLContext = Readonly<
  tls.ConnectionOptions &
    tls.TlsOptions & {
      secureContext: SecureContext;
      /** Ask the peer for a certificate (servers). */
      requestCert: boolean;
      /** Fail the handshake when the peer's certificate does not verify. */
      rejectUnauthorized: boolean;
    }
>;

/** Python `ssl` certificate requirements, by name or by value (`CERT_NONE` = 0, …). */
export type CertReqs = "CERT_NONE" | "CERT_OPTIONAL" | "CERT_REQUIRED" | 0 | 1 | 2;

/** Tornado's `ssl_options` dictionary, with Python `ssl` names. Paths are read at conversion. */
export interface TornadoSSLOptions {
  /** PEM certificate chain; also holds the key when `keyfile` is absent. */
  certfile?: string;
  /** PEM private key. */
  keyfile?: string;
  /** PEM CA certificates to verify the peer against (else Node's bundled roots). */
  ca_certs?: string;
  /** Server default `CERT_NONE`; client default `CERT_REQUIRED` (`CERT_NONE` also skips the host name check). */
  cert_reqs?: CertReqs;
  /** OpenSSL cipher list. */
  ciphers?: string;
  /** `PROTOCOL_TLS`, `PROTOCOL_TLS_CLIENT`, `PROTOCOL_TLS_SERVER`, or one version: `PROTOCOL_TLSv1_2`, … */
  ssl_version?: string;
}

/** Anything {@link sslOptionsToContext} accepts. */
export type SSLOptions =
  | SecureContext
  | SSLContext
  | TornadoSSLOptions
  | (tls.SecureContextOptions & tls.TlsOptions & tls.ConnectionOptions);

const TORNADO_KEYS = new Set([
  "certfile",
  "keyfile",
  "ca_certs",
  "cert_reqs",
  "ciphers",
  "ssl_version",
]);
const TORNADO_ONLY_KEYS = ["certfile", "keyfile", "ca_certs", "cert_reqs", "ssl_version"];

const SSL_VERSIONS: Record<string, [tls.SecureVersion | undefined, tls.SecureVersion | undefined]> =
  {
    PROTOCOL_TLS: [undefined, undefined],
    PROTOCOL_SSLv23: [undefined, undefined],
    PROTOCOL_TLS_CLIENT: [undefined, undefined],
    PROTOCOL_TLS_SERVER: [undefined, undefined],
    PROTOCOL_TLSv1: ["TLSv1", "TLSv1"],
    PROTOCOL_TLSv1_1: ["TLSv1.1", "TLSv1.1"],
    PROTOCOL_TLSv1_2: ["TLSv1.2", "TLSv1.2"],
  };

function certReqsLevel(value: CertReqs): 0 | 1 | 2 {
  switch (value) {
    case 0:
    case "CERT_NONE":
      return 0;
    case 1:
    case "CERT_OPTIONAL":
      return 1;
    case 2:
    case "CERT_REQUIRED":
      return 2;
    default:
      throw new RangeError(`bad cert_reqs ${JSON.stringify(value)}`);
  }
}

function readPem(path: unknown, key: string): Buffer {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`ssl option ${key} must be a file path`);
  }
  try {
    return readFileSync(path);
  } catch (error) {
    throw new SSLOptionsError(`cannot read ${key} ${path}`, { cause: error });
  }
}

function buildContext(options: tls.SecureContextOptions): SecureContext {
  try {
    return createSecureContext(options);
  } catch (error) {
    throw new SSLOptionsError(`invalid TLS options: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function brand<T extends object>(value: T): T {
  Object.defineProperty(value, SSL_CONTEXT, { value: true, enumerable: false });
  return Object.freeze(value);
}

/** True if `value` is an {@link SSLContext} made by {@link sslOptionsToContext}. */
export function isSSLContext(value: unknown): value is SSLContext {
  return typeof value === "object" && value !== null && SSL_CONTEXT in value;
}

function isSecureContext(value: object): value is SecureContext {
  return value.constructor?.name === "SecureContext" && "context" in value;
}

/**
 * Turns TLS settings into an {@link SSLContext}, as Tornado's `ssl_options_to_context`.
 *
 * Accepts a `tls.SecureContext` (client: verifies the server; server: asks no client
 * certificate), an `SSLContext` (returned as is), Node TLS options (`key`, `cert`, `ca`,
 * `rejectUnauthorized`, `requestCert`, `ALPNProtocols`, …: the context is built from them
 * and the rest kept), or Tornado's dictionary ({@link TornadoSSLOptions}; files are read now).
 *
 * @param serverSide - true for a server, false for a client; decides the defaults.
 * @throws TypeError for an unknown Tornado-style key or a non-object;
 *   RangeError for a bad `cert_reqs` or `ssl_version`;
 *   {@link SSLOptionsError} for unreadable files or invalid PEM.
 */
export function sslOptionsToContext(options: SSLOptions, serverSide = false): SSLContext {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("ssl options must be an object or a tls.SecureContext");
  }
  if (isSSLContext(options)) return options;
  if (isSecureContext(options)) {
    return brand({ secureContext: options, requestCert: false, rejectUnauthorized: !serverSide });
  }
  const record = options as Record<string, unknown>;
  if (TORNADO_ONLY_KEYS.some((key) => key in record)) {
    for (const key of Object.keys(record)) {
      if (!TORNADO_KEYS.has(key)) throw new TypeError(`unknown ssl option ${key}`);
    }
    const o = record as TornadoSSLOptions;
    const context: tls.SecureContextOptions = {};
    if (o.certfile !== undefined) {
      context.cert = readPem(o.certfile, "certfile");
      context.key = o.keyfile !== undefined ? readPem(o.keyfile, "keyfile") : context.cert;
    } else if (o.keyfile !== undefined) {
      throw new TypeError("ssl option keyfile needs certfile");
    }
    if (o.ca_certs !== undefined) context.ca = readPem(o.ca_certs, "ca_certs");
    if (o.ciphers !== undefined) context.ciphers = o.ciphers;
    if (o.ssl_version !== undefined) {
      const versions = SSL_VERSIONS[o.ssl_version];
      if (versions === undefined) {
        throw new RangeError(`unsupported ssl_version ${JSON.stringify(o.ssl_version)}`);
      }
      if (versions[0] !== undefined) context.minVersion = versions[0];
      if (versions[1] !== undefined) context.maxVersion = versions[1];
    }
    const level = certReqsLevel(o.cert_reqs ?? (serverSide ? 0 : 2));
    return brand({
      // The options stay too: a tls.Server builds its own context from them.
      ...context,
      secureContext: buildContext(context),
      // Servers ask for a certificate unless CERT_NONE; CERT_OPTIONAL accepts none or a bad one.
      requestCert: serverSide ? level > 0 : false,
      rejectUnauthorized: serverSide ? level === 2 : level > 0,
    });
  }
  const nodeOptions = record as tls.SecureContextOptions & tls.ConnectionOptions & tls.TlsOptions;
  return brand({
    ...nodeOptions,
    secureContext: nodeOptions.secureContext ?? buildContext(nodeOptions),
    requestCert: nodeOptions.requestCert ?? false,
    rejectUnauthorized: nodeOptions.rejectUnauthorized ?? true,
  });
}

/** Options for {@link sslWrapSocket}. */
export interface SSLWrapOptions {
  /** Host name for SNI and certificate checks (clients). */
  serverHostname?: string;
  /** Wrap as the server side. @defaultValue false */
  serverSide?: boolean;
}

/**
 * Starts TLS on a connected socket, as Tornado's `ssl_wrap_socket`. A client verifies the
 * server's certificate (against `serverHostname`) unless the options say otherwise.
 *
 * @remarks Node verifies client certificates only for sockets of a `tls.Server`, not for a
 * server-side socket wrapped alone, so server-side options that require a client certificate
 * are refused here; `TCPServer` supports them.
 * @returns the `TLSSocket`; its handshake runs asynchronously (`secureConnect` on clients,
 *   `secure` on servers; `error` on failure).
 * @throws as {@link sslOptionsToContext}; TypeError for server-side options that require a
 *   verified client certificate.
 */
export function sslWrapSocket(
  socket: Socket,
  options: SSLOptions,
  wrap: SSLWrapOptions = {},
): TLSSocket {
  const serverSide = wrap.serverSide ?? false;
  const context = sslOptionsToContext(options, serverSide);
  if (serverSide) {
    if (context.requestCert && context.rejectUnauthorized) {
      throw new TypeError(
        "sslWrapSocket cannot verify client certificates on the server side; use TCPServer",
      );
    }
    return new TLSSocket(socket, { ...context, isServer: true });
  }
  const servername =
    wrap.serverHostname !== undefined && isIP(wrap.serverHostname) === 0
      ? wrap.serverHostname
      : undefined;
  // `host` is what the certificate is checked against (IP SANs too); SNI takes names only.
  return tlsConnect({
    ...context,
    socket,
    ...(wrap.serverHostname !== undefined ? { host: wrap.serverHostname } : {}),
    ...(servername !== undefined ? { servername } : {}),
  });
}
