#!/usr/bin/env node
// IOLoop scheduling benchmarks: addCallback against a bare setImmediate per callback.
//
//   npm run build && node bench/ioloop.mjs [count]
//
// Two shapes, each timed from the first schedule to the last callback, several rounds
// alternating the contenders, median reported:
// - burst: `count` callbacks scheduled at once (a server fanning out work);
// - chain: each callback schedules the next (a coroutine hopping turns); batching cannot
//   help there, so this measures addCallback's own per-callback overhead.
// A ratio above 1 means addCallback is faster than setImmediate. Target: >= 0.8x.
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

async function compare(name, baseline, ours, n) {
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
    `${name.padEnd(18)} n=${n}  setImmediate ${b.toFixed(1)} ms (${rate(b)})  ` +
      `addCallback ${m.toFixed(1)} ms (${rate(m)})  ratio ${(b / m).toFixed(2)}x ` +
      `(CPU time ${cpuRatio.toFixed(2)}x)`,
  );
  return b / m;
}

// ---------------------------------------------------------------------------------------------
// HOOK: Queue put/get benchmark (tornado-ts/queues), to be added by the lead once queues land.
// Fill in this function (e.g. a producer putting `n` items and a consumer getting them through
// a bounded Queue, compared with a plain array + Promise handoff) and return its ratio; it is
// reported with the others below. Returning null skips it.
// ---------------------------------------------------------------------------------------------
async function benchQueue(_n) {
  return null;
}

console.log(`node ${process.version}, ${ROUNDS} rounds, median`);
const ratios = [];
ratios.push(await compare("addCallback burst", burstSetImmediate, burstAddCallback, COUNT));
ratios.push(await compare("addCallback chain", chainSetImmediate, chainAddCallback, CHAIN));
const queueRatio = await benchQueue(COUNT);
if (queueRatio !== null) ratios.push(queueRatio);
const worst = Math.min(...ratios);
console.log(`worst ratio ${worst.toFixed(2)}x (target >= 0.8x): ${worst >= 0.8 ? "ok" : "BELOW"}`);
loop.close();
