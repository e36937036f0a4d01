import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { TLSSocket } from "node:tls";
import { appLog } from "../src/log.js";
import {
  addAcceptHandler,
  bindSockets,
  bindUnixSocket,
  CaresResolver,
  DefaultResolver,
  isSSLContext,
  isValidIp,
  OverrideResolver,
  type PeerAddress,
  type ResolvedAddress,
  Resolver,
  ResolverError,
  ReusePortUnsupportedError,
  reusePortSupported,
  SocketFileError,
  SSLOptionsError,
  sslOptionsToContext,
  sslWrapSocket,
  type TornadoSSLOptions,
} from "../src/netutil.js";
import { ExpectLog } from "../src/testing.js";
import { fixture } from "./helpers/paths.js";

const CERT = fixture("network", "test.crt");
const KEY = fixture("network", "test.key");

function portOf(server: Server): number {
  const info = server.address();
  assert.ok(info !== null && typeof info !== "string");
  return info.port;
}

/** Stops listening (the close callback would wait for connections other hooks close). */
function closeAll(servers: Server[]): void {
  for (const server of servers) if (server.listening) server.close();
}

async function connected(port: number, host = "127.0.0.1"): Promise<Socket> {
  const socket = connect(port, host);
  await once(socket, "connect");
  return socket;
}

/** A resolver answering fixed addresses, standing in for a dual-stack "localhost". */
class FixedResolver extends Resolver {
  constructor(readonly answer: { family: 4 | 6; address: string }[]) {
    super();
  }
  override async resolve(_host: string, port: number, family = 0): Promise<ResolvedAddress[]> {
    return this.answer
      .filter((a) => family === 0 || a.family === family)
      .map((a) => ({ ...a, port }));
  }
}

test("isValidIp accepts numeric addresses only [test_is_valid_ip]", () => {
  for (const ip of ["127.0.0.1", "4.4.4.4", "::1", "2620:0:1cfe:face:b00c::3", "::"]) {
    assert.equal(isValidIp(ip), true, ip);
  }
  for (const ip of [
    "www.google.com",
    "localhost",
    "4.4.4.4<",
    " 127.0.0.1",
    "",
    " ",
    "\n",
    "\x00",
    "a".repeat(100),
    "127.0.0.1\x00",
  ]) {
    assert.equal(isValidIp(ip), false, JSON.stringify(ip));
  }
});

test("bindSockets with port 0 gives every family the same port [test_same_port_allocation]", async (t) => {
  const servers = await bindSockets(0, "dual.test", {
    resolver: new FixedResolver([
      { family: 4, address: "127.0.0.1" },
      { family: 6, address: "::1" },
    ]),
  });
  t.after(() => closeAll(servers));
  assert.equal(servers.length, 2);
  const port = portOf(servers[0]!);
  assert.ok(port > 0);
  assert.equal(portOf(servers[1]!), port);
  assert.deepEqual(
    servers.map((s) => (s.address() as { address: string }).address),
    ["127.0.0.1", "::1"],
  );
  // Both really accept.
  for (const [i, host] of ["127.0.0.1", "::1"].entries()) {
    const accepted = once(servers[i]!, "connection");
    const client = await connected(port, host);
    t.after(() => client.destroy());
    const [socket] = (await accepted) as [Socket];
    socket.destroy();
  }
});

test("bindSockets binds a numeric address and honours family", async (t) => {
  const servers = await bindSockets(0, "127.0.0.1", { family: 4 });
  t.after(() => closeAll(servers));
  assert.equal(servers.length, 1);
  await assert.rejects(bindSockets(0, "127.0.0.1", { family: 6 }), ResolverError);
});

test("bindSockets on localhost resolves and binds every local address", async (t) => {
  const servers = await bindSockets(0, "localhost");
  t.after(() => closeAll(servers));
  assert.ok(servers.length >= 1);
  const port = portOf(servers[0]!);
  for (const s of servers) assert.equal(portOf(s), port);
});

