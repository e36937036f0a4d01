import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { constants, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { describe, test, type TestContext } from "node:test";
import tls from "node:tls";
import {
  BaseIOStream,
  type BaseIOStreamOptions,
  IOStream,
  PipeIOStream,
  SSLIOStream,
  StreamBufferFullError,
  StreamClosedError,
  StreamStateError,
  UnsatisfiableReadError,
} from "../src/iostream.js";
import { appLog, genLog } from "../src/log.js";
import { bindUnusedPort, ExpectLog } from "../src/testing.js";
import {
  closeCallbackCalled,
  ioStreamContract,
  type StreamPair,
} from "./helpers/iostream-contract.js";
import { bufferedAtLeast } from "./helpers/network.js";
import { fixture } from "./helpers/paths.js";

const cert = readFileSync(fixture("test.crt"));
const key = readFileSync(fixture("test.key"));

async function listening<T extends net.Server>(server: T): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as net.AddressInfo).port;
}

/**
 * An IOStream that tells when a chunk arrives. A plain TCP socket hands its reads straight
 * to the stream (no 'data' events), through _receive.
 */
class ObservedIOStream extends IOStream {
  readonly chunks = new EventEmitter();

  protected override _receive(chunk: Buffer): void {
    super._receive(chunk);
    this.chunks.emit("chunk");
  }
}

async function tcpPair(options?: BaseIOStreamOptions): Promise<StreamPair> {
  const server = net.createServer();
  const port = await listening(server);
  const accepted = once(server, "connection");
  const writer = await IOStream.connect({ host: "127.0.0.1", port }, options);
  const [socket] = (await accepted) as [net.Socket];
  server.close();
  const reader = new ObservedIOStream(socket, options);
  return { reader, writer, nextChunk: () => once(reader.chunks, "chunk") };
}

async function tlsPair(options?: BaseIOStreamOptions): Promise<StreamPair> {
  const server = tls.createServer({ key, cert });
  const port = await listening(server);
  const accepted = once(server, "secureConnection");
  const writer = await SSLIOStream.connect(
    { host: "127.0.0.1", port, ca: cert, servername: "localhost" },
    options,
  );
  const [socket] = (await accepted) as [tls.TLSSocket];
  server.close();
  return {
    reader: new SSLIOStream(socket, options),
    writer,
    nextChunk: () => once(socket, "data"),
  };
}

