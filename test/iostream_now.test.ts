// The Promise-free reads (readUntilNow, readBytesNow) and cork()/uncork(), which the HTTP
// server's request loop is built on.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { test } from "node:test";
import { StreamClosedError, StreamStateError, UnsatisfiableReadError } from "../src/iostream.js";
import { connect, type Socket } from "node:net";
import { bufferedAtLeast, QueueServer, streamAndPeer } from "./helpers/network.js";
import type { IOStream } from "../src/iostream.js";

/** What the first callback a recorder saw was given. */
function first(r: { calls: Array<[string, unknown]> }): unknown {
  return r.calls[0]?.[1];
}

/** Records the callbacks of one readUntilNow. */
function recorder() {
  const calls: Array<[string, unknown]> = [];
  let wake: () => void = () => {};
  const called = new Promise<void>((resolve) => {
    wake = resolve;
  });
  return {
    calls,
    called,
    onData: (data: Buffer) => {
      calls.push(["data", data.toString("latin1")]);
      wake();
    },
    onError: (error: Error) => {
      calls.push(["error", error]);
      wake();
    },
  };
}

test("readUntilNow returns buffered data at once and calls neither callback", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  client.write("abc\ndef\n");
  await bufferedAtLeast(stream, 8);
  const r = recorder();
  assert.equal(stream.readUntilNow("\n", undefined, r.onData, r.onError)?.toString(), "abc\n");
  assert.equal(stream.readUntilNow("\n", undefined, r.onData, r.onError)?.toString(), "def\n");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(r.calls, []);
  assert.equal(stream.reading(), false);
});

test("readUntilNow waits for the delimiter across chunks, then calls onData once", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  const r = recorder();
  assert.equal(stream.readUntilNow("\r\n\r\n", undefined, r.onData, r.onError), null);
  assert.equal(stream.reading(), true);
  client.write("GET / HTTP/1.1\r\n");
  await bufferedAtLeast(stream, 16);
  assert.deepEqual(r.calls, []);
  client.write("\r\nnext");
  await r.called;
  assert.deepEqual(r.calls, [["data", "GET / HTTP/1.1\r\n\r\n"]]);
  assert.equal(stream.reading(), false);
  // The rest stays buffered for the next read.
  await bufferedAtLeast(stream, 4);
  assert.equal((await stream.readBytes(4)).toString(), "next");
});

test("readUntilNow reports a close on a later microtask, never inside close()", async (t) => {
  const [stream] = await streamAndPeer(t);
  const r = recorder();
  assert.equal(stream.readUntilNow("\n", undefined, r.onData, r.onError), null);
  stream.close();
  assert.deepEqual(r.calls, []);
  await r.called;
  assert.equal(r.calls.length, 1);
  assert.ok(first(r) instanceof StreamClosedError);
  // On a closed stream the error comes the same way.
  const again = recorder();
  assert.equal(stream.readUntilNow("\n", undefined, again.onData, again.onError), null);
  await again.called;
  assert.ok(first(again) instanceof StreamClosedError);
});

test("readUntilNow fails past maxBytes, keeping the stream open with closeOnMaxBytes false", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  const pending = recorder();
  assert.equal(
    stream.readUntilNow(
      "\n",
      { maxBytes: 4, closeOnMaxBytes: false },
      pending.onData,
      pending.onError,
    ),
    null,
  );
  client.write("0123456789");
  await pending.called;
  assert.ok(first(pending) instanceof UnsatisfiableReadError);
  assert.equal(stream.closed(), false);
  // Already buffered past the limit: the error comes at once (on a microtask).
  const now = recorder();
  assert.equal(
    stream.readUntilNow("\n", { maxBytes: 4, closeOnMaxBytes: false }, now.onData, now.onError),
    null,
  );
  await now.called;
  assert.ok(first(now) instanceof UnsatisfiableReadError);
  assert.equal((await stream.readBytes(10)).toString(), "0123456789");
});