test("bindSockets reports a port in use and leaves nothing bound", async (t) => {
  const first = await bindSockets(0, "127.0.0.1");
  t.after(() => closeAll(first));
  const port = portOf(first[0]!);
  await assert.rejects(bindSockets(port, "127.0.0.1"), { code: "EADDRINUSE" });
  // A partial bind is undone: the IPv6 server bound before the IPv4 failure is closed.
  const resolver = new FixedResolver([
    { family: 6, address: "::1" },
    { family: 4, address: "127.0.0.1" },
  ]);
  await assert.rejects(bindSockets(port, "dual.test", { resolver }), { code: "EADDRINUSE" });
  const probe = await bindSockets(port, "::1");
  closeAll(probe);
});

test("bindSockets checks its arguments", async () => {
  await assert.rejects(bindSockets(-1, "127.0.0.1"), RangeError);
  await assert.rejects(bindSockets(65536, "127.0.0.1"), RangeError);
  await assert.rejects(bindSockets(1.5, "127.0.0.1"), RangeError);
  await assert.rejects(bindSockets(0, "127.0.0.1", { family: 5 as 4 }), RangeError);
  await assert.rejects(bindSockets(0, "127.0.0.1", { backlog: -1 }), RangeError);
  await assert.rejects(bindSockets(0, "a..b"), ResolverError);
});

test("reusePort binds a port twice where Node supports it [test_reuse_port]", async (t) => {
  if (!reusePortSupported) {
    await assert.rejects(
      bindSockets(0, "127.0.0.1", { reusePort: true }),
      (error: unknown) =>
        error instanceof ReusePortUnsupportedError && error.code === "ERR_REUSE_PORT_UNSUPPORTED",
    );
    return;
  }
  const first = await bindSockets(0, "127.0.0.1", { reusePort: true });
  t.after(() => closeAll(first));
  const second = await bindSockets(portOf(first[0]!), "127.0.0.1", { reusePort: true });
  t.after(() => closeAll(second));
  assert.equal(portOf(second[0]!), portOf(first[0]!));
});

test("addAcceptHandler delivers queued and new connections with the peer address", async (t) => {
  const [server] = await bindSockets(0, "127.0.0.1");
  t.after(() => closeAll([server!]));
  const port = portOf(server!);
  // Connect before any handler: the connection waits in the queue.
  const early = await connected(port);
  t.after(() => early.destroy());
  const seen: { socket: Socket; address: PeerAddress }[] = [];
  let wake: (() => void) | null = null;
  const remove = addAcceptHandler(server!, (socket, address) => {
    seen.push({ socket, address });
    t.after(() => socket.destroy());
    wake?.();
  });
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  await next();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.address.address, "127.0.0.1");
  assert.equal(seen[0]!.address.family, "IPv4");
  assert.equal(seen[0]!.address.port, early.localPort);
  assert.throws(() => addAcceptHandler(server!, () => {}), TypeError);

  const waiting = next();
  const late = await connected(port);
  t.after(() => late.destroy());
  await waiting;
  assert.equal(seen[1]!.address.port, late.localPort);

  // After removal, connections queue again until a new handler comes.
  remove();
  const queued = await connected(port);
  t.after(() => queued.destroy());
  assert.equal(seen.length, 2);
  const got = new Promise<PeerAddress>((resolve) =>
    addAcceptHandler(server!, (socket, address) => {
      t.after(() => socket.destroy());
      resolve(address);
    }),
  );
  assert.equal((await got).port, queued.localPort);
});

test("an accept callback that throws is logged and its connection closed", async (t) => {
  const [server] = await bindSockets(0, "127.0.0.1");
  t.after(() => closeAll([server!]));
  using _ = new ExpectLog(appLog, /Error in connection callback/);
  addAcceptHandler(server!, () => {
    throw new Error("handler bug");
  });
  const client = await connected(portOf(server!));
  t.after(() => client.destroy());
  await once(client, "close");
});

