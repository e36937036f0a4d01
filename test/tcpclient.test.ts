import assert from "node:assert/strict";
import { test } from "node:test";
import { Future } from "../src/concurrent.js";
import { SSLIOStream, StreamClosedError } from "../src/iostream.js";
import { genLog } from "../src/log.js";
import {
  type AddressFamily,
  bindSockets,
  DefaultResolver,
  OverrideResolver,
  type ResolvedAddress,
  Resolver,
} from "../src/netutil.js";
import { Connector, TCPClient } from "../src/tcpclient.js";
import { bindUnusedPort, ExpectLog } from "../src/testing.js";
import { TimeoutError } from "../src/util.js";
import { CERT, FixedResolver, KEY, QueueServer } from "./helpers/network.js";

type TestContext = { after: (fn: () => unknown) => void };

// ---------------------------------------------------------------------------------------------
// The connector, driven by a fake connect function (as Tornado's ConnectorTest).

const AF1 = 1;
const AF2 = 2;

interface FakeAddress {
  family: number;
  address: string;
}

class FakeStream {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

class ConnectorHarness {
  readonly connectFutures = new Map<string, Future<FakeStream>>();
  readonly streams = new Map<string, FakeStream>();
  readonly addrinfo: FakeAddress[] = [
    { family: AF1, address: "a" },
    { family: AF1, address: "b" },
    { family: AF2, address: "c" },
    { family: AF2, address: "d" },
  ];
  connector: Connector<FakeAddress, FakeStream> | null = null;

  constructor(t: TestContext) {
    t.after(() => {
      this.connector?.clearTimeouts();
      // Unless a test popped (and checked) it, no stream may have been closed.
      for (const [name, stream] of this.streams) {
        assert.equal(stream.closed, false, `stream ${name} closed`);
      }
    });
  }

  readonly createStream = (address: FakeAddress): [FakeStream, Future<FakeStream>] => {
    const stream = new FakeStream();
    this.streams.set(address.address, stream);
    const future = new Future<FakeStream>();
    this.connectFutures.set(`${address.family}:${address.address}`, future);
    return [stream, future];
  };

  assertPending(...keys: [number, string][]): void {
    assert.deepEqual(
      [...this.connectFutures.keys()].sort(),
      keys.map(([af, name]) => `${af}:${name}`).sort(),
    );
  }

  popFuture(af: number, name: string): Future<FakeStream> {
    const key = `${af}:${name}`;
    const future = this.connectFutures.get(key);
    assert.ok(future, `no pending connect to ${key}`);
    this.connectFutures.delete(key);
    return future;
  }