/** Both ends of a FIFO (what os.pipe() gives in Python), as PipeIOStreams. */
function pipePair(
  options?: BaseIOStreamOptions,
): Promise<StreamPair & { reader: PipeIOStream; writer: PipeIOStream }> {
  const dir = mkdtempSync(join(tmpdir(), "tornado-ts-iostream-"));
  try {
    const path = join(dir, "fifo");
    execFileSync("mkfifo", [path]);
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    const reader = new PipeIOStream(readFd, options);
    const writer = new PipeIOStream(writeFd, options);
    return Promise.resolve({ reader, writer, nextChunk: () => once(reader.socket, "data") });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

ioStreamContract({
  name: "TCP",
  makePair: tcpPair,
  bidirectional: true,
  resetWriter: (pair) => (pair.writer as IOStream).socket.resetAndDestroy(),
});
ioStreamContract({ name: "TLS", makePair: tlsPair, bidirectional: true });
ioStreamContract({ name: "a pipe", makePair: pipePair, bidirectional: false });

/** A child process's stdin and stdout, with `cat` copying one to the other. */
async function childPipePair(options?: BaseIOStreamOptions): Promise<StreamPair> {
  const child = spawn("cat", [], { stdio: ["pipe", "pipe", "ignore"] });
  await once(child, "spawn");
  const reader = new PipeIOStream(child.stdout, options);
  const writer = new PipeIOStream(child.stdin, options);
  return { reader, writer, nextChunk: () => once(child.stdout, "data") };
}

ioStreamContract({
  name: "a child process's pipes",
  makePair: childPipePair,
  bidirectional: false,
});

async function tcpStreams(
  t: TestContext,
  options?: BaseIOStreamOptions,
): Promise<{ server: IOStream; client: IOStream }> {
  const pair = await tcpPair(options);
  t.after(() => {
    pair.reader.close();
    pair.writer.close();
  });
  return { server: pair.reader as IOStream, client: pair.writer as IOStream };
}

describe("errors", () => {
  test("carry a name, a stable code and the cause", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const closed = new StreamClosedError(reset);
    assert.equal(closed.name, "StreamClosedError");
    assert.equal(closed.code, "ERR_STREAM_CLOSED");
    assert.equal(closed.message, "Stream is closed");
    assert.equal(closed.realError, reset);
    assert.equal(closed.cause, reset);
    assert.equal(new StreamClosedError().realError, null);
    const unsatisfiable = new UnsatisfiableReadError("x");
    assert.equal(unsatisfiable.name, "UnsatisfiableReadError");
    assert.equal(unsatisfiable.code, "ERR_UNSATISFIABLE_READ");
    const full = new StreamBufferFullError("y");
    assert.equal(full.name, "StreamBufferFullError");
    assert.equal(full.code, "ERR_STREAM_BUFFER_FULL");
    const state = new StreamStateError("Already reading", "ERR_ALREADY_READING");
    assert.equal(state.name, "StreamStateError");
    assert.ok(closed instanceof Error && full instanceof Error && state instanceof Error);
  });

  test("bad size options throw RangeError", () => {
    const socket = new net.Socket();
    assert.throws(() => new IOStream(socket, { maxBufferSize: 0 }), RangeError);
    assert.throws(() => new IOStream(socket, { readChunkSize: -1 }), RangeError);
    assert.throws(() => new IOStream(socket, { maxWriteBufferSize: 1.5 }), RangeError);
    socket.destroy();
  });

  test("readChunkSize is capped at half of maxBufferSize", () => {
    const socket = new net.Socket();
    const stream = new IOStream(socket, { maxBufferSize: 1000 });
    assert.equal(stream.maxBufferSize, 1000);
    assert.equal(stream.readChunkSize, 500);
    stream.close();
  });
});

describe("IOStream over TCP", () => {
  test("connect() to a refused port fails with the cause kept [test_connection_refused]", async () => {
    const { server, port } = await bindUnusedPort();
    await new Promise((resolve) => server.close(resolve));
    const stream = new IOStream(new net.Socket());
    const closed = closeCallbackCalled(stream);
    const error = await stream.connect({ host: "127.0.0.1", port }).then(
      () => assert.fail("connect should fail"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StreamClosedError);
    assert.equal((error.realError as NodeJS.ErrnoException).code, "ECONNREFUSED");
    assert.equal((stream.error as NodeJS.ErrnoException).code, "ECONNREFUSED");
    await closed;
    assert.equal(stream.closed(), true);
  });

  test("a name resolution failure is kept as the stream's error [test_gaierror]", async () => {
    const stream = new IOStream(new net.Socket());
    const boom = Object.assign(new Error("getaddrinfo EIO boom"), { code: "EIO" });
    await assert.rejects(
      stream.connect({
        host: "tornado-ts.invalid",
        port: 80,
        lookup: (_host, _options, callback) => callback(boom, "", 4),
      }),
      StreamClosedError,
    );
    assert.equal(stream.error, boom);
  });

  test("IOStream.connect resolves with a connected stream and rejects when refused", async (t) => {
    const server = net.createServer((socket) => socket.end("hi"));
    const port = await listening(server);
    t.after(() => server.close());
    const stream = await IOStream.connect({ host: "127.0.0.1", port });
    assert.ok(stream instanceof IOStream);
    assert.equal(stream.socket.remotePort, port);
    assert.equal((await stream.readUntilClose()).toString(), "hi");
    server.close();
    await once(server, "close");
    await assert.rejects(IOStream.connect({ host: "127.0.0.1", port }), StreamClosedError);
    // Over TLS too, a refused connection is the caller's error, not an "SSL Error" log.
    using log = new ExpectLog(genLog, /.*/, { required: false });
    const error = await SSLIOStream.connect({ host: "127.0.0.1", port }).catch((e: unknown) => e);
    assert.ok(error instanceof StreamClosedError);
    assert.equal((error.realError as NodeJS.ErrnoException).code, "ECONNREFUSED");
    assert.equal(log.matched, 0);
  });

  test("connect() with bad options rejects and leaves the stream usable", async (t) => {
    const stream = new IOStream(new net.Socket());
    t.after(() => stream.close());
    await assert.rejects(stream.connect({ host: "127.0.0.1", port: 70_000 }), RangeError);
    assert.equal(stream.closed(), false);
  });

  test("a second connect() fails with StreamStateError", async (t) => {
    const server = net.createServer((socket) => socket.destroy());
    const port = await listening(server);
    t.after(() => server.close());
    const stream = new IOStream(new net.Socket());
    t.after(() => stream.close());
    const first = stream.connect({ host: "127.0.0.1", port });
    const error = await stream.connect({ host: "127.0.0.1", port }).catch((e: unknown) => e);
    assert.ok(error instanceof StreamStateError);
    assert.equal(error.code, "ERR_ALREADY_CONNECTING");
    assert.equal(await first, stream);
  });

  /** A tiny HTTP/1.0 server answering "Hello", as Tornado's TestIOStreamWebMixin uses. */
  async function helloServer(t: TestContext): Promise<number> {
    const server = net.createServer((socket) => {
      let received = "";
      socket.on("data", (chunk) => {
        received += chunk.toString("latin1");
        if (!received.includes("\r\n\r\n")) return;
        socket.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nHello");
      });
      socket.on("error", () => {});
    });
    t.after(() => server.close());
    return listening(server);
  }

  test("connect resolves before a write made while connecting [test_write_while_connecting]", async (t) => {
    const port = await helloServer(t);
    const stream = new IOStream(new net.Socket());
    t.after(() => stream.close());
    const order: string[] = [];
    const connected = stream.connect({ host: "127.0.0.1", port }).then(() => order.push("connect"));
    const written = stream
      .write("GET / HTTP/1.0\r\nConnection: close\r\n\r\n")
      .then(() => order.push("write"));
    await Promise.all([connected, written]);
    assert.deepEqual(order, ["connect", "write"]);
    assert.ok((await stream.readUntilClose()).toString().endsWith("Hello"));
  });

  test("Promise reads walk an HTTP response [test_future_interface]", async (t) => {
    const port = await helloServer(t);
    const stream = new IOStream(new net.Socket());
    t.after(() => stream.close());
    assert.equal(await stream.connect({ host: "127.0.0.1", port }), stream);
    await stream.write("GET / HTTP/1.0\r\n\r\n");
    assert.equal((await stream.readUntil("\r\n")).toString(), "HTTP/1.1 200 OK\r\n");
    const headers = (await stream.readUntil("\r\n\r\n")).toString();
    const length = Number(/Content-Length: (\d+)/.exec(headers)![1]);
    assert.equal((await stream.readBytes(length)).toString(), "Hello");
  });

  test("readUntilClose returns the whole response [test_read_until_close] [test_connection_closed]", async (t) => {
    const port = await helloServer(t);
    const stream = await IOStream.connect({ host: "127.0.0.1", port });
    t.after(() => stream.close());
    stream.write("GET / HTTP/1.0\r\n\r\n");
    const data = (await stream.readUntilClose()).toString();
    assert.ok(data.startsWith("HTTP/1.1 200"));
    assert.ok(data.endsWith("Hello"));
  });

  test("reads of 9, 0 and 3 bytes [test_read_zero_bytes]", async (t) => {
    const port = await helloServer(t);
    const stream = await IOStream.connect({ host: "127.0.0.1", port });
    t.after(() => stream.close());
    stream.write("GET / HTTP/1.0\r\n\r\n");
    assert.equal((await stream.readBytes(9)).toString(), "HTTP/1.1 ");
    assert.equal((await stream.readBytes(0)).toString(), "");
    assert.equal((await stream.readBytes(3)).toString(), "200");
  });

  test("a read larger than the response fails when the server closes [test_future_close_while_reading]", async (t) => {
    const port = await helloServer(t);
    const stream = await IOStream.connect({ host: "127.0.0.1", port });
    t.after(() => stream.close());
    await stream.write("GET / HTTP/1.0\r\n\r\n");
    await assert.rejects(stream.readBytes(1024 * 1024), StreamClosedError);
  });

  test("readUntilClose gets the body, then reads fail at once [test_future_read_until_close]", async (t) => {
    const port = await helloServer(t);
    const stream = await IOStream.connect({ host: "127.0.0.1", port });
    t.after(() => stream.close());
    await stream.write("GET / HTTP/1.0\r\nConnection: close\r\n\r\n");
    await stream.readUntil("\r\n\r\n");
    assert.equal((await stream.readUntilClose()).toString(), "Hello");
    await assert.rejects(stream.readBytes(1), StreamClosedError);
  });

  test("a socket error other than a reset is logged once and closes the stream [test_async_read_error_logging]", async (t) => {
    const { server, client } = await tcpStreams(t);
    const closed = closeCallbackCalled(server);
    const read = server.readBytes(1);
    using log = new ExpectLog(genLog, /^Error on .*: boom$/, { level: "warning" });
    server.socket.destroy(new Error("boom"));
    const error = await read.catch((e: unknown) => e);
    assert.ok(error instanceof StreamClosedError);
    assert.equal(error.realError?.message, "boom");
    await closed;
    assert.equal(log.matched, 1);
    assert.equal(client.closed(), false);
  });

  test("setNodelay sets TCP_NODELAY and is harmless after close", async (t) => {
    const { client } = await tcpStreams(t);
    client.setNodelay(true);
    client.setNodelay(false);
    client.close();
    client.setNodelay(true);
  });

  test("a 1 GiB writer to a slow reader keeps memory bounded (backpressure)", async (t) => {
    const { server: reader, client: writer } = await tcpStreams(t);
    const total = 1024 * 1024 * 1024;
    // Bounded in time on a busy machine: the reader stops after 6 s if not done by then.
    const deadline = performance.now() + 6_000;
    const piece = Buffer.alloc(1024 * 1024, "b");
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let sent = 0;
    let received = 0;
    let maxInFlight = 0;
    const produce = async () => {
      try {
        while (sent < total) {
          await writer.write(piece);
          sent += piece.length;
        }
      } catch (error) {
        if (!(error instanceof StreamClosedError)) throw error;
      }
    };
    const consume = async () => {
      for (let i = 0; received < total && performance.now() < deadline; i++) {
        received += (await reader.readBytes(65536)).length;
        // A slow reader: one read per turn of the loop, while the socket could deliver more.
        await new Promise((resolve) => setImmediate(resolve));
        if ((i & 127) === 0) {
          peak = Math.max(peak, process.memoryUsage().rss);
          maxInFlight = Math.max(maxInFlight, sent - received);
        }
      }
      writer.close();
    };
    const started = performance.now();
    await Promise.all([produce(), consume()]);
    const seconds = (performance.now() - started) / 1000;
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    t.diagnostic(
      `${mib(received)} MiB in ${seconds.toFixed(1)} s; RSS ${mib(baseline)} MiB -> peak ` +
        `${mib(peak)} MiB; written but unread at most ${mib(maxInFlight)} MiB`,
    );
    assert.ok(received >= 64 * 2 ** 20, `only ${mib(received)} MiB went through`);
    assert.ok(peak - baseline < 100 * 2 ** 20, `RSS grew by ${mib(peak - baseline)} MiB`);
    // The writer waits: what it wrote and the reader has not read stays in kernel buffers.
    assert.ok(maxInFlight < 64 * 2 ** 20, `${mib(maxInFlight)} MiB in flight`);
  });
});

describe("STARTTLS", () => {
  async function plainPair(t: TestContext) {
    const { server, client } = await tcpStreams(t);
    const streams = { server, client } as { server: IOStream; client: IOStream };
    t.after(() => {
      streams.server.close();
      streams.client.close();
    });
    return streams;
  }

  async function sendLine(from: IOStream, to: IOStream, line: string): Promise<void> {
    from.write(line);
    assert.equal((await to.readUntil("\r\n")).toString(), line);
  }

  test("upgrades both sides after an SMTP exchange [test_start_tls_smtp]", async (t) => {
    const s = await plainPair(t);
    await sendLine(s.server, s.client, "220 mail.example.com ready\r\n");
    await sendLine(s.client, s.server, "EHLO mail.example.com\r\n");
    await sendLine(s.server, s.client, "250-mail.example.com welcome\r\n");
    await sendLine(s.server, s.client, "250 STARTTLS\r\n");
    await sendLine(s.client, s.server, "STARTTLS\r\n");
    await sendLine(s.server, s.client, "220 Go ahead\r\n");
    const client = s.client.startTls({
      serverSide: false,
      serverHostname: "localhost",
      sslOptions: { ca: cert },
    });
    const server = s.server.startTls({ serverSide: true, sslOptions: { key, cert } });
    [s.client, s.server] = await Promise.all([client, server]);
    assert.ok(s.client instanceof SSLIOStream);
    assert.ok(s.server instanceof SSLIOStream);
    assert.equal(s.client.socket.authorized, true);
    await sendLine(s.client, s.server, "EHLO mail.example.com\r\n");
    await sendLine(s.server, s.client, "250 mail.example.com welcome\r\n");
  });

  test("an untrusted certificate fails the handshake on both sides [test_handshake_fail]", async (t) => {
    const s = await plainPair(t);
    using _ = new ExpectLog(genLog, /SSL Error/);
    const server = s.server.startTls({ serverSide: true, sslOptions: { key, cert } });
    const client = s.client.startTls({ serverSide: false, serverHostname: "localhost" });
    const clientError = await client.catch((e: unknown) => e);
    assert.ok(clientError instanceof StreamClosedError);
    assert.match(String((clientError.realError as NodeJS.ErrnoException).code), /SELF_SIGNED/);
    await assert.rejects(server, StreamClosedError);
  });

  test("serverHostname is checked against the certificate [test_check_hostname]", async (t) => {
    const s = await plainPair(t);
    using _ = new ExpectLog(genLog, /SSL Error/);
    const server = s.server.startTls({ serverSide: true, sslOptions: { key, cert } });
    const client = s.client.startTls({
      serverSide: false,
      serverHostname: "127.0.0.1",
      sslOptions: { ca: cert },
    });
    const error = await client.catch((e: unknown) => e);
    assert.ok(error instanceof StreamClosedError);
    assert.equal((error.realError as NodeJS.ErrnoException).code, "ERR_TLS_CERT_ALTNAME_INVALID");
    await assert.rejects(server);
  });

  test("writes typed arrays of wide items over TLS [test_typed_memoryview]", async (t) => {
    const s = await plainPair(t);
    [s.client, s.server] = await Promise.all([
      s.client.startTls({ serverSide: false, sslOptions: { rejectUnauthorized: false } }),
      s.server.startTls({
        serverSide: true,
        secureContext: tls.createSecureContext({ key, cert }),
      }),
    ]);
    const words = new Uint32Array(20).map((_, i) => i * 0x01010101);
    await s.server.write(words);
    const received = await s.client.readBytes(words.byteLength);
    assert.deepEqual([...received], [...new Uint8Array(words.buffer)]);
  });

  test("needs an idle stream", async (t) => {
    const s = await plainPair(t);
    const pending = s.client.readBytes(1);
    const error = await s.client.startTls({ serverSide: false }).catch((e: unknown) => e);
    assert.ok(error instanceof StreamStateError);
    assert.equal(error.code, "ERR_STREAM_NOT_IDLE");
    assert.equal(error.message, "IOStream is not idle; cannot convert to SSL");
    s.server.write("x");
    assert.equal((await pending).toString(), "x");
    // Buffered data makes it not idle either.
    s.server.write("yz");
    await bufferedAtLeast(s.client, 2);
    await assert.rejects(s.client.startTls({ serverSide: false }), StreamStateError);
  });

  test("the close callback and buffer sizes move to the TLS stream", async (t) => {
    const { server, client } = await tcpStreams(t, { maxBufferSize: 1 << 20 });
    let called = 0;
    client.setCloseCallback(() => called++);
    const [tlsClient, tlsServer] = await Promise.all([
      client.startTls({ serverSide: false, sslOptions: { ca: cert }, serverHostname: "localhost" }),
      server.startTls({ serverSide: true, sslOptions: { key, cert } }),
    ]);
    t.after(() => {
      tlsClient.close();
      tlsServer.close();
    });
    assert.equal(tlsClient.maxBufferSize, 1 << 20);
    assert.equal(tlsClient.readChunkSize, client.readChunkSize);
    assert.equal(client.closed(), true, "the plain stream is done with");
    await assert.rejects(client.write("x"), StreamClosedError);
    const closed = new Promise<void>((resolve) => {
      const check = () => (called === 1 ? resolve() : setImmediate(check));
      tlsServer.setCloseCallback(() => setImmediate(check));
    });
    tlsServer.close();
    await closed;
    assert.equal(called, 1);
  });
});

describe("SSLIOStream", () => {
  async function tlsServer(
    t: TestContext,
    onStream: (stream: SSLIOStream) => unknown,
  ): Promise<number> {
    const server = net.createServer((raw) => {
      const socket = new tls.TLSSocket(raw, {
        isServer: true,
        secureContext: tls.createSecureContext({ key, cert }),
      });
      const stream = new SSLIOStream(socket);
      t.after(() => stream.close());
      void onStream(stream);
    });
    t.after(() => server.close());
    return listening(server);
  }

  test("waitForHandshake resolves once the handshake is done [test_wait_for_handshake_future]", async (t) => {
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const port = await tlsServer(t, async (stream) => {
      assert.equal(stream.socket.getCipher(), undefined);
      await stream.waitForHandshake();
      assert.ok(stream.socket.getCipher().name);
      resolveDone();
    });
    const client = await SSLIOStream.connect({
      host: "127.0.0.1",
      port,
      rejectUnauthorized: false,
    });
    t.after(() => client.close());
    assert.ok(client.socket.getCipher().name);
    await done;
  });

  test("a second waitForHandshake while one waits fails [test_wait_for_handshake_already_waiting_error]", async (t) => {
    let resolveDone!: (error: unknown) => void;
    const done = new Promise((resolve) => (resolveDone = resolve));
    const port = await tlsServer(t, async (stream) => {
      const first = stream.waitForHandshake();
      const second = await stream.waitForHandshake().catch((e: unknown) => e);
      await first;
      resolveDone(second);
    });
    const client = await SSLIOStream.connect({
      host: "127.0.0.1",
      port,
      rejectUnauthorized: false,
    });
    t.after(() => client.close());
    const error = await done;
    assert.ok(error instanceof StreamStateError);
    assert.equal(error.code, "ERR_ALREADY_WAITING_FOR_HANDSHAKE");
  });

  test("waitForHandshake after the handshake resolves at once [test_wait_for_handshake_already_connected]", async (t) => {
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const port = await tlsServer(t, async (stream) => {
      await stream.waitForHandshake();
      await stream.waitForHandshake();
      resolveDone();
    });
    const client = await SSLIOStream.connect({
      host: "127.0.0.1",
      port,
      rejectUnauthorized: false,
    });
    t.after(() => client.close());
    await client.waitForHandshake();
    await done;
  });

  test("close() during the handshake fails waitForHandshake and drops the connection", async (t) => {
    // A server that accepts TCP and never answers the ClientHello.
    const server = net.createServer();
    const port = await listening(server);
    t.after(() => server.close());
    const accepted = once(server, "connection");
    const stream = new SSLIOStream(
      tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }),
    );
    const handshake = stream.waitForHandshake();
    const [socket] = (await accepted) as [net.Socket];
    socket.on("error", () => {});
    await once(socket, "data"); // the ClientHello
    stream.close();
    await assert.rejects(handshake, StreamClosedError);
    await once(socket, "close");
  });

  describe("hostname checks", () => {
    async function server(t: TestContext): Promise<number> {
      const s = tls.createServer({ key, cert }, (socket) => socket.end());
      s.on("tlsClientError", () => {});
      t.after(() => s.close());
      return listening(s);
    }

    test("a matching name connects [test_match]", async (t) => {
      const port = await server(t);
      const stream = await SSLIOStream.connect({
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: cert,
      });
      t.after(() => stream.close());
      assert.equal(stream.socket.authorized, true);
    });

    test("a name the certificate does not cover fails [test_no_match]", async (t) => {
      const port = await server(t);
      using _ = new ExpectLog(genLog, /SSL Error/);
      const error = await SSLIOStream.connect({
        host: "127.0.0.1",
        port,
        servername: "foo.example.com",
        ca: cert,
      }).catch((e: unknown) => e);
      assert.ok(error instanceof StreamClosedError);
      assert.equal((error.realError as NodeJS.ErrnoException).code, "ERR_TLS_CERT_ALTNAME_INVALID");
    });

    test("checks can be turned off [test_check_disabled]", async (t) => {
      const port = await server(t);
      const stream = await SSLIOStream.connect({
        host: "127.0.0.1",
        port,
        servername: "foo.example.com",
        rejectUnauthorized: false,
      });
      t.after(() => stream.close());
      assert.equal(stream.socket.authorized, false);
    });
  });
});

