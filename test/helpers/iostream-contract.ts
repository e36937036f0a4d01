// The contract every IOStream transport (TCP, TLS, pipes) keeps: one suite, run once per
// transport by test/iostream.test.ts with a factory that makes a connected pair. This is
// Tornado's TestReadWriteMixin (one stream writes, the other reads) plus the checks of the
// read buffer (chunk boundaries, limits, flow control) that every transport shares.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test, type TestContext } from "node:test";
import {
  type BaseIOStream,
  type BaseIOStreamOptions,
  StreamBufferFullError,
  StreamClosedError,
  StreamStateError,
  UnsatisfiableReadError,
} from "../../src/iostream.js";
import { genLog } from "../../src/log.js";
import { ExpectLog } from "../../src/testing.js";
import { seededRandom } from "./random.js";

/** A connected pair: what `writer` writes, `reader` reads. */
export interface StreamPair {
  reader: BaseIOStream;
  writer: BaseIOStream;
  /** Resolves once the next chunk has reached `reader` (it has buffered it by then). */
  nextChunk(): Promise<unknown>;
}

/** A transport under test. */
export interface Transport {
  name: string;
  /** Makes a connected pair; both streams get `options`. Cleanup is the caller's. */
  makePair(options?: BaseIOStreamOptions): Promise<StreamPair>;
  /** True if both streams read and write (sockets); false for a one-way pipe. */
  bidirectional: boolean;
  /** Makes the writer's end go away abruptly (a TCP RST), if the transport can. */
  resetWriter?: (pair: StreamPair) => void;
}

/** A Promise resolved when `stream`'s close callback runs. */
export function closeCallbackCalled(stream: BaseIOStream): Promise<void> {
  return new Promise((resolve) => stream.setCloseCallback(resolve));
}

/** Writes `data` one byte at a time, each byte arriving as its own chunk. */
async function writeByteByByte(pair: StreamPair, data: string): Promise<void> {
  for (const byte of Buffer.from(data, "latin1")) {
    const arrived = pair.nextChunk();
    await pair.writer.write(Buffer.of(byte));
    await arrived;
  }
}