  /** Settles one pending connect and lets the connector's callbacks run. */
  async resolveConnect(af: number, name: string, success: boolean): Promise<void> {
    const future = this.popFuture(af, name);
    if (success) future.setResult(this.streams.get(name)!);
    else {
      this.streams.delete(name);
      future.setException(new Error(`connect to ${name} failed`));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Pops a connect that the connector itself must have closed. */
  popClosed(af: number, name: string): void {
    this.popFuture(af, name);
    const stream = this.streams.get(name);
    this.streams.delete(name);
    assert.equal(stream?.closed, true, `stream ${name} should be closed`);
  }

  start(addrinfo: FakeAddress[]) {
    const connector = new Connector(addrinfo, this.createStream);
    this.connector = connector;
    // Huge timeouts: the tests fire them by hand.
    const future = connector.start(3_600_000, 3_600_000);
    return { connector, future };
  }

  assertConnectorStreamsClosed(): void {
    for (const stream of this.connector!.streams) assert.equal(stream.closed, true);
  }
}

function assertResult(
  future: Future<{ address: FakeAddress; stream: FakeStream }>,
  af: number,
  name: string,
  stream: FakeStream,
): void {
  const result = future.result();
  assert.deepEqual(result.address, { family: af, address: name });
  assert.equal(result.stream, stream);
}

test("Connector.split keeps one family whole [test_one_family]", () => {
  const [primary, secondary] = Connector.split([
    { family: AF1, address: "a" },
    { family: AF1, address: "b" },
  ]);
  assert.deepEqual(primary, [
    { family: AF1, address: "a" },
    { family: AF1, address: "b" },
  ]);
  assert.deepEqual(secondary, []);
});

test("Connector.split partitions by the first address's family [test_mixed]", () => {
  const [primary, secondary] = Connector.split([
    { family: AF1, address: "a" },
    { family: AF2, address: "b" },
    { family: AF1, address: "c" },
    { family: AF2, address: "d" },
  ]);
  assert.deepEqual(primary, [
    { family: AF1, address: "a" },
    { family: AF1, address: "c" },
  ]);
  assert.deepEqual(secondary, [
    { family: AF2, address: "b" },
    { family: AF2, address: "d" },
  ]);
});

test("Connector succeeds with the first address [test_immediate_success]", async (t) => {
  const h = new ConnectorHarness(t);
  const { future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", true);
  assertResult(future, AF1, "a", h.streams.get("a")!);
});

test("Connector fails when its only address fails [test_immediate_failure]", async (t) => {
  const h = new ConnectorHarness(t);
  const { future } = h.start([{ family: AF1, address: "a" }]);
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  assert.throws(() => future.result(), /connect to a failed/);
});

test("Connector tries the next address of the family [test_one_family_second_try]", async (t) => {
  const h = new ConnectorHarness(t);
  const { future } = h.start(h.addrinfo.slice(0, 2));
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  h.assertPending([AF1, "b"]);
  await h.resolveConnect(AF1, "b", true);
  assertResult(future, AF1, "b", h.streams.get("b")!);
});

test("Connector fails with the last error when every address fails [test_one_family_second_try_failure]", async (t) => {
  const h = new ConnectorHarness(t);
  const { future } = h.start(h.addrinfo.slice(0, 2));
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  h.assertPending([AF1, "b"]);
  await h.resolveConnect(AF1, "b", false);
  assert.throws(() => future.result(), /connect to b failed/);
});

test("Connector's timeout with one family changes nothing [test_one_family_second_try_timeout]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo.slice(0, 2));
  h.assertPending([AF1, "a"]);
  connector.onTimeout();
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  h.assertPending([AF1, "b"]);
  await h.resolveConnect(AF1, "b", true);
  assertResult(future, AF1, "b", h.streams.get("b")!);
});

test("Connector starts the other family at once after a failure [test_two_families_immediate_failure]", async (t) => {
  const h = new ConnectorHarness(t);
  const { future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  h.assertPending([AF1, "b"], [AF2, "c"]);
  await h.resolveConnect(AF1, "b", false);
  await h.resolveConnect(AF2, "c", true);
  assertResult(future, AF2, "c", h.streams.get("c")!);
});

test("Connector starts the other family on timeout [test_two_families_timeout]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  connector.onTimeout();
  h.assertPending([AF1, "a"], [AF2, "c"]);
  await h.resolveConnect(AF2, "c", true);
  assertResult(future, AF2, "c", h.streams.get("c")!);
  // 'a' failing after the race is decided starts nothing more.
  await h.resolveConnect(AF1, "a", false);
  h.assertPending();
});

test("Connector closes a connection that succeeds too late [test_success_after_timeout]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  connector.onTimeout();
  h.assertPending([AF1, "a"], [AF2, "c"]);
  await h.resolveConnect(AF1, "a", true);
  assertResult(future, AF1, "a", h.streams.get("a")!);
  // 'c' was closed when 'a' won; its late success closes it (again).
  await h.resolveConnect(AF2, "c", true);
  assert.equal(h.streams.get("c")!.closed, true);
  h.streams.delete("c");
});

test("Connector fails only when both families are exhausted [test_all_fail]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  connector.onTimeout();
  h.assertPending([AF1, "a"], [AF2, "c"]);
  await h.resolveConnect(AF2, "c", false);
  h.assertPending([AF1, "a"], [AF2, "d"]);
  await h.resolveConnect(AF2, "d", false);
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  h.assertPending([AF1, "b"]);
  assert.equal(future.done(), false);
  await h.resolveConnect(AF1, "b", false);
  assert.throws(() => future.result(), /connect to b failed/);
});

test("Connector's connect timeout fails and closes everything [test_one_family_timeout_after_connect_timeout]", (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo.slice(0, 2));
  h.assertPending([AF1, "a"]);
  connector.onConnectTimeout();
  h.popClosed(AF1, "a");
  connector.onTimeout();
  // Once timed out, no other address is tried.
  h.assertPending();
  assert.equal(connector.streams.size, 1);
  h.assertConnectorStreamsClosed();
  assert.throws(() => future.result(), TimeoutError);
});

