#!/usr/bin/env node
// IOLoop scheduling benchmarks: addCallback against a bare setImmediate per callback, and
// tornado-ts Queue put/get against a plain array-backed async queue.
//
//   npm run build && node bench/ioloop.mjs [count]
//
// Two shapes, each timed from the first schedule to the last callback, several rounds
// alternating the contenders, median reported:
// - burst: `count` callbacks scheduled at once (a server fanning out work);
// - chain: each callback schedules the next (a coroutine hopping turns); batching cannot
//   help there, so this measures addCallback's own per-callback overhead.
// A ratio above 1 means ours is faster than the baseline. Target: addCallback >= 0.8x.
import { IOLoop } from "tornado-ts/ioloop";

const COUNT = Math.min(Number(process.argv[2] ?? 1e6) || 1e6, 1e7);
const CHAIN = Math.max(1, Math.floor(COUNT / 5));
const ROUNDS = 7;

const loop = IOLoop.current();

function burstSetImmediate(n) {
  return new Promise((resolve) => {
    let left = n;
    const fn = () => {
      if (--left === 0) resolve();
    };
    for (let i = 0; i < n; i++) setImmediate(fn);
  });
}

function burstAddCallback(n) {
  return new Promise((resolve) => {
    let left = n;
    const fn = () => {
      if (--left === 0) resolve();
    };
    for (let i = 0; i < n; i++) loop.addCallback(fn);
  });
}

function chainSetImmediate(n) {
  return new Promise((resolve) => {
    let left = n;
    const fn = () => {
      if (--left === 0) resolve();
      else setImmediate(fn);
    };
    setImmediate(fn);
  });
}

function chainAddCallback(n) {
  return new Promise((resolve) => {
    let left = n;
    const fn = () => {
      if (--left === 0) resolve();
      else loop.addCallback(fn);
    };
    loop.addCallback(fn);
  });
}

function cpuNow() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Wall-clock and CPU ms of one run (CPU time is steadier on a shared machine). */
async function time(fn, n) {
  const cpu = cpuNow();
  const start = performance.now();
  await fn(n);
  return { wall: performance.now() - start, cpu: cpuNow() - cpu };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function compare(name, baseline, ours, n, labels = ["setImmediate", "addCallback"]) {
  // Warm up both paths so the JIT has settled before timing.
  await baseline(Math.min(n, 50_000));
  await ours(Math.min(n, 50_000));
  const base = [];
  const mine = [];
  for (let round = 0; round < ROUNDS; round++) {
    base.push(await time(baseline, n));
    mine.push(await time(ours, n));
  }
  const b = median(base.map((r) => r.wall));
  const m = median(mine.map((r) => r.wall));
  const cpuRatio = median(base.map((r) => r.cpu)) / median(mine.map((r) => r.cpu));
  const rate = (ms) => `${(((n / ms) * 1000) / 1e6).toFixed(2)} M/s`;
  console.log(
    `${name.padEnd(18)} n=${n}  ${labels[0]} ${b.toFixed(1)} ms (${rate(b)})  ` +
      `${labels[1]} ${m.toFixed(1)} ms (${rate(m)})  ratio ${(b / m).toFixed(2)}x ` +
      `(CPU time ${cpuRatio.toFixed(2)}x)`,
  );
  return b / m;
}

// Queue put/get: a producer puts `n` items through a bounded queue (maxsize 100) to a consumer,
// tornado-ts Queue against a plain array-backed async queue with the same semantics (bounded
// put that waits, get that waits, FIFO hand-off to waiters).
class ArrayQueue {
  constructor(maxsize) {
    this.maxsize = maxsize;
    this.items = [];
    this.getters = [];
    this.putters = [];
  }
  put(item) {
    const getter = this.getters.shift();
    if (getter !== undefined) {
      getter(item);
      return Promise.resolve();
    }
    if (this.items.length < this.maxsize) {
      this.items.push(item);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.putters.push([item, resolve]));
  }
  get() {
    if (this.items.length > 0) {
      const item = this.items.shift();
      const putter = this.putters.shift();
      if (putter !== undefined) {
        this.items.push(putter[0]);
        putter[1]();
      }
      return Promise.resolve(item);
    }
    const putter = this.putters.shift();
    if (putter !== undefined) {
      putter[1]();
      return Promise.resolve(putter[0]);
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }
}

async function pipe(queue, n) {
  const consumer = (async () => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += await queue.get();
    return sum;
  })();
  for (let i = 0; i < n; i++) await queue.put(i);
  return consumer;
}

async function benchQueue(n) {
  const { Queue } = await import("tornado-ts/queues");
  const items = Math.max(1, Math.floor(n / 5));
  return compare(
    "Queue put/get",
    (k) => pipe(new ArrayQueue(100), k),
    (k) => pipe(new Queue(100), k),
    items,
    ["array queue", "Queue"],
  );
}

console.log(`node ${process.version}, ${ROUNDS} rounds, median`);
const ratios = [];
ratios.push(await compare("addCallback burst", burstSetImmediate, burstAddCallback, COUNT));
ratios.push(await compare("addCallback chain", chainSetImmediate, chainAddCallback, CHAIN));
const queueRatio = await benchQueue(COUNT);
const worst = Math.min(...ratios);
console.log(
  `addCallback worst ratio ${worst.toFixed(2)}x (target >= 0.8x): ${worst >= 0.8 ? "ok" : "BELOW"}`,
);
if (queueRatio !== null)
  console.log(`Queue put/get ratio to an array-backed async queue: ${queueRatio.toFixed(2)}x`);
loop.close();