function randomBytes(random: () => number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Registers the contract suite for `transport`. */
export function ioStreamContract(transport: Transport): void {
  async function pair(t: TestContext, options?: BaseIOStreamOptions): Promise<StreamPair> {
    const p = await transport.makePair(options);
    t.after(() => {
      p.reader.close();
      p.writer.close();
    });
    return p;
  }

  describe(`IOStream contract over ${transport.name}`, () => {
    test("a write of zero bytes resolves [test_write_zero_bytes]", async (t) => {
      const { writer } = await pair(t);
      await writer.write(Buffer.alloc(0));
      await writer.write("");
      assert.equal(writer.closed(), false);
    });

    test("a write the transport cannot take at once settles once the reader has it, in order", async (t) => {
      const { reader, writer } = await pair(t);
      // The reader reads ahead a little and then pauses: the kernel's buffers fill and the
      // writer keeps the rest until the reader reads.
      const size = 16 * 1024 * 1024;
      const settled: string[] = [];
      const big = writer.write(Buffer.alloc(size, "b")).then(() => settled.push("big"));
      const tail = writer.write("tail").then(() => settled.push("tail"));
      while (writer.writeBufferSize === 0) await new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(settled, [], "nothing settles before the reader reads");
      let received = 0;
      while (received < size)
        received += (await reader.readBytes(size - received, { partial: true })).length;
      assert.equal((await reader.readBytes(4)).toString(), "tail");
      await Promise.all([big, tail]);
      assert.deepEqual(settled, ["big", "tail"]);
      assert.equal(writer.writing(), false);
      // The drained writer takes a small write at once again.
      await writer.write("x");
      assert.equal((await reader.readBytes(1)).toString(), "x");
    });

    test("readBytes, readUntil and readUntilClose return what was written, in order", async (t) => {
      const { reader, writer } = await pair(t);
      writer.write("hel");
      writer.write(Buffer.from("lo world\r\nrest"));
      assert.equal((await reader.readUntil(" ")).toString(), "hello ");
      assert.equal((await reader.readBytes(3)).toString(), "wor");
      assert.equal((await reader.readUntil("\r\n")).toString(), "ld\r\n");
      writer.close();
      assert.equal((await reader.readUntilClose()).toString(), "rest");
    });

    test("data that arrived before a read is kept and served from the buffer", async (t) => {
      const p = await pair(t);
      const arrived = p.nextChunk();
      await p.writer.write("line one\nline two\n");
      await arrived;
      assert.equal(p.reader.reading(), false);
      assert.equal((await p.reader.readUntil("\n")).toString(), "line one\n");
      assert.equal((await p.reader.readUntil("\n")).toString(), "line two\n");
    });

    test("a read served from the buffer still settles asynchronously", async (t) => {
      const p = await pair(t);
      const arrived = p.nextChunk();
      await p.writer.write("abc");
      await arrived;
      const order: string[] = [];
      const read = p.reader.readBytes(3).then(() => order.push("read"));
      order.push("sync");
      await read;
      assert.deepEqual(order, ["sync", "read"]);
    });

    test("a delimiter split across chunks is found, one byte per chunk", async (t) => {
      const p = await pair(t);
      const read = p.reader.readUntil("\r\n\r\n");
      // False starts ("\r\n\r" then "x") must not fool the search across boundaries.
      await writeByteByByte(p, "ab\r\n\rx\r\n\r\n");
      assert.equal((await read).toString("latin1"), "ab\r\n\rx\r\n\r\n");
      const second = p.reader.readUntil("END", { maxBytes: 16 });
      await writeByteByByte(p, "EENENDtail");
      assert.equal((await second).toString(), "EENEND");
      assert.equal((await p.reader.readBytes(4)).toString(), "tail");
    });

    test("readUntilRegex finds a match split across chunks", async (t) => {
      const p = await pair(t);
      const read = p.reader.readUntilRegex(/\r?\n\r?\n/);
      await writeByteByByte(p, "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody");
      assert.equal((await read).toString(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal((await p.reader.readBytes(4)).toString(), "body");
    });

    test("readUntilRegex matches bytes as Latin-1 and ignores the g flag", async (t) => {
      const { reader, writer } = await pair(t);
      const regex = /\xff+!/g;
      regex.lastIndex = 5;
      writer.write(Buffer.from([0x61, 0xff, 0xff, 0x21, 0x62]));
      const data = await reader.readUntilRegex(regex);
      assert.deepEqual([...data], [0x61, 0xff, 0xff, 0x21]);
      writer.write("cd");
      assert.equal((await reader.readUntilRegex("c")).toString(), "bc");
    });

    test("a read spanning many chunks returns them joined", async (t) => {
      const p = await pair(t);
      const read = p.reader.readBytes(7);
      await writeByteByByte(p, "abcdefgh");
      assert.equal((await read).toString(), "abcdefg");
      assert.equal((await p.reader.readBytes(1)).toString(), "h");
    });

    test("readBytes(0) resolves with no bytes [test_read_zero_bytes]", async (t) => {
      const { reader, writer } = await pair(t);
      assert.equal((await reader.readBytes(0)).length, 0);
      writer.write("x");
      assert.equal((await reader.readBytes(0, { partial: true })).length, 0);
      assert.equal((await reader.readBytes(1)).toString(), "x");
    });

    test("the peer's close after a read still lets buffered data be read [test_future_delayed_close_callback]", async (t) => {
      const { reader, writer } = await pair(t);
      writer.write("12");
      const chunks = [(await reader.readBytes(1)).toString()];
      writer.close();
      chunks.push((await reader.readBytes(1)).toString());
      assert.deepEqual(chunks, ["1", "2"]);
    });

    test("data buffered before the peer closed is readable after the close [test_close_buffered_data]", async (t) => {
      const { reader, writer } = await pair(t, { readChunkSize: 256 });
      const closed = closeCallbackCalled(reader);
      await writer.write("A".repeat(512));
      assert.equal((await reader.readBytes(256)).toString(), "A".repeat(256));
      writer.close();
      await closed;
      assert.equal(reader.closed(), true);
      assert.equal((await reader.readBytes(256)).toString(), "A".repeat(256));
    });

    test("readUntilClose after the peer closed returns the rest [test_read_until_close_after_close]", async (t) => {
      const { reader, writer } = await pair(t);
      writer.write("1234");
      assert.equal((await reader.readBytes(1)).toString(), "1");
      writer.close();
      assert.equal((await reader.readUntilClose()).toString(), "234");
      // Nothing left: a further read fails at once.
      await assert.rejects(reader.readBytes(1), StreamClosedError);
    });

    test("a 4 MB readUntil is quick [test_large_read_until]", async (t) => {
      const { reader, writer } = await pair(t);
      const kilobyte = Buffer.alloc(1024, "A");
      for (let i = 0; i < 4096; i++) writer.write(kilobyte);
      writer.write("\r\n");
      const start = performance.now();
      const data = await reader.readUntil("\r\n");
      assert.equal(data.length, 4096 * 1024 + 2);
      assert.ok(performance.now() - start < 5000);
    });

    test("readUntil sees data that arrives with the peer's close [test_read_until_with_close_after_second_packet]", async (t) => {
      const { reader, writer } = await pair(t);
      const read = reader.readUntil("done");
      await writer.write("x".repeat(2048));
      writer.write("done");
      writer.close();
      assert.equal((await read).length, 2052);
    });

    test("a readUntil left unsatisfied by the peer's close fails with StreamClosedError [test_read_until_unsatisfied_after_close]", async (t) => {
      const { reader, writer } = await pair(t);
      const read = reader.readUntil("done");
      await writer.write("x".repeat(2048));
      writer.write("foo");
      writer.close();
      const error = await read.then(
        () => assert.fail("read should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StreamClosedError);
      assert.equal(error.message, "Stream is closed");
    });

    test("the close callback runs with a read pending [test_close_callback_with_pending_read]", async (t) => {
      const { reader, writer } = await pair(t);
      const closed = closeCallbackCalled(reader);
      writer.write("OK\r\n");
      assert.equal((await reader.readUntil("\r\n")).toString(), "OK\r\n");
      writer.close();
      const pending = reader.readUntil("\r\n");
      await closed;
      await assert.rejects(pending, StreamClosedError);
    });

    test("the close callback runs when the peer closes [test_future_close_callback]", async (t) => {
      const { reader, writer } = await pair(t);
      let called = false;
      const closed = new Promise<void>((resolve) =>
        reader.setCloseCallback(() => {
          called = true;
          resolve();
        }),
      );
      writer.write("a");
      assert.equal((await reader.readBytes(1)).toString(), "a");
      assert.equal(called, false);
      writer.close();
      await closed;
      assert.equal(called, true);
      assert.equal(reader.error, null);
    });

    test("typed arrays and DataViews are written as their bytes [test_write_memoryview]", async (t) => {
      const { reader, writer } = await pair(t);
      const read = reader.readBytes(4);
      writer.write(new Uint8Array(Buffer.from("hello")));
      assert.equal((await read).toString(), "hell");
      const words = new Uint32Array([0x01020304, 0x05060708]);
      await writer.write(new DataView(words.buffer, 4, 4));
      await writer.write(words);
      const bytes = await reader.readBytes(1 + 4 + 8);
      assert.deepEqual(
        [...bytes.subarray(5)],
        [...new Uint8Array(words.buffer)],
        "a Uint32Array is sent as all its bytes",
      );
    });

    test("readBytes with partial resolves with what is there [test_read_bytes_partial]", async (t) => {
      const { reader, writer } = await pair(t);
      let read = reader.readBytes(50, { partial: true });
      writer.write("hello");
      assert.equal((await read).toString(), "hello");
      read = reader.readBytes(3, { partial: true });
      writer.write("world");
      assert.equal((await read).toString(), "wor");
      assert.equal((await reader.readBytes(0, { partial: true })).toString(), "");
    });

    test("readUntil with maxBytes succeeds within the limit and fails past it [test_read_until_max_bytes]", async (t) => {
      const { reader, writer } = await pair(t);
      const closed = closeCallbackCalled(reader);
      let read = reader.readUntil("def", { maxBytes: 50 });
      writer.write("abcdef");
      assert.equal((await read).toString(), "abcdef");
      read = reader.readUntil("def", { maxBytes: 6 });
      writer.write("abcdef");
      assert.equal((await read).toString(), "abcdef");
      {
        using log = new ExpectLog(genLog, /Unsatisfiable read/, { level: "info" });
        read = reader.readUntil("def", { maxBytes: 5 });
        writer.write("123456");
        const error = await read.then(
          () => assert.fail("read should fail"),
          (e: unknown) => e,
        );
        assert.ok(error instanceof UnsatisfiableReadError);
        assert.equal(error.code, "ERR_UNSATISFIABLE_READ");
        await closed;
        assert.equal(log.matched, 1);
      }
      assert.equal(reader.closed(), true);
      assert.ok(reader.error instanceof UnsatisfiableReadError);
    });

    test("readUntil fails at once when buffered data already exceeds maxBytes [test_read_until_max_bytes_inline]", async (t) => {
      const p = await pair(t);
      const closed = closeCallbackCalled(p.reader);
      const arrived = p.nextChunk();
      await p.writer.write("123456");
      await arrived;
      using _ = new ExpectLog(genLog, /Unsatisfiable read/, { level: "info" });
      await assert.rejects(p.reader.readUntil("def", { maxBytes: 5 }), UnsatisfiableReadError);
      await closed;
    });

    test("a delimiter that ends past maxBytes fails even if it arrived [test_read_until_max_bytes_ignores_extra]", async (t) => {
      const p = await pair(t);
      const closed = closeCallbackCalled(p.reader);
      const arrived = p.nextChunk();
      await p.writer.write("abcdef");
      await arrived;
      using _ = new ExpectLog(genLog, /Unsatisfiable read/, { level: "info" });
      await assert.rejects(p.reader.readUntil("def", { maxBytes: 5 }), UnsatisfiableReadError);
      await closed;
    });

    test("readUntilRegex with maxBytes succeeds within the limit and fails past it [test_read_until_regex_max_bytes]", async (t) => {
      const { reader, writer } = await pair(t);
      const closed = closeCallbackCalled(reader);
      let read = reader.readUntilRegex(/def/, { maxBytes: 50 });
      writer.write("abcdef");
      assert.equal((await read).toString(), "abcdef");
      read = reader.readUntilRegex(/def/, { maxBytes: 6 });
      writer.write("abcdef");
      assert.equal((await read).toString(), "abcdef");
      using _ = new ExpectLog(genLog, /Unsatisfiable read/, { level: "info" });
      read = reader.readUntilRegex(/def/, { maxBytes: 5 });
      writer.write("123456");
      await assert.rejects(read, UnsatisfiableReadError);
      await closed;
    });

    test("readUntilRegex fails at once when buffered data already exceeds maxBytes [test_read_until_regex_max_bytes_inline]", async (t) => {
      const p = await pair(t);
      const closed = closeCallbackCalled(p.reader);
      const arrived = p.nextChunk();
      await p.writer.write("123456");
      await arrived;
      using _ = new ExpectLog(genLog, /Unsatisfiable read/, { level: "info" });
      await assert.rejects(p.reader.readUntilRegex(/def/, { maxBytes: 5 }), UnsatisfiableReadError);
      await closed;
    });

    test("a regex match that ends past maxBytes fails even if it arrived [test_read_until_regex_max_bytes_ignores_extra]", async (t) => {
      const p = await pair(t);
      const closed = closeCallbackCalled(p.reader);
      const arrived = p.nextChunk();
      await p.writer.write("abcdef");
      await arrived;
      using _ = new ExpectLog(genLog, /Unsatisfiable read/, { level: "info" });
      await assert.rejects(p.reader.readUntilRegex(/def/, { maxBytes: 5 }), UnsatisfiableReadError);
      await closed;
    });

    test("small reads from a large write with a small maxBufferSize [test_small_reads_from_large_buffer]", async (t) => {
      const { reader, writer } = await pair(t, { maxBufferSize: 10 * 1024 });
      writer.write(Buffer.alloc(100 * 1024, "a"));
      for (let i = 0; i < 100; i++) {
        assert.deepEqual(await reader.readBytes(1024), Buffer.alloc(1024, "a"));
      }
    });

    test("small readUntils from a large write with a small maxBufferSize [test_small_read_untils_from_large_buffer]", async (t) => {
      const { reader, writer } = await pair(t, { maxBufferSize: 10 * 1024 });
      const line = "a".repeat(1023) + "\n";
      writer.write(line.repeat(100));
      for (let i = 0; i < 100; i++) {
        assert.equal((await reader.readUntil("\n", { maxBytes: 4096 })).toString(), line);
      }
    });

    test("a writer of more than maxBufferSize waits for the reader [test_flow_control]", async (t) => {
      const MB = 1024 * 1024;
      const { reader, writer } = await pair(t, { maxBufferSize: 5 * MB });
      const written = writer.write(Buffer.alloc(10 * MB, "a"));
      await reader.readBytes(MB);
      assert.equal(writer.writing(), true, "the reader does not take 10 MB at once");
      for (let i = 0; i < 9; i++) assert.equal((await reader.readBytes(MB)).length, MB);
      await written;
    });

    test("a read needing more than maxBufferSize closes the stream with StreamBufferFullError", async (t) => {
      const { reader, writer } = await pair(t, { maxBufferSize: 64 * 1024 });
      const closed = closeCallbackCalled(reader);
      using log = new ExpectLog(genLog, /Reached maximum read buffer size/, { level: "error" });
      const read = reader.readUntil("never");
      writer.write(Buffer.alloc(256 * 1024, "x")).catch(() => {});
      const error = await read.then(
        () => assert.fail("read should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StreamClosedError);
      assert.ok(error.realError instanceof StreamBufferFullError);
      assert.equal(error.cause, error.realError);
      assert.ok(reader.error instanceof StreamBufferFullError);
      assert.equal(reader.error.code, "ERR_STREAM_BUFFER_FULL");
      await closed;
      assert.equal(log.matched, 1, "logged once");
    });

    test("readUntilClose of more than maxBufferSize fails instead of truncating", async (t) => {
      const { reader, writer } = await pair(t, { maxBufferSize: 64 * 1024 });
      using _ = new ExpectLog(genLog, /Reached maximum read buffer size/, { level: "error" });
      const read = reader.readUntilClose();
      writer.write(Buffer.alloc(256 * 1024, "x")).catch(() => {});
      const error = await read.then(
        () => assert.fail("read should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StreamClosedError);
      assert.ok(error.realError instanceof StreamBufferFullError);
    });

    test("readInto fills the buffer, using buffered data first [test_read_into]", async (t) => {
      const p = await pair(t);
      const { reader, writer } = p;
      let buffer = new Uint8Array(10);
      let read = reader.readInto(buffer);
      let arrived = p.nextChunk();
      writer.write("hello");
      await arrived;
      assert.equal(reader.reading(), true);
      writer.write("world!!");
      assert.equal(await read, 10);
      assert.equal(reader.reading(), false);
      assert.equal(Buffer.from(buffer).toString(), "helloworld");

      read = reader.readInto(buffer);
      assert.equal(reader.reading(), true);
      writer.write("1234567890");
      assert.equal(await read, 10);
      assert.equal(Buffer.from(buffer).toString(), "!!12345678");

      buffer = new Uint8Array(4);
      arrived = p.nextChunk();
      writer.write("abcdefghi");
      await arrived;
      assert.equal(await reader.readInto(buffer), 4);
      assert.equal(Buffer.from(buffer).toString(), "90ab");
      assert.equal((await reader.readBytes(7)).toString(), "cdefghi");
    });

    test("readInto with partial resolves with what is there [test_read_into_partial]", async (t) => {
      const p = await pair(t);
      const { reader, writer } = p;
      const buffer = Buffer.alloc(10);
      const read = reader.readInto(buffer, { partial: true });
      writer.write("hello");
      assert.equal(await read, 5);
      assert.equal(reader.reading(), false);
      assert.equal(buffer.toString("latin1"), "hello\0\0\0\0\0");
      const arrived = p.nextChunk();
      writer.write("world!1234567890");
      await arrived;
      assert.equal(await reader.readInto(buffer, { partial: true }), 10);
      assert.equal(buffer.toString(), "world!1234");
      assert.equal(await reader.readInto(buffer, { partial: true }), 6);
      assert.equal(buffer.toString(), "5678901234");
    });

    test("readInto an empty buffer resolves with 0 [test_read_into_zero_bytes]", async (t) => {
      const { reader } = await pair(t);
      assert.equal(await reader.readInto(new Uint8Array(0)), 0);
    });

    test("mixed readBytes and readInto keep every byte in order [test_many_mixed_reads]", async (t) => {
      const { reader, writer } = await pair(t);
      const random = seededRandom(42);
      const total = 1_000_000;
      const produced = createHash("sha1");
      const consumed = createHash("sha1");
      const produce = async () => {
        for (let remaining = total; remaining > 0;) {
          const size = 1 + Math.floor(random() * Math.min(1000, remaining));
          const data = randomBytes(random, size);
          produced.update(data);
          await writer.write(data);
          remaining -= size;
        }
      };
      const consume = async () => {
        const choose = seededRandom(7);
        for (let remaining = total; remaining > 0;) {
          const size = 1 + Math.floor(choose() * Math.min(1000, remaining));
          if (choose() > 0.5) consumed.update(await reader.readBytes(size));
          else {
            const buffer = new Uint8Array(size);
            assert.equal(await reader.readInto(buffer), size);
            consumed.update(buffer);
          }
          remaining -= size;
        }
      };
      await Promise.all([produce(), consume()]);
      assert.equal(consumed.digest("hex"), produced.digest("hex"));
    });

    test("a second read while one is pending fails with StreamStateError", async (t) => {
      const { reader, writer } = await pair(t);
      const first = reader.readBytes(2);
      const error = await reader.readUntil("x").then(
        () => assert.fail("second read should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StreamStateError);
      assert.equal(error.code, "ERR_ALREADY_READING");
      writer.write("ab");
      assert.equal((await first).toString(), "ab");
    });

    test("bad arguments are rejected with RangeError or TypeError", async (t) => {
      const { reader } = await pair(t);
      await assert.rejects(reader.readBytes(-1), RangeError);
      await assert.rejects(reader.readBytes(1.5), RangeError);
      await assert.rejects(reader.readUntil(""), RangeError);
      await assert.rejects(reader.readUntil("x", { maxBytes: -2 }), RangeError);
      await assert.rejects(reader.readUntilRegex(/x/, { maxBytes: Number.NaN }), RangeError);
      await assert.rejects(reader.readInto("nope" as unknown as Uint8Array), TypeError);
      await assert.rejects(reader.write(42 as unknown as string), TypeError);
      await assert.rejects(reader.write("x", "klingon" as BufferEncoding), TypeError);
      assert.equal(reader.writing(), false, "a rejected write leaves nothing pending");
      assert.equal(reader.reading(), false, "a rejected call leaves no read pending");
    });

    test("close() during a pending read fails it with StreamClosedError", async (t) => {
      const { reader } = await pair(t);
      const read = reader.readUntil("\n");
      assert.equal(reader.reading(), true);
      reader.close();
      const error = await read.then(
        () => assert.fail("read should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StreamClosedError);
      assert.equal(error.realError, null);
      assert.equal(reader.reading(), false);
    });

    test("a pending readUntilClose gets the buffered data when the stream is closed", async (t) => {
      const p = await pair(t);
      const read = p.reader.readUntilClose();
      const arrived = p.nextChunk();
      p.writer.write("partial data");
      await arrived;
      p.reader.close(new Error("local reason"));
      assert.equal((await read).toString(), "partial data");
      assert.equal(p.reader.error?.message, "local reason");
    });

    test("a write after close fails with StreamClosedError", async (t) => {
      const { writer } = await pair(t);
      writer.close();
      const error = await writer.write("late").then(
        () => assert.fail("write should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StreamClosedError);
      assert.equal(error.code, "ERR_STREAM_CLOSED");
    });

    test("failed reads and writes nobody awaits raise no unhandled rejection", async (t) => {
      const { reader, writer } = await pair(t);
      let unhandled = 0;
      const onUnhandled = () => unhandled++;
      process.on("unhandledRejection", onUnhandled);
      t.after(() => process.off("unhandledRejection", onUnhandled));
      void reader.readUntil("never");
      void writer.write(Buffer.alloc(64));
      reader.close();
      writer.close();
      void writer.write("after close");
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(unhandled, 0);
    });

    test("a write beyond maxWriteBufferSize fails with StreamBufferFullError", async (t) => {
      const { reader, writer } = await pair(t, { maxWriteBufferSize: 64 * 1024 });
      const error = await writer.write(Buffer.alloc(64 * 1024 + 1)).then(
        () => assert.fail("write should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StreamBufferFullError);
      assert.equal(error.message, "Reached maximum write buffer size");
      assert.equal(writer.closed(), false, "the stream stays open");
      await writer.write(Buffer.alloc(64 * 1024, "y"));
      assert.equal((await reader.readBytes(64 * 1024)).length, 64 * 1024);
    });

    test("after the reader goes away, writes fail with StreamClosedError without error logs", async (t) => {
      const { reader, writer } = await pair(t);
      const closed = closeCallbackCalled(writer);
      reader.close();
      let failure: unknown;
      for (let i = 0; i < 1000 && failure === undefined; i++) {
        await writer.write(Buffer.alloc(64 * 1024)).catch((e: unknown) => (failure = e));
      }
      assert.ok(failure instanceof StreamClosedError);
      await closed;
      assert.equal(writer.closed(), true);
      const code = (writer.error as NodeJS.ErrnoException | null)?.code;
      assert.ok(code === undefined || ["EPIPE", "ECONNRESET"].includes(code), String(code));
    });

    if (transport.resetWriter !== undefined) {
      const resetWriter = transport.resetWriter;
      test("a peer reset closes the stream silently and fails the pending read with its cause", async (t) => {
        const p = await pair(t);
        const closed = closeCallbackCalled(p.reader);
        const read = p.reader.readUntil("\n");
        resetWriter(p);
        const error = await read.then(
          () => assert.fail("read should fail"),
          (e: unknown) => e,
        );
        assert.ok(error instanceof StreamClosedError);
        assert.equal((error.realError as NodeJS.ErrnoException).code, "ECONNRESET");
        assert.equal(error.cause, error.realError);
        await closed;
        assert.equal((p.reader.error as NodeJS.ErrnoException).code, "ECONNRESET");
      });
    }

    test("write Promises resolve in write order, across turns of the loop", async (t) => {
      const { reader, writer } = await pair(t);
      const order: number[] = [];
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 6; i++) {
        writes.push(writer.write(`${i}`).then(() => order.push(i)));
        if (i % 2 === 1) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(writes);
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
      assert.equal((await reader.readBytes(6)).toString(), "012345");
    });

    test("reading() and writing() tell what is pending", async (t) => {
      const { reader, writer } = await pair(t);
      assert.equal(reader.reading(), false);
      const read = reader.readBytes(1);
      assert.equal(reader.reading(), true);
      const written = writer.write("z");
      assert.equal(writer.writing(), true);
      await written;
      assert.equal(writer.writing(), false);
      await read;
      assert.equal(reader.reading(), false);
    });

    if (transport.bidirectional) {
      test("concurrent writers never lose a write Promise [test_future_write]", async (t) => {
        const m = 5000;
        const n = 200;
        const producers = 10;
        const total = m * n * producers;
        const { reader: server, writer: client } = await pair(t, { maxBufferSize: total });
        const data = Buffer.alloc(m, "x");
        const produce = async () => {
          for (let i = 0; i < n; i++) await server.write(data);
        };
        const consume = async () => {
          for (let read = 0; read < total;) read += (await client.readBytes(m)).length;
        };
        await Promise.all([...Array.from({ length: producers }, produce), consume()]);
      });

      test("both ends read and write (an echo exchange)", async (t) => {
        const { reader: server, writer: client } = await pair(t);
        const echo = (async () => {
          for (let i = 0; i < 100; i++) await server.write(await server.readUntil("\n"));
        })();
        for (let i = 0; i < 100; i++) {
          client.write(`line ${i}\n`);
          assert.equal((await client.readUntil("\n")).toString(), `line ${i}\n`);
        }
        await echo;
      });
    }
  });
}
