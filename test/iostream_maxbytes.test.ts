// closeOnMaxBytes: false lets a protocol answer after a read overran its limit (an HTTP
// server's 431), with the data still buffered and the stream open.
import assert from "node:assert/strict";
import { test } from "node:test";
import { UnsatisfiableReadError } from "../src/iostream.js";
import { bufferedAtLeast, streamAndPeer } from "./helpers/network.js";

test("an overrun with closeOnMaxBytes false rejects but keeps the stream and its data", async (t) => {
  const [stream, client] = await streamAndPeer(t);
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
  const [stream, client] = await streamAndPeer(t);
  client.write("0123456789abcdef\n");
  await assert.rejects(stream.readUntil("\n", { maxBytes: 8 }), UnsatisfiableReadError);
  assert.equal(stream.closed(), true);
});

test("readBufferSize counts buffered, unread bytes", async (t) => {
  const [stream, client] = await streamAndPeer(t);
  client.write("abc\ndef");
  await stream.readUntil("\n");
  await bufferedAtLeast(stream, 3);
  assert.equal(stream.readBufferSize, 3);
});