test("Connector keeps a connection made before the connect timeout [test_one_family_success_before_connect_timeout]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo.slice(0, 2));
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", true);
  connector.onConnectTimeout();
  h.assertPending();
  assert.equal(h.streams.get("a")!.closed, false);
  assert.equal(connector.streams.size, 0);
  h.assertConnectorStreamsClosed();
  assertResult(future, AF1, "a", h.streams.get("a")!);
});

test("Connector times out during a second try [test_one_family_second_try_after_connect_timeout]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo.slice(0, 2));
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  h.assertPending([AF1, "b"]);
  connector.onConnectTimeout();
  h.popClosed(AF1, "b");
  h.assertPending();
  assert.equal(connector.streams.size, 2);
  h.assertConnectorStreamsClosed();
  assert.throws(() => future.result(), TimeoutError);
});

test("Connector keeps the connect error when the timeout comes after [test_one_family_second_try_failure_before_connect_timeout]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo.slice(0, 2));
  h.assertPending([AF1, "a"]);
  await h.resolveConnect(AF1, "a", false);
  h.assertPending([AF1, "b"]);
  await h.resolveConnect(AF1, "b", false);
  connector.onConnectTimeout();
  h.assertPending();
  assert.equal(connector.streams.size, 2);
  h.assertConnectorStreamsClosed();
  assert.throws(() => future.result(), /connect to b failed/);
});

test("Connector's connect timeout closes both families [test_two_family_timeout_before_connect_timeout]", (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  connector.onTimeout();
  h.assertPending([AF1, "a"], [AF2, "c"]);
  connector.onConnectTimeout();
  h.popClosed(AF1, "a");
  h.popClosed(AF2, "c");
  h.assertPending();
  assert.equal(connector.streams.size, 2);
  h.assertConnectorStreamsClosed();
  assert.throws(() => future.result(), TimeoutError);
});

test("Connector closes the other family when one wins [test_two_family_success_after_timeout]", async (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  connector.onTimeout();
  h.assertPending([AF1, "a"], [AF2, "c"]);
  await h.resolveConnect(AF1, "a", true);
  h.popClosed(AF2, "c");
  h.assertPending();
  assert.equal(connector.streams.size, 1);
  h.assertConnectorStreamsClosed();
  assertResult(future, AF1, "a", h.streams.get("a")!);
});

test("Connector starts no family after the connect timeout [test_two_family_timeout_after_connect_timeout]", (t) => {
  const h = new ConnectorHarness(t);
  const { connector, future } = h.start(h.addrinfo);
  h.assertPending([AF1, "a"]);
  connector.onConnectTimeout();
  h.popClosed(AF1, "a");
  h.assertPending();
  connector.onTimeout();
  h.assertPending();
  assert.equal(connector.streams.size, 1);
  h.assertConnectorStreamsClosed();
  assert.throws(() => future.result(), TimeoutError);
});

