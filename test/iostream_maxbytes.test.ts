// closeOnMaxBytes: false lets a protocol answer after a read overran its limit (an HTTP
// server's 431), with the data still buffered and the stream open.
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { test } from "node:test";
import { IOStream, UnsatisfiableReadError } from "../src/iostream.js";

async function pair(t: { after: (fn: () => unknown) => void }): Promise<[IOStream, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  const client = connect((server.address() as { port: number }).port, "127.0.0.1");
  const socket = await accepted;
  const stream = new IOStream(socket);
  t.after(() => {
    stream.close();
    client.destroy();
  });
  return [stream, client];
}

test("an overrun with closeOnMaxBytes false rejects but keeps the stream and its data", async (t) => {
  const [stream, client] = await pair(t);
  client.write("0123456789abcdef\n");
  await assert.rejects(
    stream.readUntil("\n", { maxBytes: 8, closeOnMaxBytes: false }),
    UnsatisfiableReadError,
  );
  assert.equal(stream.closed(), false);
  assert.equal((await stream.readUntil("\n")).toString(), "0123456789abcdef\n");
  await stream.write(Buffer.from("still writable"));
});

test("an overrun by default closes the stream, as Tornado does", async (t) => {
  const [stream, client] = await pair(t);
  client.write("0123456789abcdef\n");
  await assert.rejects(stream.readUntil("\n", { maxBytes: 8 }), UnsatisfiableReadError);
  assert.equal(stream.closed(), true);
});

test("readBufferSize counts buffered, unread bytes", async (t) => {
  const [stream, client] = await pair(t);
  client.write("abc\ndef");
  await stream.readUntil("\n");
  while (stream.readBufferSize < 3) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stream.readBufferSize, 3);
});