test("readUntilNow refuses a second read and bad arguments through onError", async (t) => {
  const [stream] = await streamAndPeer(t);
  const reading = stream.readUntil("\n");
  const r = recorder();
  assert.equal(stream.readUntilNow("\n", undefined, r.onData, r.onError), null);
  await r.called;
  assert.ok(first(r) instanceof StreamStateError);
  stream.close();
  await assert.rejects(reading, StreamClosedError);
  const bad = recorder();
  assert.equal(stream.readUntilNow("", undefined, bad.onData, bad.onError), null);
  await bad.called;
  assert.ok(first(bad) instanceof RangeError);
});

test("readBytesNow takes buffered bytes only, and never while a read is pending", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  assert.equal(stream.readBytesNow(1), null);
  assert.equal(stream.readBytesNow(1, { partial: true }), null);
  client.write("hello");
  await bufferedAtLeast(stream, 5);
  assert.equal(stream.readBytesNow(6), null);
  assert.equal(stream.readBytesNow(2)?.toString(), "he");
  assert.equal(stream.readBytesNow(9, { partial: true })?.toString(), "llo");
  assert.equal(stream.readBufferSize, 0);
  const pending = stream.readBytes(1);
  client.write("x");
  assert.equal(stream.readBytesNow(1), null);
  assert.equal((await pending).toString(), "x");
  assert.equal(stream.readBytesNow(-1), null);
});

test("cork() holds writes in the stream until the last uncork(), then sends them together", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  const socket = stream.socket;
  stream.cork();
  stream.cork();
  const a = stream.write("ab");
  const b = stream.write(Buffer.from("cd"));
  assert.equal(a, b, "writes while corked share one Promise");
  assert.equal(stream.writeBufferSize, 4);
  assert.equal(socket.writableLength, 0, "nothing reached the socket");
  stream.uncork();
  assert.equal(socket.writableLength, 0, "still held: one cork left");
  let received = "";
  client.on("data", (chunk: Buffer) => {
    received += chunk.toString();
  });
  stream.uncork();
  stream.uncork(); // one too many does nothing
  await a;
  while (received.length < 4) await once(client, "data");
  assert.equal(received, "abcd");
});

test("close() still delivers writes held by cork()", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  stream.cork();
  const written = stream.write("bye");
  let received = "";
  client.on("data", (chunk: Buffer) => {
    received += chunk.toString();
  });
  const ended = once(client, "end");
  stream.close();
  await assert.rejects(written, StreamClosedError);
  await ended;
  assert.equal(received, "bye");
});

test("maxWriteBufferSize counts writes held by cork()", async (t) => {
  const [stream] = await streamAndPeer(t);
  stream.maxWriteBufferSize = 5;
  stream.cork();
  void stream.write("1234");
  await assert.rejects(stream.write("56"), /maximum write buffer size/);
  stream.uncork();
});

test("a plain TCP stream takes reads straight from the socket, not through data events", async (t) => {
  // If a Node release drops the onread keys this relies on, the stream falls back to the data
  // event (and this test says so): everything still works, only slower.
  const [stream, client] = await streamAndPeer(t);
  let dataEvents = 0;
  stream.socket.on("data", () => dataEvents++);
  client.write("hello\n");
  assert.equal((await stream.readUntil("\n")).toString(), "hello\n");
  client.write("x".repeat(200_000));
  assert.equal((await stream.readBytes(200_000)).length, 200_000);
  assert.equal(dataEvents, 0);
});