describe("PipeIOStream", () => {
  test("reads what the write end sends, then the rest at close [test_pipe_iostream]", async (t) => {
    const { reader, writer } = await pipePair();
    t.after(() => {
      reader.close();
      writer.close();
    });
    writer.write("hel");
    writer.write("lo world");
    assert.equal((await reader.readUntil(" ")).toString(), "hello ");
    assert.equal((await reader.readBytes(3)).toString(), "wor");
    writer.close();
    assert.equal((await reader.readUntilClose()).toString(), "ld");
  });

  test("a 1 MB write goes through the pipe [test_pipe_iostream_big_write]", async (t) => {
    const { reader, writer } = await pipePair();
    t.after(() => {
      reader.close();
      writer.close();
    });
    const size = 1024 * 1024;
    writer.write(Buffer.alloc(size, "1"));
    assert.deepEqual(await reader.readBytes(size), Buffer.alloc(size, "1"));
  });

  test("wraps a child process's stdio pipes", async (t) => {
    const child = spawn("cat", [], { stdio: ["pipe", "pipe", "inherit"] });
    const input = new PipeIOStream(child.stdin);
    const output = new PipeIOStream(child.stdout);
    t.after(() => {
      input.close();
      output.close();
      child.kill();
    });
    assert.equal(input.fd, null);
    await input.write("ping\n");
    assert.equal((await output.readUntil("\n")).toString(), "ping\n");
    input.close();
    assert.equal((await output.readUntilClose()).toString(), "");
    await once(child, "exit");
  });

  test("a file descriptor's direction is detected; an explicit one wins", async (t) => {
    const { reader, writer } = await pipePair();
    t.after(() => {
      reader.close();
      writer.close();
    });
    assert.equal((reader.socket as net.Socket).readable, true);
    assert.equal((writer.socket as net.Socket).writable, true);
    assert.equal((writer.socket as net.Socket).readable, false);
    const error = await reader.write("x").catch((e: unknown) => e);
    assert.ok(error instanceof StreamClosedError, "the read end cannot be written");
    assert.equal(typeof reader.fd, "number");
  });
});

