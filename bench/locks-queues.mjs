#!/usr/bin/env node
// Coroutine, lock and queue throughput: tornado-ts against Python Tornado (Debian's
// python3-tornado) running the same shapes, and the coroutine runner against native async
// functions.
//
//   npm run build && node bench/locks-queues.mjs [count]
//
// Shapes (each timed end to end, median of several rounds):
// - queue: a producer puts `count` items through a Queue(maxsize 100) to a consumer;
// - lock: 10 workers take turns on one Lock, each giving way one loop turn while holding it;
// - coroutine: a coroutine that yields a sub-coroutine which itself yields one loop turn.
// Ratios above 1 mean tornado-ts is faster. Python Tornado is skipped when not installed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { coroutine, moment } from "tornado-ts/gen";
import { Lock } from "tornado-ts/locks";
import { Queue } from "tornado-ts/queues";

const COUNT = Math.min(Math.max(Number(process.argv[2] ?? 100_000) || 100_000, 1_000), 2_000_000);
const ROUNDS = 5;
const WORKERS = 10;

async function queueShape(n) {
  const q = new Queue(100);
  const consumer = (async () => {
    for (let i = 0; i < n; i++) await q.get();
  })();
  for (let i = 0; i < n; i++) await q.put(i);
  await consumer;
}

async function lockShape(n) {
  const lock = new Lock();
  let counter = 0;
  const worker = async (k) => {
    for (let i = 0; i < k; i++) {
      const releaser = await lock.acquire(); // plain .mjs: no \`await using\` syntax in Node 20
      try {
        counter++;
        await moment;
      } finally {
        releaser.release();
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, () => worker(n / WORKERS)));
  if (counter !== n) throw new Error("lost an acquire");
}

const inner = coroutine(function* (i) {
  yield moment;
  return i;
});
const outer = coroutine(function* (n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield inner(i);
  return sum;
});

async function coroutineShape(n) {
  await outer(n);
}

async function innerAsync(i) {
  await moment;
  return i;
}

async function asyncShape(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await innerAsync(i);
  return sum;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function rate(shape, n) {
  await shape(Math.min(n, 5_000)); // warm up
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await shape(n);
    times.push(performance.now() - start);
  }
  return n / (median(times) / 1000);
}

const PYTHON = String.raw`
import asyncio, json, sys, time
from tornado import gen, locks, queues
N = int(sys.argv[1])
ROUNDS = 5
WORKERS = 10

async def queue_shape(n):
    q = queues.Queue(maxsize=100)
    async def consumer():
        for _ in range(n):
            await q.get()
    c = asyncio.ensure_future(consumer())
    for i in range(n):
        await q.put(i)
    await c

async def lock_shape(n):
    lock = locks.Lock()
    async def worker(k):
        for _ in range(k):
            async with lock:
                await asyncio.sleep(0)
    await asyncio.gather(*[worker(n // WORKERS) for _ in range(WORKERS)])

@gen.coroutine
def inner(i):
    yield gen.moment
    return i

@gen.coroutine
def outer(n):
    total = 0
    for i in range(n):
        total += yield inner(i)
    return total

async def coroutine_shape(n):
    await outer(n)

async def rate(shape, n):
    await shape(min(n, 5000))
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        await shape(n)
        times.append(time.perf_counter() - start)
    times.sort()
    return n / times[len(times) // 2]

async def main():
    print(json.dumps({
        "queue": await rate(queue_shape, N),
        "lock": await rate(lock_shape, N),
        "coroutine": await rate(coroutine_shape, N),
    }))

asyncio.run(main())
`;

function pythonRates(n) {
  const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const probe = spawnSync(python, ["-c", "import tornado"], { stdio: "ignore" });
  if (probe.status !== 0) return null;
  const r = spawnSync(python, ["-c", PYTHON, String(n)], { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`python bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const fmt = (perSecond) => `${Math.round(perSecond).toLocaleString("en-US")}/s`;

const ours = {
  queue: await rate(queueShape, COUNT),
  lock: await rate(lockShape, COUNT),
  coroutine: await rate(coroutineShape, COUNT),
};
const native = await rate(asyncShape, COUNT);
// Python is slower: a smaller count keeps its run short; rates stay comparable.
const py = pythonRates(Math.max(1_000, Math.floor(COUNT / 5)));

console.log(`count ${COUNT}, median of ${ROUNDS} rounds`);
for (const shape of ["queue", "lock", "coroutine"]) {
  const peer = py
    ? `python tornado ${fmt(py[shape])}  ratio ${(ours[shape] / py[shape]).toFixed(2)}x`
    : "python tornado: not installed";
  console.log(`${shape.padEnd(10)} tornado-ts ${fmt(ours[shape])}  ${peer}`);
}
console.log(
  `coroutine vs async function (same shape): ${fmt(ours.coroutine)} vs ${fmt(native)}  ratio ${(ours.coroutine / native).toFixed(2)}x`,
);