test("a read that is exactly one waiting head reaches onData without a copy", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  const heads: Buffer[] = [];
  const texts: string[] = [];
  for (const line of ["GET /1 HTTP/1.1", "GET /2 HTTP/1.1"]) {
    const r = recorder();
    const onData = (data: Buffer) => {
      // Valid during the call only: read it now, keep the view to compare where it lived.
      heads.push(data);
      texts.push(data.toString("latin1"));
      r.onData(data);
    };
    assert.equal(stream.readUntilNow("\r\n\r\n", undefined, onData, r.onError), null);
    client.write(`${line}\r\n\r\n`);
    await r.called;
  }
  assert.deepEqual(texts, ["GET /1 HTTP/1.1\r\n\r\n", "GET /2 HTTP/1.1\r\n\r\n"]);
  // Both were views of the one buffer the socket reads into, not copies.
  assert.equal(heads[0]!.buffer, heads[1]!.buffer);
  assert.equal(heads[0]!.byteOffset, 0);
  assert.equal(heads[1]!.byteOffset, 0);
  // A read with more than the head is copied, and the rest stays buffered.
  const r = recorder();
  assert.equal(stream.readUntilNow("\r\n\r\n", undefined, r.onData, r.onError), null);
  client.write("GET /3 HTTP/1.1\r\n\r\nbody");
  await r.called;
  assert.deepEqual(r.calls, [["data", "GET /3 HTTP/1.1\r\n\r\n"]]);
  await bufferedAtLeast(stream, 4);
  assert.equal(stream.readBytesNow(4)?.toString(), "body");
});

test("bulk data (reads into buffers of their own) and small reads (copied) keep every byte", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  const produced = createHash("sha256");
  const consumed = createHash("sha256");
  // Large writes fill whole reads (the bulk path); small ones between switch back.
  const pieces = [randomBytes(4 << 20), randomBytes(100), randomBytes(3 << 20), randomBytes(7)];
  let total = 0;
  for (const piece of pieces) {
    produced.update(piece);
    total += piece.length;
  }
  const writing = (async () => {
    for (const piece of pieces) {
      if (!client.write(piece)) await once(client, "drain");
    }
  })();
  const sizes = [1, 65536, 200_000, 13, 70_000];
  for (let got = 0, i = 0; got < total; i++) {
    const data = await stream.readBytes(Math.min(sizes[i % sizes.length]!, total - got));
    consumed.update(data);
    got += data.length;
  }
  await writing;
  assert.equal(consumed.digest("hex"), produced.digest("hex"));
});

/** A stream accepted by a TCPServer (half-open allowed) and the client socket talking to it. */
async function acceptedPair(t: {
  after: (fn: () => unknown) => void;
}): Promise<[IOStream, Socket]> {
  const server = new QueueServer();
  t.after(() => server.shutdown());
  await server.listen(0, "127.0.0.1");
  const client = connect(server.port, "127.0.0.1");
  t.after(() => client.destroy());
  return [await server.next(), client];
}

function collect(socket: Socket): Promise<string> {
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  return new Promise((resolve) => socket.on("end", () => resolve(text)));
}

test("the end-of-input callback returning false leaves Tornado's close at the peer's FIN", async (t) => {
  const [stream, client] = await acceptedPair(t);
  let calls = 0;
  stream.setEndOfInputCallback(() => {
    calls++;
    return false;
  });
  const closed = new Promise<void>((resolve) => stream.setCloseCallback(resolve));
  client.end("abc");
  await closed;
  assert.equal(calls, 1);
  assert.equal(stream.closed(), true);
  assert.equal((await stream.readBytes(3)).toString(), "abc"); // buffered data stays readable
});