test("Connector starts the secondary family by itself after its initial timeout", async (t) => {
  const h = new ConnectorHarness(t);
  let secondaryStarted!: () => void;
  const secondary = new Promise<void>((resolve) => (secondaryStarted = resolve));
  const connector = new Connector<FakeAddress, FakeStream>(h.addrinfo, (address) => {
    if (address.family === AF2) secondaryStarted();
    return h.createStream(address);
  });
  h.connector = connector;
  const started = performance.now();
  const future = connector.start(30, 3_600_000);
  h.assertPending([AF1, "a"]);
  await secondary;
  assert.ok(performance.now() - started >= 25);
  h.assertPending([AF1, "a"], [AF2, "c"]);
  await h.resolveConnect(AF2, "c", true);
  assertResult(future, AF2, "c", h.streams.get("c")!);
  h.popClosed(AF1, "a");
});

test("Connector treats a connect function that throws as a failed attempt", async (t) => {
  const h = new ConnectorHarness(t);
  const connector = new Connector<FakeAddress, FakeStream>(h.addrinfo.slice(0, 2), (address) => {
    if (address.address === "a") throw new Error("cannot bind");
    return h.createStream(address);
  });
  h.connector = connector;
  const future = connector.start(3_600_000);
  h.assertPending([AF1, "b"]);
  await h.resolveConnect(AF1, "b", false);
  assert.throws(() => future.result(), /connect to b failed/);
  assert.throws(() => new Connector([], h.createStream).start().result(), /no address/);
});

// ---------------------------------------------------------------------------------------------
// TCPClient over real sockets.

async function startServer(
  t: TestContext,
  host: string | { resolver: Resolver },
  family: AddressFamily = 0,
  options: ConstructorParameters<typeof QueueServer>[0] = {},
): Promise<QueueServer> {
  const server = new QueueServer(options);
  t.after(() => server.shutdown());
  if (typeof host === "string") await server.listen(0, host, { family });
  else server.addSockets(await bindSockets(0, "dual.test", { resolver: host.resolver, family }));
  return server;
}

async function checkConnect(
  t: TestContext,
  server: QueueServer,
  client: TCPClient,
  host: string,
  options: Parameters<TCPClient["connect"]>[2] = {},
) {
  const stream = await client.connect(host, server.port, options);
  t.after(() => stream.close());
  const serverStream = await server.next();
  await stream.write("hello");
  assert.equal((await serverStream.readBytes(5)).toString(), "hello");
  return { stream, serverStream };
}

const dualStack = new FixedResolver([
  { family: 4, address: "127.0.0.1" },
  { family: 6, address: "::1" },
]);

function newClient(t: TestContext, resolver?: Resolver): TCPClient {
  const client = new TCPClient(resolver);
  t.after(() => client.close());
  return client;
}

test("connects to an IPv4 server by address [test_connect_ipv4_ipv4]", async (t) => {
  const server = await startServer(t, "127.0.0.1", 4);
  await checkConnect(t, server, newClient(t), "127.0.0.1");
});

test("connects to an IPv4 server by name [test_connect_ipv4_dual]", async (t) => {
  const server = await startServer(t, "127.0.0.1", 4);
  await checkConnect(t, server, newClient(t), "localhost");
});

test("connects to an IPv6 server by address [test_connect_ipv6_ipv6]", async (t) => {
  const server = await startServer(t, "::1", 6);
  const { stream } = await checkConnect(t, server, newClient(t), "::1");
  assert.equal(stream.socket.remoteFamily, "IPv6");
});

test("reaches an IPv6-only server when the name resolves to IPv4 first [test_connect_ipv6_dual]", async (t) => {
  const server = await startServer(t, "::1", 6);
  // 127.0.0.1 is tried first and refused; ::1 is tried at once, not after 300 ms.
  const started = performance.now();
  const { stream } = await checkConnect(t, server, newClient(t, dualStack), "localhost");
  assert.equal(stream.socket.remoteAddress, "::1");
  assert.ok(performance.now() - started < 300, "the refusal should start IPv6 at once");
});

test("connects with family 0 to an IPv4 address [test_connect_unspec_ipv4]", async (t) => {
  const server = await startServer(t, "127.0.0.1");
  await checkConnect(t, server, newClient(t), "127.0.0.1", { family: 0 });
});