/** A Duplex whose reads are whatever `emit("data")` delivers: chunk boundaries chosen exactly. */
function memoryDuplex(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

describe("BaseIOStream over an in-memory Duplex", () => {
  test("writes settle by the Duplex's own callbacks, in order, with no empty writes added", async (t) => {
    // A Duplex that completes each write later, as a framing layer over something slow would.
    const sizes: number[] = [];
    const callbacks: Array<() => void> = [];
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        sizes.push(chunk.length);
        callbacks.push(() => callback());
      },
    });
    const stream = new BaseIOStream(socket);
    t.after(() => stream.close());
    const settled: string[] = [];
    const first = stream.write("hello").then(() => settled.push("first"));
    await new Promise((resolve) => setImmediate(resolve));
    stream.cork();
    const second = stream.write("wor");
    void stream.write("ld");
    stream.uncork();
    void second.then(() => settled.push("second"));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(settled, [], "nothing settles before the Duplex calls back");
    for (let i = 0; i < 100 && (callbacks.length > 0 || sizes.length < 3); i++) {
      callbacks.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all([first, second]);
    assert.deepEqual(settled, ["first", "second"]);
    assert.deepEqual(sizes, [5, 3, 2]);
  });

  function checkAppendThenConsume(chunks: string[], seed: number) {
    return async (t: TestContext) => {
      const socket = memoryDuplex();
      const stream = new BaseIOStream(socket);
      t.after(() => stream.close());
      let expected = "";
      for (const chunk of chunks) {
        socket.emit("data", Buffer.from(chunk));
        expected += chunk;
      }
      // Consume in pseudo-random sizes; each read must be the next bytes, across chunk ends.
      let state = seed;
      while (expected.length > 0) {
        state = (state * 1103515245 + 12345) % 2147483648;
        const n = 1 + (state % expected.length);
        assert.equal((await stream.readBytes(n)).toString(), expected.slice(0, n));
        expected = expected.slice(n);
      }
      assert.equal(stream.reading(), false);
    };
  }

  test(
    "small chunks are appended and consumed in any sizes [test_small]",
    checkAppendThenConsume(["12", "345", "67", "89a", "bcde", "fgh", "ijklmn"], 42),
  );

  test(
    "large chunks are appended and consumed in any sizes [test_large]",
    checkAppendThenConsume(
      ["12".repeat(5), "345".repeat(2), "67".repeat(20), "89a".repeat(12), "bcde", "fgh".repeat(7)],
      7,
    ),
  );

  test("a result inside one chunk is a view of it, not a copy", async (t) => {
    const socket = memoryDuplex();
    const stream = new BaseIOStream(socket);
    t.after(() => stream.close());
    const chunk = Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    socket.emit("data", chunk);
    const line = await stream.readUntil("\r\n");
    assert.equal(line.buffer, chunk.buffer);
    assert.equal(line.byteOffset, chunk.byteOffset);
    const rest = await stream.readUntilRegex(/\r\n\r\n/);
    assert.equal(rest.buffer, chunk.buffer);
  });

  test("readUntilRegex finds a match beyond its first search window", async (t) => {
    const socket = memoryDuplex();
    const stream = new BaseIOStream(socket);
    t.after(() => stream.close());
    const body = "a".repeat(9000) + "\n\n" + "b".repeat(3000);
    socket.emit("data", Buffer.from(body.slice(0, 5000)));
    socket.emit("data", Buffer.from(body.slice(5000)));
    assert.equal((await stream.readUntilRegex(/\n\n/)).length, 9002);
    assert.equal((await stream.readBytes(3000)).toString(), "b".repeat(3000));
  });

  test("a regex read waiting over many chunks completes when the match arrives", async (t) => {
    const socket = memoryDuplex();
    const stream = new BaseIOStream(socket);
    t.after(() => stream.close());
    const read = stream.readUntilRegex(/END\d/, { maxBytes: 100_000 });
    for (let i = 0; i < 500; i++) socket.emit("data", Buffer.from("x".repeat(100)));
    socket.emit("data", Buffer.from("EN"));
    socket.emit("data", Buffer.from("D7tail"));
    assert.equal((await read).length, 50_004);
    assert.equal((await stream.readBytes(4)).toString(), "tail");
  });

  test("readUntil takes a Uint8Array delimiter; write takes an encoding", async (t) => {
    const socket = memoryDuplex();
    const written: Buffer[] = [];
    socket._write = (chunk: Buffer, _encoding, callback) => {
      written.push(chunk);
      callback();
    };
    const stream = new BaseIOStream(socket);
    t.after(() => stream.close());
    socket.emit("data", Buffer.from([1, 2, 0xfe, 0xff, 3]));
    assert.deepEqual(
      [...(await stream.readUntil(new Uint8Array([0xfe, 0xff])))],
      [1, 2, 0xfe, 0xff],
    );
    await stream.write("\u00e9", "latin1");
    await stream.write("\u00e9");
    assert.deepEqual(
      written.map((b) => [...b]),
      [[0xe9], [0xc3, 0xa9]],
    );
  });

  test("close(error) keeps the error as stream.error and as realError of pending reads", async (t) => {
    const stream = new BaseIOStream(memoryDuplex());
    t.after(() => stream.close());
    const read = stream.readBytes(1);
    const reason = new Error("shutting down");
    stream.close(reason);
    stream.close(new Error("ignored: already closed"));
    assert.equal(stream.error, reason);
    const error = await read.catch((e: unknown) => e);
    assert.ok(error instanceof StreamClosedError);
    assert.equal(error.realError, reason);
    // readUntilClose on a closed stream returns what is left (nothing), as in Tornado.
    assert.equal((await stream.readUntilClose()).length, 0);
  });

  test("a close callback set after close still runs; its exception is logged", async () => {
    const stream = new BaseIOStream(memoryDuplex());
    stream.close();
    using log = new ExpectLog(appLog, /Exception in callback/);
    await new Promise<void>((resolve) =>
      stream.setCloseCallback(() => {
        setImmediate(resolve);
        throw new Error("callback failure");
      }),
    );
    assert.equal(log.matched, 1);
  });

  test("a stream over an already destroyed socket starts closed", async () => {
    const socket = memoryDuplex();
    socket.destroy();
    const stream = new BaseIOStream(socket);
    assert.equal(stream.closed(), true);
    await assert.rejects(stream.readBytes(1), StreamClosedError);
    const raw = new net.Socket();
    raw.destroy();
    const tcp = new IOStream(raw);
    assert.equal(tcp.closed(), true);
    await closeCallbackCalled(tcp);
    await assert.rejects(tcp.write("x"), StreamClosedError);
  });
});