test("addAcceptHandler works on a plain net.Server", async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => closeAll([server]));
  const got = new Promise<PeerAddress>((resolve) =>
    addAcceptHandler(server, (socket, address) => {
      socket.on("error", () => {});
      socket.end("hi");
      resolve(address);
    }),
  );
  const client = await connected(portOf(server));
  t.after(() => client.destroy());
  assert.equal((await got).address, "127.0.0.1");
});

test("bindUnixSocket makes a socket with the mode, replacing a stale one", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tornado-ts-netutil-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "sock");
  const server = await bindUnixSocket(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.ok(statSync(path).isSocket());
  const got = new Promise<PeerAddress>((resolve) =>
    addAcceptHandler(server, (socket, address) => {
      socket.end("unix");
      resolve(address);
    }),
  );
  const client = connect(path);
  t.after(() => client.destroy());
  assert.deepEqual(await got, { address: "", family: "unix", port: 0 });
  const [data] = (await once(client, "data")) as [Buffer];
  assert.equal(data.toString(), "unix");
  closeAll([server]);

  // A socket file left behind (here: a server whose file we keep) is replaced.
  const stale = createServer();
  await new Promise<void>((resolve) => stale.listen(path, resolve));
  const replacement = await bindUnixSocket(path, { mode: 0o660 });
  t.after(() => closeAll([replacement, stale]));
  assert.equal(statSync(path).mode & 0o777, 0o660);
});

test("bindUnixSocket refuses to replace a file that is not a socket", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tornado-ts-netutil-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "not-a-socket");
  writeFileSync(path, "precious");
  await assert.rejects(
    bindUnixSocket(path),
    (error: unknown) =>
      error instanceof SocketFileError && error.code === "ERR_NOT_A_SOCKET" && error.path === path,
  );
  assert.equal(statSync(path).isFile(), true);
  await assert.rejects(bindUnixSocket(""), TypeError);
});

test("DefaultResolver resolves localhost to 127.0.0.1 [test_localhost]", async () => {
  const resolver = new DefaultResolver();
  const found = await resolver.resolve("localhost", 80, 0);
  assert.ok(found.some((a) => a.family === 4 && a.address === "127.0.0.1" && a.port === 80));
  assert.deepEqual(await resolver.resolve("::1", 443), [{ family: 6, address: "::1", port: 443 }]);
  resolver.close();
});

test("DefaultResolver fails with a ResolverError for a bad name [test_bad_host]", async () => {
  const resolver = new DefaultResolver();
  for (const host of ["a..b", ""]) {
    await assert.rejects(resolver.resolve(host, 80), (error: unknown) => {
      assert.ok(error instanceof ResolverError);
      assert.equal(error.code, "ERR_RESOLVE");
      assert.equal(error.host, host);
      return true;
    });
  }
  await assert.rejects(resolver.resolve("localhost", 80, 5 as 4), RangeError);
});