test("connects with family 0 to an IPv6 address [test_connect_unspec_ipv6]", async (t) => {
  const server = await startServer(t, "::1");
  await checkConnect(t, server, newClient(t), "::1", { family: 0 });
});

test("connects to a dual-stack server by name [test_connect_unspec_dual]", async (t) => {
  const server = await startServer(t, { resolver: dualStack });
  const { stream } = await checkConnect(t, server, newClient(t, dualStack), "localhost");
  assert.equal(stream.socket.remoteAddress, "127.0.0.1");
  // With family 6 only the IPv6 address is tried.
  const { stream: v6 } = await checkConnect(t, server, newClient(t, dualStack), "localhost", {
    family: 6,
  });
  assert.equal(v6.socket.remoteAddress, "::1");
});

test("a refused connection fails with StreamClosedError [test_refused_ipv4]", async (t) => {
  const { server, port } = await bindUnusedPort();
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(newClient(t).connect("127.0.0.1", port), (error: unknown) => {
    assert.ok(error instanceof StreamClosedError);
    assert.equal((error.realError as NodeJS.ErrnoException).code, "ECONNREFUSED");
    return true;
  });
});

test("a source address the host does not have fails [test_source_ip_fail]", async (t) => {
  const server = await startServer(t, "127.0.0.1");
  await assert.rejects(
    newClient(t).connect("127.0.0.1", server.port, { sourceIp: "192.0.2.1" }),
    (error: unknown) => {
      assert.ok(error instanceof StreamClosedError);
      assert.equal((error.realError as NodeJS.ErrnoException).code, "EADDRNOTAVAIL");
      return true;
    },
  );
});

test("connects from the given source address [test_source_ip_success]", async (t) => {
  const server = await startServer(t, "127.0.0.1");
  const { stream } = await checkConnect(t, server, newClient(t), "127.0.0.1", {
    sourceIp: "127.0.0.2",
  });
  assert.equal(stream.socket.localAddress, "127.0.0.2");
  assert.equal(server.peers[0]!.address, "127.0.0.2");
});

test("a source port in use fails [test_source_port_fail]", async (t) => {
  const server = await startServer(t, "127.0.0.1");
  // The server's own listening port is taken on 127.0.0.1.
  await assert.rejects(
    newClient(t).connect("127.0.0.1", server.port, { sourcePort: server.port }),
    (error: unknown) => {
      assert.ok(error instanceof StreamClosedError);
      assert.equal((error.realError as NodeJS.ErrnoException).code, "EADDRINUSE");
      return true;
    },
  );
});

test("connects from the given source port, on loopback by default", async (t) => {
  const server = await startServer(t, "127.0.0.1");
  const { server: probe, port } = await bindUnusedPort();
  await new Promise((resolve) => probe.close(resolve));
  const { stream } = await checkConnect(t, server, newClient(t), "127.0.0.1", {
    sourcePort: port,
  });
  assert.equal(stream.socket.localPort, port);
  assert.equal(server.peers[0]!.port, port);
});

class NeverResolver extends Resolver {
  override resolve(): Promise<ResolvedAddress[]> {
    return new Promise(() => {});
  }
}

test("the timeout covers name resolution [test_connect_timeout]", async (t) => {
  const started = performance.now();
  await assert.rejects(
    newClient(t, new NeverResolver()).connect("1.2.3.4", 12345, { timeout: 50 }),
    TimeoutError,
  );
  assert.ok(performance.now() - started >= 45);
});

test("the timeout accepts an absolute deadline", async (t) => {
  const { IOLoop } = await import("../src/ioloop.js");
  const deadline = IOLoop.current().time() + 30;
  await assert.rejects(
    newClient(t, new NeverResolver()).connect("1.2.3.4", 1, { timeout: { deadline } }),
    TimeoutError,
  );
});

