import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { createSecureContext, connect as tlsConnect, type TLSSocket } from "node:tls";
import { type IOStream, SSLIOStream } from "../src/iostream.js";
import { appLog, genLog } from "../src/log.js";
import { bindSockets, type PeerAddress, SSLOptionsError } from "../src/netutil.js";
import { Subprocess } from "../src/process.js";
import { TCPServer } from "../src/tcpserver.js";
import { bindUnusedPort, ExpectLog } from "../src/testing.js";
import { CERT, KEY, QueueServer } from "./helpers/network.js";
import { fixture } from "./helpers/paths.js";

type TestContext = { after: (fn: () => unknown) => void };

const CERT_PEM = readFileSync(CERT);

async function rawConnect(t: TestContext, port: number, host = "127.0.0.1"): Promise<Socket> {
  const socket = connect(port, host);
  t.after(() => socket.destroy());
  await once(socket, "connect");
  return socket;
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

test("listen binds a port and hands connections to handleStream [test_listen_single]", async (t) => {
  const server = new QueueServer({ maxBufferSize: 4096, readChunkSize: 1024 });
  t.after(() => server.shutdown());
  await server.listen(0, "127.0.0.1");
  const [address] = server.addresses();
  assert.equal(address!.address, "127.0.0.1");
  const client = await rawConnect(t, server.port);
  const stream = await server.next();
  assert.equal(stream.maxBufferSize, 4096);
  assert.equal(stream.readChunkSize, 1024);
  assert.deepEqual(server.peers[0], {
    address: "127.0.0.1",
    family: "IPv4",
    port: client.localPort!,
  } satisfies PeerAddress);
  client.write("ping\n");
  assert.equal((await stream.readUntil("\n")).toString(), "ping\n");
});

test("handleStream may be an async method [test_handle_stream_native_coroutine]", async (t) => {
  class DataServer extends TCPServer {
    override async handleStream(stream: IOStream): Promise<void> {
      await stream.write("data");
      stream.close();
    }
  }
  const { server: socket, port } = await bindUnusedPort();
  const server = new DataServer();
  t.after(() => server.stop());
  server.addSocket(socket);
  assert.equal(await readAll(await rawConnect(t, port)), "data");
});

test("an async handleStream that fails is logged and its stream closed [test_handle_stream_coroutine_logging]", async (t) => {
  class FailingServer extends TCPServer {
    override async handleStream(stream: IOStream): Promise<void> {
      await stream.readBytes(5);
      throw new Error("handler failed");
    }
  }
  const { server: socket, port } = await bindUnusedPort();
  const server = new FailingServer();
  t.after(() => server.stop());
  server.addSocket(socket);
  using expected = new ExpectLog(appLog, /Exception in callback/);
  const client = await rawConnect(t, port);
  client.write("hello");
  assert.equal(await readAll(client), "");
  assert.equal(expected.matched, 1);
  assert.match(String(expected.records[0]!.error), /handler failed/);
});

test("a handleStream that throws, or is not overridden, is logged and its stream closed", async (t) => {
  class ThrowingServer extends TCPServer {
    override handleStream(): void {
      throw new Error("sync failure");
    }
  }
  for (const server of [new ThrowingServer(), new TCPServer()]) {
    t.after(() => server.stop());
    await server.listen(0, "127.0.0.1");
    using expected = new ExpectLog(appLog, /Exception in callback handleStream\(\)/);
    assert.equal(await readAll(await rawConnect(t, server.addresses()[0]!.port)), "");
    assert.equal(expected.matched, 1);
  }
});

test("a client that resets right after connecting is dropped quietly", async (t) => {
  const server = new QueueServer();
  t.after(() => server.shutdown());
  await server.listen(0, "127.0.0.1");
  using anything = new ExpectLog(genLog, /./, { required: false });
  const reset = await rawConnect(t, server.port);
  reset.resetAndDestroy();
  const good = await rawConnect(t, server.port);
  good.write("after\n");
  // Streams arrive in accept order: the reset one (if it got that far), then the good one.
  let stream = await server.next();
  if (server.peers[server.streams.indexOf(stream)]!.port !== good.localPort) {
    stream = await server.next();
  }
  assert.equal((await stream.readUntil("\n")).toString(), "after\n");
  assert.equal(anything.matched, 0, anything.records.map((r) => r.message).join("; "));
});

test("stop can be called twice [test_stop_twice]", async () => {
  const { server: socket } = await bindUnusedPort();
  const server = new TCPServer();
  server.addSocket(socket);
  server.stop();
  server.stop();
  assert.equal(socket.listening, false);
});

test("stop inside handleStream refuses later clients and breaks nothing [test_stop_in_callback]", async (t) => {
  class StoppingServer extends TCPServer {
    readonly streams: IOStream[] = [];
    override async handleStream(stream: IOStream): Promise<void> {
      this.streams.push(stream);
      this.stop();
      await stream.readUntilClose();
    }
  }
  const { server: socket, port } = await bindUnusedPort();
  const server = new StoppingServer();
  t.after(() => {
    server.stop();
    for (const stream of server.streams) stream.close();
  });
  server.addSocket(socket);
  const clients = await Promise.allSettled(Array.from({ length: 40 }, () => rawConnect(t, port)));
  const connected = clients.filter((c) => c.status === "fulfilled");
  assert.ok(connected.length > 0, "all clients failed connecting");
  // The first connection stopped the server: once the listening socket is gone, new
  // clients are refused.
  await assert.rejects(rawConnect(t, port), { code: "ECONNREFUSED" });
  assert.ok(server.streams.length >= 1);
});

test("stop closes connections still waiting for the server", async (t) => {
  const [listener] = await bindSockets(0, "127.0.0.1");
  // Connected before the server takes the socket: it waits in the accept queue.
  const client = await rawConnect(t, (listener!.address() as { port: number }).port);
  const server = new QueueServer();
  server.addSocket(listener!);
  server.stop();
  assert.equal(await readAll(client), "");
});

test("bind and start(1) listen in this process", async (t) => {
  const server = new QueueServer();
  t.after(() => server.shutdown());
  server.bind(0, "127.0.0.1");
  await server.start();
  await assert.rejects(server.start(), /already started/);
  const client = await rawConnect(t, server.port);
  client.write("x");
  assert.equal((await (await server.next()).readBytes(1)).toString(), "x");
  assert.throws(() => server.bind(-1), RangeError);
});

for (const [name, script] of [
  ["bind and start(3) run three worker processes [test_bind_start]", "bind_start.mjs"],
  [
    "forkProcesses then addSockets runs three worker processes [test_add_sockets]",
    "add_sockets.mjs",
  ],
] as const) {
  test(name, { timeout: 30_000 }, async (t) => {
    const child = new Subprocess([process.execPath, fixture("network", script)], {
      stdout: Subprocess.STREAM,
      stderr: "ignore",
    });
    t.after(() => {
      if (child.returncode === null) child.proc.kill("SIGKILL");
    });
    const output = (await child.stdout!.readUntilClose()).toString();
    assert.equal([...output].sort().join(""), "012");
    assert.equal(await child.waitForExit(), 0);
  });
}

test("options are checked when the server is made", () => {
  assert.throws(() => new TCPServer({ ssl: { keyfile: KEY } }), /certfile/);
  assert.throws(() => new TCPServer({ ssl: { certfile: "/nonexistent.pem" } }), SSLOptionsError);
  const server = new TCPServer({ ssl: { certfile: CERT, keyfile: KEY } });
  assert.ok(server.sslContext !== null);
  assert.throws(() => new TCPServer({ maxBufferSize: 0 }), RangeError);
  assert.throws(() => new TCPServer({ readChunkSize: 1.5 }), RangeError);
});

async function tlsClient(t: TestContext, port: number): Promise<TLSSocket> {
  const socket = tlsConnect({ port, host: "127.0.0.1", ca: [CERT_PEM] });
  t.after(() => socket.destroy());
  await once(socket, "secureConnect");
  return socket;
}

test("a TLS server serves SSLIOStreams", async (t) => {
  const server = new QueueServer({ ssl: { certfile: CERT, keyfile: KEY } });
  t.after(() => server.shutdown());
  await server.listen(0, "127.0.0.1");
  const client = await tlsClient(t, server.port);
  const stream = await server.next();
  assert.ok(stream instanceof SSLIOStream);
  client.write("over tls\n");
  assert.equal((await stream.readUntil("\n")).toString(), "over tls\n");
  await stream.write("back\n");
  const [data] = await once(client, "data");
  assert.equal(String(data), "back\n");
});

test("a failed TLS handshake is logged once and harms no other connection", async (t) => {
  const server = new QueueServer({ ssl: { certfile: CERT, keyfile: KEY } });
  t.after(() => server.shutdown());
  await server.listen(0, "127.0.0.1");
  using warnings = new ExpectLog(genLog, /SSL Error/, { level: "warning" });
  // A plain-text client on the TLS port.
  const plain = await rawConnect(t, server.port);
  const plainClosed = once(plain, "close");
  plain.write("GET / HTTP/1.0\r\n\r\n");
  const good = await tlsClient(t, server.port);
  const goodStream = await server.next();
  await plainClosed;
  assert.equal(warnings.matched, 1);
  assert.match(warnings.records[0]!.message, /SSL Error on 127\.0\.0\.1:\d+: .*http request/);
  assert.equal(server.streams.length, 1, "the failed client never reaches handleStream");
  good.write("still fine\n");
  assert.equal((await goodStream.readUntil("\n")).toString(), "still fine\n");
});

test("a TLS client that resets or leaves before the handshake is closed silently", async (t) => {
  const server = new QueueServer({ ssl: { certfile: CERT, keyfile: KEY } });
  t.after(() => server.shutdown());
  await server.listen(0, "127.0.0.1");
  using anything = new ExpectLog(genLog, /./, { required: false });
  // Reset mid-accept: RST right after connecting.
  const reset = await rawConnect(t, server.port);
  reset.resetAndDestroy();
  // Reset in the middle of the handshake.
  const half = await rawConnect(t, server.port);
  half.write(Buffer.from("16030100", "hex"));
  half.resetAndDestroy();
  // EOF before the handshake: the server closes its side.
  const early = await rawConnect(t, server.port);
  const earlyClosed = once(early, "close");
  early.end();
  // Connections after them are served.
  const good = await tlsClient(t, server.port);
  const goodStream = await server.next();
  good.write("ok\n");
  assert.equal((await goodStream.readUntil("\n")).toString(), "ok\n");
  await earlyClosed;
  assert.equal(anything.matched, 0, anything.records.map((r) => r.message).join("; "));
  assert.equal(server.streams.length, 1);
});

/** Echoes one line on each connection, keeping the streams. */
class EchoOnceServer extends QueueServer {
  override handleStream(stream: IOStream, address: PeerAddress): void {
    super.handleStream(stream, address);
    stream.readUntil("\n").then(
      (line) => stream.write(line),
      () => {},
    );
  }
}

test("client certificates are verified as cert_reqs says", async (t) => {
  const OTHER_CERT = fixture("network", "other.crt");
  const OTHER_KEY = fixture("network", "other.key");
  /** Connects (with a client certificate or none): "served" if the line echoes back. */
  const attempt = async (server: QueueServer, clientCert?: [string, string]) => {
    const socket = tlsConnect({
      port: server.port,
      host: "127.0.0.1",
      ca: [CERT_PEM],
      ...(clientCert
        ? { cert: readFileSync(clientCert[0]), key: readFileSync(clientCert[1]) }
        : {}),
    });
    t.after(() => socket.destroy());
    return new Promise<"served" | "closed">((resolve) => {
      socket.on("error", () => {});
      socket.once("secureConnect", () => socket.write("hi\n"));
      socket.once("data", () => resolve("served"));
      socket.once("close", () => resolve("closed"));
    });
  };

  const required = new EchoOnceServer({
    ssl: { certfile: CERT, keyfile: KEY, ca_certs: CERT, cert_reqs: "CERT_REQUIRED" },
  });
  t.after(() => required.shutdown());
  await required.listen(0, "127.0.0.1");
  {
    using rejected = new ExpectLog(genLog, /client certificate rejected/, { level: "warning" });
    assert.equal(await attempt(required), "closed");
    assert.equal(await attempt(required, [OTHER_CERT, OTHER_KEY]), "closed");
    assert.equal(rejected.matched, 2);
    assert.match(rejected.records[0]!.message, /no certificate/);
    assert.match(rejected.records[1]!.message, /DEPTH_ZERO_SELF_SIGNED_CERT/);
  }
  assert.equal(required.streams.length, 0);
  assert.equal(await attempt(required, [CERT, KEY]), "served");
  const stream = required.streams[0] as SSLIOStream;
  assert.equal(stream.socket.authorized, true);
  assert.equal(stream.socket.getPeerCertificate().subject.CN, "localhost");

  const optional = new EchoOnceServer({
    ssl: { certfile: CERT, keyfile: KEY, ca_certs: CERT, cert_reqs: "CERT_OPTIONAL" },
  });
  t.after(() => optional.shutdown());
  await optional.listen(0, "127.0.0.1");
  assert.equal(await attempt(optional), "served");
  assert.equal((optional.streams[0] as SSLIOStream).socket.authorized, false);
});

test("a server with a bare tls.SecureContext serves TLS once the handshake is done", async (t) => {
  const context = createSecureContext({ cert: CERT_PEM, key: readFileSync(KEY) });
  const server = new QueueServer({ ssl: context });
  t.after(() => server.shutdown());
  await server.listen(0, "127.0.0.1");
  const client = await tlsClient(t, server.port);
  const stream = await server.next();
  assert.ok(stream instanceof SSLIOStream);
  client.write("bare\n");
  assert.equal((await stream.readUntil("\n")).toString(), "bare\n");
  // A failed handshake is logged by the stream and served to nobody.
  using warnings = new ExpectLog(genLog, /SSL Error/, { level: "warning" });
  const plain = await rawConnect(t, server.port);
  const closed = once(plain, "close");
  plain.write("GET / HTTP/1.0\r\n\r\n");
  await closed;
  assert.equal(warnings.matched, 1);
  assert.equal(server.streams.length, 1);
  // Client certificates cannot be checked without the options a tls.Server needs.
  assert.throws(
    () => new TCPServer({ ssl: { secureContext: context, requestCert: true } }),
    /bare tls.SecureContext/,
  );
});
