#!/usr/bin/env node
// IOStream benchmarks, side by side with the same work written straight on net.Socket.
//
//   npm run build && node bench/iostream.mjs [lines] [megabytes]
//   node bench/iostream.mjs --memory-only     (section 3 only)
//
// 1. Line protocol: a raw net client (a child process) pipelines `lines` short lines
//    (default 200k, 13 bytes each) and waits for all of them to come back. The server echoes
//    each line: with IOStream, `await readUntil("\r\n")` then `write(line)`; raw, a 'data'
//    handler splitting chunks on CRLF (carrying a partial line over) and `socket.write`
//    per line (and, second, the same with cork()/uncork() around each 'data' event, the
//    best a raw server can do; IOStream batches the writes of one turn the same way).
// 2. Bulk: a child process sends `megabytes` MiB (default 512) as fast as the socket takes
//    them; the server reads with `await readBytes(65536)` in a loop, or raw, counts 'data'
//    chunks.
// 3. readUntil cost against the number of chunks buffered: one message of 64 KiB arriving as
//    1 chunk or as 1000 chunks of ~64 B to a pending readUntil (over an in-memory Duplex,
//    so the socket is out of the picture). Flat means the time per byte does not grow with
//    the chunk count; a naive reader that concatenates and rescans per chunk is shown for
//    reference.
// 4. HTTP/1 header blocks (readUntil and readUntilRegex with maxBytes) of pipelined requests.
// Each contender runs several rounds, alternating; medians are reported. A ratio above 1
// means IOStream is faster. Targets: >= 0.8x raw for 1 and 2; flat for 3.
import { spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { IOStream } from "tornado-ts/iostream";

// BENCH_SMOKE=1 (the test suite's smoke run): one round and small counts, to prove it runs.
const SMOKE = process.env["BENCH_SMOKE"] === "1";
const ROUNDS = SMOKE ? 1 : 5;
const SCALE = SMOKE ? 20 : 1;
const LINE_BYTES = 13;

// ---------------------------------------------------------------- child roles

async function lineClient(port, lines) {
  const socket = net.connect({ port, host: "127.0.0.1" });
  await once(socket, "connect");
  socket.setNoDelay(true);
  const total = lines * LINE_BYTES;
  let received = 0;
  const started = performance.now();
  const done = new Promise((resolve) => {
    socket.on("data", (chunk) => {
      received += chunk.length;
      if (received >= total) resolve();
    });
  });
  // Pipelined: everything is written up front, in 64 KiB pieces.
  const perPiece = Math.floor(65536 / LINE_BYTES);
  for (let i = 0; i < lines;) {
    const n = Math.min(perPiece, lines - i);
    let text = "";
    for (let j = 0; j < n; j++, i++) text += `PING ${String(i % 1e6).padStart(6, "0")}\r\n`;
    if (!socket.write(text)) await once(socket, "drain");
  }
  await done;
  const elapsed = performance.now() - started;
  socket.destroy();
  process.stdout.write(JSON.stringify({ elapsed, received }) + "\n");
}

async function bulkSender(port, bytes) {
  const socket = net.connect({ port, host: "127.0.0.1" });
  await once(socket, "connect");
  const piece = Buffer.alloc(1024 * 1024, 0x61);
  for (let sent = 0; sent < bytes; sent += piece.length) {
    if (!socket.write(piece)) await once(socket, "drain");
  }
  socket.end();
  await once(socket, "close");
}

// ---------------------------------------------------------------- servers

const CRLF = Buffer.from("\r\n");

function rawLineServer(socket) {
  socket.setNoDelay(true);
  let carry = null;
  socket.on("data", (chunk) => {
    const data = carry === null ? chunk : Buffer.concat([carry, chunk]);
    let start = 0;
    let i;
    while ((i = data.indexOf(CRLF, start)) !== -1) {
      socket.write(data.subarray(start, i + 2));
      start = i + 2;
    }
    carry = start < data.length ? data.subarray(start) : null;
  });
  socket.on("error", () => {});
}

// The raw server at its best: writes of one 'data' event corked into one writev.
function rawCorkedLineServer(socket) {
  socket.setNoDelay(true);
  let carry = null;
  socket.on("data", (chunk) => {
    const data = carry === null ? chunk : Buffer.concat([carry, chunk]);
    let start = 0;
    let i;
    socket.cork();
    while ((i = data.indexOf(CRLF, start)) !== -1) {
      socket.write(data.subarray(start, i + 2));
      start = i + 2;
    }
    socket.uncork();
    carry = start < data.length ? data.subarray(start) : null;
  });
  socket.on("error", () => {});
}

async function ioStreamLineServer(socket) {
  const stream = new IOStream(socket);
  stream.setNodelay(true);
  try {
    for (;;) stream.write(await stream.readUntil("\r\n"));
  } catch {
    // The client hung up.
  }
}

async function ioStreamBulkPartialServer(socket, bytes) {
  const stream = new IOStream(socket);
  let received = 0;
  while (received < bytes) received += (await stream.readBytes(65536, { partial: true })).length;
  stream.close();
  return received;
}

function rawBulkServer(socket, bytes) {
  return new Promise((resolve) => {
    let received = 0;
    socket.on("data", (chunk) => {
      received += chunk.length;
      if (received >= bytes) resolve(received);
    });
    socket.on("error", () => {});
  });
}

async function ioStreamBulkServer(socket, bytes) {
  const stream = new IOStream(socket);
  let received = 0;
  while (received < bytes) received += (await stream.readBytes(65536)).length;
  stream.close();
  return received;
}

// ---------------------------------------------------------------- runners

const self = fileURLToPath(import.meta.url);

function child(args) {
  const proc = spawn(process.execPath, [self, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout.on("data", (chunk) => (out += chunk));
  return { proc, output: once(proc, "exit").then(() => out) };
}

async function withServer(handler, run) {
  const server = net.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    return await run(server.address().port, server);
  } finally {
    server.close();
  }
}

async function lineRound(handler, lines) {
  return withServer(handler, async (port) => {
    const { output } = child(["--line-client", String(port), String(lines)]);
    const result = JSON.parse(await output);
    if (result.received !== lines * LINE_BYTES) throw new Error("line echo lost data");
    return result.elapsed;
  });
}

async function bulkRound(serve, bytes) {
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  return withServer(
    (socket) => {
      const started = performance.now();
      serve(socket, bytes).then((received) => finish({ received, started }));
    },
    async (port) => {
      const { output } = child(["--bulk-sender", String(port), String(bytes)]);
      const { received, started } = await done;
      const elapsed = performance.now() - started;
      await output;
      if (received !== bytes) throw new Error(`bulk read ${received} of ${bytes}`);
      return elapsed;
    },
  );
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function compare(name, unit, perUnit, raw, ours) {
  await raw();
  await ours(); // warm-up
  const rawTimes = [];
  const ourTimes = [];
  for (let round = 0; round < ROUNDS; round++) {
    rawTimes.push(await raw());
    ourTimes.push(await ours());
  }
  const r = median(rawTimes);
  const o = median(ourTimes);
  const rate = (ms) => `${((perUnit / ms) * 1000).toFixed(1)} ${unit}`;
  console.log(`${name}`);
  console.log(`  net.Socket   ${r.toFixed(1).padStart(8)} ms  ${rate(r)}`);
  console.log(`  IOStream     ${o.toFixed(1).padStart(8)} ms  ${rate(o)}`);
  console.log(`  ratio        ${(r / o).toFixed(2)}x (IOStream vs raw; target >= 0.8x)`);
  return r / o;
}

// ---------------------------------------------------------------- readUntil vs chunk count

/** An in-memory Duplex: chunks are fed with emit("data"), so no socket or stream machinery. */
function memoryStream() {
  const socket = new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  // Buffers are huge so that flow control stays out of the measurement.
  const stream = new IOStream(socket, { readChunkSize: 1 << 30, maxBufferSize: 1 << 30 });
  return { socket, stream };
}

function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** ns per chunk for a pending readUntil fed `count` chunks of 64 B, the last one ending in CRLF. */
async function pendingReadPerChunk(count, messages) {
  const { socket, stream } = memoryStream();
  const piece = Buffer.alloc(64, 0x78);
  const last = Buffer.alloc(64, 0x78);
  last.write("\r\n", 62, "latin1");
  const started = performance.now();
  for (let m = 0; m < messages; m++) {
    const read = stream.readUntil("\r\n");
    for (let i = 1; i < count; i++) socket.emit("data", piece);
    socket.emit("data", last);
    await read;
  }
  const elapsed = performance.now() - started;
  stream.close();
  return (elapsed * 1e6) / (messages * count);
}

/** The same for a reader that concatenates and searches its whole buffer per chunk. */
function naivePerChunk(count, messages) {
  const piece = Buffer.alloc(64, 0x78);
  const last = Buffer.alloc(64, 0x78);
  last.write("\r\n", 62, "latin1");
  const started = performance.now();
  for (let m = 0; m < messages; m++) {
    let buffer = Buffer.alloc(0);
    for (let i = 1; i <= count; i++) {
      buffer = Buffer.concat([buffer, i === count ? last : piece]);
      if (buffer.indexOf(CRLF) !== -1) break;
    }
  }
  return ((performance.now() - started) * 1e6) / (messages * count);
}

/** ns per readUntil of 13-byte lines already buffered, `perChunk` lines per chunk. */
async function bufferedReadCost(lines, perChunk) {
  const { socket, stream } = memoryStream();
  const chunk = Buffer.from("PING 000000\r\n".repeat(perChunk));
  await tick();
  for (let i = 0; i < lines / perChunk; i++) socket.emit("data", chunk);
  const started = performance.now();
  for (let i = 0; i < lines; i++) await stream.readUntil("\r\n");
  const elapsed = performance.now() - started;
  stream.close();
  return (elapsed * 1e6) / lines;
}

async function chunkScaling() {
  console.log("readUntil pending while a message arrives in N chunks of 64 B (ns per chunk)");
  const perChunk = [];
  for (const count of [1, 10, 100, 1000]) {
    const messages = Math.max(20, Math.floor(200_000 / SCALE / count));
    await pendingReadPerChunk(count, Math.min(messages, 50));
    const ours = [];
    const naive = [];
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(await pendingReadPerChunk(count, messages));
      naive.push(naivePerChunk(count, Math.max(5, Math.floor(messages / 10))));
    }
    perChunk.push(median(ours));
    console.log(
      `  N=${String(count).padStart(4)}  IOStream ${median(ours).toFixed(0).padStart(6)} ns/chunk` +
        `   naive concat+search ${median(naive).toFixed(0).padStart(7)} ns/chunk`,
    );
  }
  console.log(
    `  1000 chunks vs 1: ${(perChunk[perChunk.length - 1] / perChunk[0]).toFixed(2)}x per chunk (flat is ~1)`,
  );
  console.log(
    "readUntil of buffered 13-byte lines: 1 line per chunk (200k chunks) vs 1000 per chunk",
  );
  const costs = [];
  for (const lines of [1, 1000]) {
    await bufferedReadCost(20_000, lines);
    const times = [];
    for (let round = 0; round < ROUNDS; round++) {
      times.push(await bufferedReadCost(200_000 / SCALE, lines));
    }
    costs.push(median(times));
    console.log(
      `  ${String(lines).padStart(4)} line(s) per chunk: ${median(times).toFixed(0)} ns/readUntil`,
    );
  }
  console.log(`  ratio ${(costs[0] / costs[1]).toFixed(2)}x (flat is ~1)`);

  // HTTP/1 header blocks, as http1connection reads them, from pipelined 64 KiB chunks.
  console.log("header blocks of 100k pipelined requests (~190 B) in 64 KiB chunks");
  const request =
    "GET /index.html HTTP/1.1\r\nHost: localhost:8888\r\nUser-Agent: bench\r\n" +
    "Accept: */*\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n";
  const all = Buffer.from(request.repeat(100_000));
  const pieces = [];
  for (let i = 0; i < all.length; i += 65536) pieces.push(all.subarray(i, i + 65536));
  for (const [name, read] of [
    ['readUntil("\\r\\n\\r\\n")', (stream) => stream.readUntil("\r\n\r\n", { maxBytes: 65536 })],
    [
      "readUntilRegex(/\\r?\\n\\r?\\n/)",
      (stream) => stream.readUntilRegex(/\r?\n\r?\n/, { maxBytes: 65536 }),
    ],
  ]) {
    const times = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { socket, stream } = memoryStream();
      await tick();
      const started = performance.now();
      let next = 0;
      for (let i = 0; i < 100_000; i++) {
        const pending = read(stream);
        // Feed a chunk only when the read needs it, as a socket would deliver it.
        while (stream.reading() && next < pieces.length) socket.emit("data", pieces[next++]);
        await pending;
      }
      times.push(performance.now() - started);
      stream.close();
    }
    console.log(`  ${name.padEnd(28)} ${((median(times) / 100_000) * 1e6).toFixed(0)} ns/request`);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const role = process.argv[2];
  if (role === "--line-client") return lineClient(Number(process.argv[3]), Number(process.argv[4]));
  if (role === "--bulk-sender") return bulkSender(Number(process.argv[3]), Number(process.argv[4]));
  if (role === "--memory-only") return chunkScaling();
  const lines = Math.min(Number(process.argv[2] ?? 200_000) || 200_000, 2_000_000);
  const megabytes = Math.min(Number(process.argv[3] ?? 512) || 512, 4096);
  console.log(`node ${process.version}, ${ROUNDS} rounds each, medians\n`);
  await compare(
    `line echo: ${lines} pipelined ${LINE_BYTES}-byte lines`,
    "lines/s",
    lines,
    () => lineRound(rawLineServer, lines),
    () => lineRound(ioStreamLineServer, lines),
  );
  console.log();
  await compare(
    `line echo against a raw server that corks each 'data' event's writes`,
    "lines/s",
    lines,
    () => lineRound(rawCorkedLineServer, lines),
    () => lineRound(ioStreamLineServer, lines),
  );
  console.log();
  const bytes = megabytes * 1024 * 1024;
  await compare(
    `bulk: ${megabytes} MiB, readBytes(65536) vs 'data' events`,
    "MiB/s",
    megabytes,
    () => bulkRound(rawBulkServer, bytes),
    () => bulkRound(ioStreamBulkServer, bytes),
  );
  console.log();
  await compare(
    `bulk: ${megabytes} MiB, readBytes(65536, {partial: true}) vs 'data' events`,
    "MiB/s",
    megabytes,
    () => bulkRound(rawBulkServer, bytes),
    () => bulkRound(ioStreamBulkPartialServer, bytes),
  );
  console.log();
  await chunkScaling();
}

await main();