/** A DNS server on loopback answering A/AAAA queries from a table; NXDOMAIN otherwise. */
async function startDnsServer(table: Record<string, { a?: string[]; aaaa?: string[] }>) {
  const server = createSocket("udp4");
  const queries: string[] = [];
  server.on("message", (msg, peer) => {
    let offset = 12;
    const labels: string[] = [];
    while (msg[offset]! !== 0) {
      const length = msg[offset]!;
      labels.push(msg.subarray(offset + 1, offset + 1 + length).toString("latin1"));
      offset += 1 + length;
    }
    const question = msg.subarray(12, offset + 5);
    const qtype = msg.readUInt16BE(offset + 1);
    const name = labels.join(".").toLowerCase();
    queries.push(`${name}/${qtype}`);
    const entry = table[name];
    const addresses = qtype === 1 ? (entry?.a ?? []) : qtype === 28 ? (entry?.aaaa ?? []) : [];
    const answers = addresses.map((address) => {
      const rdata =
        qtype === 1
          ? Buffer.from(address.split(".").map(Number))
          : Buffer.from(expandIPv6(address), "hex");
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4); // class IN
      rr.writeUInt32BE(60, 6); // TTL
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(entry === undefined ? 0x8183 : 0x8180, 2); // response, RD, RA, rcode
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    server.send(Buffer.concat([header, question, ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
  return { server, port: server.address().port, queries };
}

function expandIPv6(address: string): string {
  const [head, tail = ""] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => g.padStart(4, "0")).join("");
}

test("CaresResolver asks DNS servers, returns literals as is, answers localhost itself", async (t) => {
  const dns = await startDnsServer({
    "www.example.test": { a: ["192.0.2.10", "192.0.2.11"], aaaa: ["2001:db8::10"] },
    "v4only.example.test": { a: ["192.0.2.20"] },
  });
  t.after(() => dns.server.close());
  const resolver = new CaresResolver({
    servers: [`127.0.0.1:${dns.port}`],
    timeout: 2000,
    tries: 1,
  });
  t.after(() => resolver.close());

  assert.deepEqual(await resolver.resolve("www.example.test", 80, 4), [
    { family: 4, address: "192.0.2.10", port: 80 },
    { family: 4, address: "192.0.2.11", port: 80 },
  ]);
  assert.deepEqual(await resolver.resolve("www.example.test", 80), [
    { family: 6, address: "2001:db8::10", port: 80 },
    { family: 4, address: "192.0.2.10", port: 80 },
    { family: 4, address: "192.0.2.11", port: 80 },
  ]);
  assert.deepEqual(await resolver.resolve("v4only.example.test", 81), [
    { family: 4, address: "192.0.2.20", port: 81 },
  ]);
  await assert.rejects(resolver.resolve("missing.example.test", 80), ResolverError);
  await assert.rejects(resolver.resolve("v4only.example.test", 80, 6), ResolverError);

  const queriesBefore = dns.queries.length;
  assert.deepEqual(await resolver.resolve("10.0.0.1", 80), [
    { family: 4, address: "10.0.0.1", port: 80 },
  ]);
  await assert.rejects(resolver.resolve("10.0.0.1", 80, 6), ResolverError);
  const local = await resolver.resolve("localhost", 80, 0);
  assert.ok(local.some((a) => a.family === 4 && a.address === "127.0.0.1" && a.port === 80));
  assert.equal(dns.queries.length, queriesBefore, "literals and localhost make no query");
});

test("OverrideResolver maps the most specific key first [test_resolve_multiaddr]", async () => {
  const resolver = new OverrideResolver(new DefaultResolver(), [
    [
      { host: "google.com", port: 80 },
      { host: "1.2.3.4", port: 80 },
    ],
    [
      { host: "google.com", port: 80, family: 4 },
      { host: "1.2.3.4", port: 80 },
    ],
    [
      { host: "google.com", port: 80, family: 6 },
      { host: "2a02:6b8:7c:40c:c51e:495f:e23a:3", port: 80 },
    ],
    ["example.com", "127.0.0.1"],
    [
      { host: "login.example.com", port: 443 },
      { host: "localhost", port: 1443 },
    ],
  ]);
  assert.deepEqual(await resolver.resolve("google.com", 80, 4), [
    { family: 4, address: "1.2.3.4", port: 80 },
  ]);
  assert.deepEqual(await resolver.resolve("google.com", 80, 6), [
    { family: 6, address: "2a02:6b8:7c:40c:c51e:495f:e23a:3", port: 80 },
  ]);
  assert.deepEqual(await resolver.resolve("example.com", 8080), [
    { family: 4, address: "127.0.0.1", port: 8080 },
  ]);
  const login = await resolver.resolve("login.example.com", 443, 4);
  assert.deepEqual(login, [{ family: 4, address: "127.0.0.1", port: 1443 }]);
  // Unmapped names go to the wrapped resolver.
  assert.ok((await resolver.resolve("localhost", 1)).some((a) => a.address === "127.0.0.1"));
  // The object form maps host names.
  const simple = new OverrideResolver(new DefaultResolver(), { "a.test": "127.0.0.2" });
  assert.deepEqual(await simple.resolve("a.test", 5), [
    { family: 4, address: "127.0.0.2", port: 5 },
  ]);
  assert.throws(
    () => new OverrideResolver(new DefaultResolver(), [[{ host: "x", family: 4 }, "y"]]),
    TypeError,
  );
  assert.throws(() => new OverrideResolver({} as Resolver, {}), TypeError);
});

test("new Resolver() builds the configured implementation", async (t) => {
  const saved = Resolver.saveConfiguration();
  t.after(() => Resolver.restoreConfiguration(saved));
  assert.equal(Resolver.configuredClass(), DefaultResolver);
  const plain = new Resolver();
  assert.ok(plain instanceof DefaultResolver);
  assert.ok(plain instanceof Resolver);
  Resolver.configure(CaresResolver, { tries: 1 });
  const cares = new Resolver();
  assert.ok(cares instanceof CaresResolver);
  cares.close();
  // The Configurable form of OverrideResolver: one options object.
  Resolver.configure(OverrideResolver, {
    resolver: new DefaultResolver(),
    mapping: { "configured.test": "127.0.0.3" },
  });
  const override = new Resolver();
  assert.ok(override instanceof OverrideResolver);
  assert.deepEqual(await override.resolve("configured.test", 1), [
    { family: 4, address: "127.0.0.3", port: 1 },
  ]);
  assert.throws(() => Resolver.configure(Map as any), TypeError);
  Resolver.configure(null);
  assert.equal(Resolver.configuredClass(), DefaultResolver);
  // A subclass that forgets resolve() says so.
  class Forgetful extends Resolver {}
  await assert.rejects(new Forgetful().resolve("x", 1), /Forgetful does not implement resolve/);
  assert.throws(() => new OverrideResolver(new DefaultResolver(), undefined), TypeError);
});

test("sslOptionsToContext maps Tornado-style options to Node's", () => {
  const server = sslOptionsToContext({ certfile: CERT, keyfile: KEY }, true);
  assert.ok(isSSLContext(server));
  assert.equal(server.requestCert, false);
  const verifying = sslOptionsToContext(
    { certfile: CERT, keyfile: KEY, ca_certs: CERT, cert_reqs: "CERT_REQUIRED" },
    true,
  );
  assert.equal(verifying.requestCert, true);
  assert.equal(verifying.rejectUnauthorized, true);
  const optional = sslOptionsToContext({ certfile: CERT, keyfile: KEY, cert_reqs: 1 }, true);
  assert.equal(optional.requestCert, true);
  assert.equal(optional.rejectUnauthorized, false);
  assert.equal(sslOptionsToContext({ ca_certs: CERT }, false).rejectUnauthorized, true);
  assert.equal(sslOptionsToContext({ cert_reqs: "CERT_NONE" }, false).rejectUnauthorized, false);
  assert.equal(
    sslOptionsToContext({ ssl_version: "PROTOCOL_TLSv1_2", cert_reqs: 0 }).rejectUnauthorized,
    false,
  );
  // Already converted: returned as is.
  assert.equal(sslOptionsToContext(server, true), server);
});

test("sslOptionsToContext gives typed errors for bad options", () => {
  assert.throws(
    () => sslOptionsToContext({ certfile: "/nonexistent/cert.pem" }, true),
    (error: unknown) => {
      assert.ok(error instanceof SSLOptionsError);
      assert.equal(error.code, "ERR_SSL_OPTIONS");
      assert.equal((error.cause as NodeJS.ErrnoException).code, "ENOENT");
      return true;
    },
  );
  assert.throws(() => sslOptionsToContext({ certfile: KEY, keyfile: CERT }, true), SSLOptionsError);
  assert.throws(() => sslOptionsToContext({ certfile: CERT, bogus: 1 } as any, true), TypeError);
  assert.throws(() => sslOptionsToContext({ keyfile: KEY }, true), TypeError);
  assert.throws(() => sslOptionsToContext({ cert_reqs: "CERT_MAYBE" as "CERT_NONE" }), RangeError);
  assert.throws(() => sslOptionsToContext({ ssl_version: "PROTOCOL_SSLv2" }), RangeError);
  assert.throws(() => sslOptionsToContext(null as any), TypeError);
});

async function handshake(
  t: { after: (fn: () => unknown) => void },
  serverOptions: Parameters<typeof sslOptionsToContext>[0],
  clientOptions: Parameters<typeof sslOptionsToContext>[0],
  serverHostname: string,
): Promise<{ client: TLSSocket; server: TLSSocket; clientError?: Error }> {
  const [listener] = await bindSockets(0, "127.0.0.1");
  t.after(() => closeAll([listener!]));
  const accepted = new Promise<Socket>((resolve) =>
    addAcceptHandler(listener!, (socket) => resolve(socket)),
  );
  const raw = await connected(portOf(listener!));
  const server = sslWrapSocket(await accepted, serverOptions, { serverSide: true });
  server.on("error", () => {});
  const client = sslWrapSocket(raw, clientOptions, { serverHostname });
  // TLS sockets first: destroying the plain socket under a live TLSSocket crashes Node 20.
  t.after(() => {
    client.destroy();
    server.destroy();
    raw.destroy();
  });
  const result = await new Promise<Error | undefined>((resolve) => {
    client.once("secureConnect", () => resolve(undefined));
    client.once("error", resolve);
  });
  return { client, server, ...(result ? { clientError: result } : {}) };
}

test("sslWrapSocket runs a verified handshake over loopback", async (t) => {
  const serverCtx = { certfile: CERT, keyfile: KEY };
  const ok = await handshake(t, serverCtx, { ca_certs: CERT }, "127.0.0.1");
  assert.equal(ok.clientError, undefined);
  assert.equal(ok.client.authorized, true);
  ok.client.write("ping");
  const [data] = (await once(ok.server, "data")) as [Buffer];
  assert.equal(data.toString(), "ping");

  // Without the CA the client refuses the self-signed certificate.
  const refused = await handshake(t, serverCtx, {}, "127.0.0.1");
  assert.equal((refused.clientError as NodeJS.ErrnoException).code, "DEPTH_ZERO_SELF_SIGNED_CERT");

  // A name the certificate does not carry fails the host name check...
  const wrongName = await handshake(t, serverCtx, { ca_certs: CERT }, "other.test");
  assert.equal(
    (wrongName.clientError as NodeJS.ErrnoException).code,
    "ERR_TLS_CERT_ALTNAME_INVALID",
  );
  // ...unless CERT_NONE, which also skips it.
  const unchecked = await handshake(t, serverCtx, { cert_reqs: "CERT_NONE" }, "other.test");
  assert.equal(unchecked.clientError, undefined);
  // Server-side verification of client certificates needs a tls.Server (TCPServer).
  const required = { certfile: CERT, keyfile: KEY, ca_certs: CERT, cert_reqs: "CERT_REQUIRED" };
  const [listener] = await bindSockets(0, "127.0.0.1");
  t.after(() => closeAll([listener!]));
  const accepted = new Promise<Socket>((resolve) => addAcceptHandler(listener!, resolve));
  const raw = await connected(portOf(listener!));
  t.after(() => raw.destroy());
  const serverSocket = await accepted;
  t.after(() => serverSocket.destroy());
  assert.throws(
    () => sslWrapSocket(serverSocket, required as TornadoSSLOptions, { serverSide: true }),
    /use TCPServer/,
  );
});
