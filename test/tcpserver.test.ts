import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
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

test("TLS options are checked when the server is made", () => {
  assert.throws(() => new TCPServer({ ssl: { keyfile: KEY } }), /certfile/);
  assert.throws(() => new TCPServer({ ssl: { certfile: "/nonexistent.pem" } }), SSLOptionsError);
  const server = new TCPServer({ ssl: { certfile: CERT, keyfile: KEY } });
  assert.ok(server.sslContext !== null);
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

/** Waits until every stream the server got, except `keep`, is closed. */
async function othersClosed(server: QueueServer, keep: IOStream): Promise<void> {
  await Promise.all(
    server.streams
      .filter((s) => s !== keep)
      .map((s) => (s.closed() ? undefined : new Promise((r) => s.setCloseCallback(() => r(null))))),
  );
}

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
  const goodStream = server.streams.at(-1)!;
  await plainClosed;
  await othersClosed(server, goodStream);
  assert.equal(warnings.matched, 1);
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
  // EOF before the handshake.
  const early = await rawConnect(t, server.port);
  early.end();
  // Reset in the middle of the handshake.
  const half = await rawConnect(t, server.port);
  half.write(Buffer.from("16030100", "hex"));
  const good = await tlsClient(t, server.port);
  const goodStream = server.streams.at(-1)!;
  half.resetAndDestroy();
  await othersClosed(server, goodStream);
  assert.equal(anything.matched, 0, anything.records.map((r) => r.message).join("; "));
  good.write("ok\n");
  assert.equal((await goodStream.readUntil("\n")).toString(), "ok\n");
});