test("connect checks its arguments", async (t) => {
  const client = newClient(t);
  await assert.rejects(client.connect("127.0.0.1", 70000), RangeError);
  await assert.rejects(client.connect("127.0.0.1", 80, { family: 5 as 4 }), RangeError);
  await assert.rejects(client.connect("127.0.0.1", 80, { maxBufferSize: 0 }), RangeError);
  await assert.rejects(client.connect("127.0.0.1", 80, { sourcePort: 70000 }), RangeError);
  await assert.rejects(client.connect("127.0.0.1", 80, { sourceIp: "localhost" }), TypeError);
});

test("connects with TLS and verifies the server certificate", async (t) => {
  const server = await startServer(t, "127.0.0.1", 4, { ssl: { certfile: CERT, keyfile: KEY } });
  const client = newClient(t);
  const stream = await client.connect("localhost", server.port, { ssl: { ca_certs: CERT } });
  t.after(() => stream.close());
  assert.ok(stream instanceof SSLIOStream);
  assert.equal(stream.socket.authorized, true);
  const serverStream = await server.next();
  await stream.write("secret\n");
  assert.equal((await serverStream.readUntil("\n")).toString(), "secret\n");
  await serverStream.write("reply\n");
  assert.equal((await stream.readUntil("\n")).toString(), "reply\n");
});

test("a server certificate that does not verify fails the connect", async (t) => {
  const server = await startServer(t, "127.0.0.1", 4, { ssl: { certfile: CERT, keyfile: KEY } });
  using _ = new ExpectLog(genLog, /SSL Error/, { required: false });
  await assert.rejects(
    newClient(t).connect("127.0.0.1", server.port, { ssl: {} }),
    (error: unknown) => {
      assert.ok(error instanceof StreamClosedError);
      assert.equal((error.realError as NodeJS.ErrnoException).code, "DEPTH_ZERO_SELF_SIGNED_CERT");
      return true;
    },
  );
});

test("TLS checks the certificate against the host asked for, name or address", async (t) => {
  const server = await startServer(t, "127.0.0.1", 4, { ssl: { certfile: CERT, keyfile: KEY } });
  const byAddress = await newClient(t).connect("127.0.0.1", server.port, {
    ssl: { ca_certs: CERT },
  });
  t.after(() => byAddress.close());
  assert.equal((byAddress as SSLIOStream).socket.authorized, true);
  // A name the certificate does not carry, resolved to the same server, is refused.
  const resolver = new OverrideResolver(new DefaultResolver(), { "wrong.test": "127.0.0.1" });
  using _ = new ExpectLog(genLog, /SSL Error/, { required: false });
  await assert.rejects(
    newClient(t, resolver).connect("wrong.test", server.port, { ssl: { ca_certs: CERT } }),
    (error: unknown) => {
      assert.ok(error instanceof StreamClosedError);
      assert.equal((error.realError as NodeJS.ErrnoException).code, "ERR_TLS_CERT_ALTNAME_INVALID");
      return true;
    },
  );
});

test("TLS sends a client certificate from Tornado-style options", async (t) => {
  const server = await startServer(t, "127.0.0.1", 4, {
    ssl: { certfile: CERT, keyfile: KEY, ca_certs: CERT, cert_reqs: "CERT_REQUIRED" },
  });
  const stream = await newClient(t).connect("localhost", server.port, {
    ssl: { certfile: CERT, keyfile: KEY, ca_certs: CERT },
  });
  t.after(() => stream.close());
  const serverStream = (await server.next()) as SSLIOStream;
  assert.equal(serverStream.socket.authorized, true);
  assert.equal(serverStream.socket.getPeerCertificate().subject.CN, "localhost");
});

test("the timeout covers the TLS handshake", async (t) => {
  // A plain server that never answers the ClientHello.
  const server = await startServer(t, "127.0.0.1");
  const started = performance.now();
  await assert.rejects(
    newClient(t).connect("127.0.0.1", server.port, { ssl: { ca_certs: CERT }, timeout: 100 }),
    TimeoutError,
  );
  assert.ok(performance.now() - started >= 95);
  // The client gave up its connection: the server sees it close.
  const serverStream = await server.next();
  await serverStream.readUntilClose();
  assert.equal(serverStream.closed(), true);
});