test("the end-of-input callback returning true keeps the stream open to answer", async (t) => {
  const [stream, client] = await acceptedPair(t);
  const reply = collect(client);
  const ended = new Promise<void>((resolve) =>
    stream.setEndOfInputCallback(() => (resolve(), true)),
  );
  client.end("one\ntwo\nthree");
  await ended;
  assert.equal(stream.closed(), false);
  assert.equal(stream.inputEnded, true);
  // Reads are served from the buffer; writes still reach the peer after its FIN.
  assert.equal((await stream.readUntil("\n")).toString(), "one\n");
  await stream.write("answer 1;");
  const never = () => assert.fail("the line is buffered: no callback");
  assert.equal(stream.readUntilNow("\n", undefined, never, never)?.toString(), "two\n");
  await stream.write("answer 2;");
  // The first read that would wait for more closes the stream, as the FIN would have.
  await assert.rejects(stream.readUntil("\n"), StreamClosedError);
  assert.equal(stream.closed(), true);
  assert.equal(stream.inputEnded, false);
  assert.equal(await reply, "answer 1;answer 2;");
  // What remained is still readable once closed.
  assert.equal((await stream.readBytes(5)).toString(), "three");
});

test("a read to the close after the end of input takes the buffer and closes", async (t) => {
  const [stream, client] = await acceptedPair(t);
  const ended = new Promise<void>((resolve) =>
    stream.setEndOfInputCallback(() => (resolve(), true)),
  );
  client.end("rest of it");
  await ended;
  assert.equal((await stream.readUntilClose()).toString(), "rest of it");
  assert.equal(stream.closed(), true);
});

test("the end-of-input callback is skipped while a read is pending (it fails at the FIN)", async (t) => {
  const [stream, client] = await acceptedPair(t);
  let called = false;
  stream.setEndOfInputCallback(() => (called = true));
  const read = stream.readUntil("\n");
  client.end("no newline");
  await assert.rejects(read, StreamClosedError);
  assert.equal(called, false);
  assert.equal(stream.closed(), true);
});

test("the end-of-input callback is not called on a socket that cannot stay half-open", async (t) => {
  // net.createServer's sockets end their side at the peer's FIN (allowHalfOpen false), as
  // TLS sockets do: nothing could be written after it, so the stream just closes.
  const [stream, client] = await streamAndPeer(t);
  let called = false;
  stream.setEndOfInputCallback(() => (called = true));
  const closed = new Promise<void>((resolve) => stream.setCloseCallback(resolve));
  client.end("data");
  await closed;
  assert.equal(called, false);
  assert.equal(stream.inputEnded, false);
});

test(
  "a write the socket cannot take at once resolves when the peer has read it, and in order",
  { timeout: 20_000 },
  async (t) => {
    const [stream, client] = await streamAndPeer(t);
    // The peer does not read yet: the kernel's buffers fill and the socket keeps the rest.
    client.pause();
    const big = Buffer.alloc(32 * 1024 * 1024, "x");
    const settled: string[] = [];
    const first = stream.write(big).then(() => settled.push("big"));
    const second = stream.write("tail").then(() => settled.push("tail"));
    await bufferedAtLeastInSocket(stream);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(settled, [], "nothing settles while the peer does not read");
    let received = 0;
    client.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    client.resume();
    await Promise.all([first, second]);
    assert.deepEqual(settled, ["big", "tail"]);
    assert.equal(stream.writing(), false);
    // A small write on the drained socket is taken at once.
    await stream.write("more");
    while (received < big.length + 8) await once(client, "data");
    assert.equal(received, big.length + 8);
  },
);

/** Resolves once `stream` has bytes waiting in its socket (the kernel took what it could). */
async function bufferedAtLeastInSocket(stream: IOStream): Promise<void> {
  while (stream.writeBufferSize === 0) await new Promise((resolve) => setImmediate(resolve));
}

test(
  "a write waiting on a peer that resets rejects with StreamClosedError",
  { timeout: 20_000 },
  async (t) => {
    const [stream, client] = await streamAndPeer(t);
    client.pause();
    const pending = stream.write(Buffer.alloc(32 * 1024 * 1024, "y"));
    await bufferedAtLeastInSocket(stream);
    client.resetAndDestroy();
    await assert.rejects(pending, StreamClosedError);
    assert.equal(stream.closed(), true);
    await assert.rejects(stream.write("late"), StreamClosedError);
  },
);
