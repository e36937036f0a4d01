import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, type Future } from "../src/concurrent.js";
import { coroutine, moment, sleep } from "../src/gen.js";
import { IOLoop } from "../src/ioloop.js";
import {
  defaultCompare,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
} from "../src/queues.js";
import { TimeoutError } from "../src/util.js";
import { completionCounter, heapUsedAfterGc } from "./helpers/gc.js";

/** Calls `fn` after `ms` on the loop, cancelled when the test ends. */
function later(t: { after(fn: () => void): void }, ms: number, fn: () => void): void {
  const loop = IOLoop.current();
  const handle = loop.callLater(ms, fn);
  t.after(() => loop.removeTimeout(handle));
}

// ---------------------------------------------------------------------------- basics

test("a Queue's string form shows maxsize, getters, putters and tasks [test_repr_and_str]", () => {
  const q = new Queue<null>(1);
  const getter = q.get();
  let s = String(q);
  assert.ok(s.startsWith("<Queue"));
  assert.match(s, /maxsize=1/);
  assert.match(s, /getters\[1\]/);
  assert.doesNotMatch(s, /putters/);
  assert.doesNotMatch(s, /tasks/);
  void q.put(null);
  assert.equal(getter.done(), true);
  void q.put(null);
  const putter = q.put(null);
  s = String(q);
  assert.doesNotMatch(s, /getters/);
  assert.match(s, /putters\[1\]/);
  assert.match(s, /tasks=2/);
  putter.cancel();
});

test("items come out in the order they went in [test_order]", () => {
  const q = new Queue<number>();
  for (const i of [1, 3, 2]) q.putNowait(i);
  assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [1, 3, 2]);
});

test("maxsize is validated and bounds the queue [test_maxsize]", async () => {
  assert.throws(() => new Queue(null as unknown as number), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.throws(() => new Queue("2" as unknown as number), TypeError);
  assert.throws(() => new Queue(-1), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
  assert.throws(() => new Queue(Number.NaN), RangeError);
  const q = new Queue<number>(2);
  assert.equal(q.empty(), true);
  assert.equal(q.full(), false);
  assert.equal(q.maxsize, 2);
  assert.equal(q.put(0).done(), true);
  assert.equal(q.put(1).done(), true);
  assert.equal(q.empty(), false);
  assert.equal(q.full(), true);
  const put2 = q.put(2);
  assert.equal(put2.done(), false);
  assert.equal(await q.get(), 0);
  assert.equal(put2.done(), true);
  assert.equal(q.empty(), false);
  assert.equal(q.full(), true);
  assert.equal(q.qsize(), 2);
});

test("a fractional maxsize is a real limit, rounded up [test_float_maxsize]", async () => {
  const q = new Queue<number>(1.3);
  assert.equal(q.empty(), true);
  assert.equal(q.full(), false);
  q.putNowait(0);
  q.putNowait(1);
  assert.equal(q.full(), true);
  assert.throws(() => q.putNowait(2), QueueFull);
  assert.equal(q.getNowait(), 0);
  assert.equal(q.full(), false);
  await q.put(2);
  const put = q.put(3);
  assert.equal(put.done(), false);
  assert.equal(await q.get(), 1);
  await put;
  assert.equal(q.full(), true);
});

// ---------------------------------------------------------------------------- get

test("get() resolves at once with an item already queued [test_blocking_get]", async () => {
  const q = new Queue<number>();
  q.putNowait(0);
  const get = q.get();
  assert.equal(get.done(), true);
  assert.equal(await get, 0);
});

test("getNowait() returns a queued item [test_nonblocking_get]", () => {
  const q = new Queue<number>();
  q.putNowait(0);
  assert.equal(q.getNowait(), 0);
});

test("getNowait() on an empty queue throws QueueEmpty [test_nonblocking_get_exception]", () => {
  const q = new Queue<number>();
  assert.throws(
    () => q.getNowait(),
    (error: unknown) => {
      assert.ok(error instanceof QueueEmpty);
      assert.equal(error.name, "QueueEmpty");
      assert.equal(error.code, "ERR_QUEUE_EMPTY");
      return true;
    },
  );
});

test("a get makes room for a waiting putter [test_get_with_putters]", async () => {
  const q = new Queue<number>(1);
  q.putNowait(0);
  const put = q.put(1);
  assert.equal(await q.get(), 0);
  assert.equal(await put, undefined);
  assert.equal(q.getNowait(), 1);
});

test("get() waits for items put later [test_blocking_get_wait]", async (t) => {
  const q = new Queue<number>();
  void q.put(0);
  later(t, 5, () => q.putNowait(1));
  later(t, 10, () => q.putNowait(2));
  assert.equal(await q.get(1_000), 0);
  assert.equal(await q.get(1_000), 1);
  assert.equal(await q.get(1_000), 2);
});

test("get() fails with TimeoutError at its timeout; later getters still get items [test_get_timeout]", async () => {
  const q = new Queue<number>();
  const getTimeout = q.get(10);
  const get = q.get();
  await assert.rejects(getTimeout, TimeoutError);
  assert.equal(q.getters, 1);
  q.putNowait(0);
  assert.equal(await get, 0);
});

test("get(0) on an empty queue fails at once [test_get_zero_timeout]", async () => {
  const q = new Queue<number>();
  const get = q.get(0);
  assert.equal(get.done(), true);
  await assert.rejects(get, TimeoutError);
  await assert.rejects(q.get({ deadline: IOLoop.current().time() }), TimeoutError);
  assert.equal(q.getters, 0);
  q.putNowait(7);
  assert.equal(await q.get(0), 7);
});

test("a put before the timeout wins [test_get_timeout_preempted]", async () => {
  const q = new Queue<number>();
  const get = q.get(10);
  void q.put(0);
  await sleep(20);
  assert.equal(await get, 0);
});

test("timed-out putters leave the line at once [test_get_clears_timed_out_putters]", async () => {
  const q = new Queue<number>(1);
  const putters: Future<void>[] = [];
  for (let i = 0; i < 10; i++) putters.push(q.put(i, 10));
  const put = q.put(10);
  assert.equal(q.putters, 10);
  const outcomes = await Promise.allSettled(putters.slice(1));
  assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason instanceof TimeoutError));
  assert.equal(q.putters, 1);
  assert.equal(put.done(), false);
  const put11 = q.put(11);
  assert.equal(q.putters, 2);
  assert.equal(await q.get(), 0);
  assert.equal(q.putters, 1);
  assert.equal(put.done(), true);
  assert.equal(await q.get(), 10);
  assert.equal(await q.get(), 11);
  await put11;
});

test("timed-out getters leave the line at once [test_get_clears_timed_out_getters]", async () => {
  const q = new Queue<number>();
  const getters: Future<number>[] = [];
  for (let i = 0; i < 10; i++) getters.push(q.get(10));
  const get = q.get();
  assert.equal(q.getters, 11);
  const outcomes = await Promise.allSettled(getters);
  assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason instanceof TimeoutError));
  assert.equal(q.getters, 1);
  assert.equal(get.done(), false);
  const get2 = q.get();
  assert.equal(q.getters, 2);
  q.putNowait(1);
  q.putNowait(2);
  assert.equal(await get, 1);
  assert.equal(await get2, 2);
});

test("for await iterates over the queue's items [test_async_for]", async () => {
  const q = new Queue<number>();
  for (let i = 0; i < 5; i++) void q.put(i);
  const results: number[] = [];
  for await (const i of q) {
    results.push(i);
    if (i === 4) break;
  }
  assert.deepEqual(results, [0, 1, 2, 3, 4]);
  assert.equal(q.getters, 0);
  q.putNowait(5);
  assert.equal(q.qsize(), 1);
});

// ---------------------------------------------------------------------------- put

test("put() on a queue with room completes at once [test_blocking_put]", () => {
  const q = new Queue<number>();
  const put = q.put(0);
  assert.equal(put.done(), true);
  assert.equal(q.getNowait(), 0);
});

test("putNowait() on a full queue throws QueueFull [test_nonblocking_put_exception]", () => {
  const q = new Queue<number>(1);
  void q.put(0);
  assert.throws(() => q.putNowait(1), { name: "QueueFull", code: "ERR_QUEUE_FULL" });
  assert.equal(q.qsize(), 1);
});

test("put() hands items to waiting getters in order [test_put_with_getters]", async () => {
  const q = new Queue<number>();
  const get0 = q.get();
  const get1 = q.get();
  await q.put(0);
  assert.equal(await get0, 0);
  await q.put(1);
  assert.equal(await get1, 1);
});

test("putNowait() wakes waiting getters on a later turn [test_nonblocking_put_with_getters]", async () => {
  const q = new Queue<number>();
  const get0 = q.get();
  const get1 = q.get();
  const woken: number[] = [];
  void get0.then((v) => woken.push(v));
  q.putNowait(0);
  assert.deepEqual(woken, []); // not resumed inside putNowait
  await moment;
  assert.equal(await get0, 0);
  q.putNowait(1);
  await moment;
  assert.equal(await get1, 1);
  assert.deepEqual(woken, [0]);
});

test("put() waits for room made by later gets [test_blocking_put_wait]", async (t) => {
  const q = new Queue<number>(1);
  q.putNowait(0);
  later(t, 5, () => void q.get());
  later(t, 10, () => void q.get());
  const futures = [q.put(0), q.put(1)];
  assert.ok(futures.every((f) => !f.done()));
  await Promise.all(futures);
});

test("put() fails with TimeoutError at its timeout and the item is not added [test_put_timeout]", async () => {
  const q = new Queue<number>(1);
  q.putNowait(0);
  const putTimeout = q.put(1, 10);
  const put = q.put(2);
  await assert.rejects(putTimeout, TimeoutError);
  assert.equal(q.getNowait(), 0);
  assert.equal(await q.get(), 2); // 1 never entered the queue
  await put;
  assert.equal(q.empty(), true);
});

test("a get before the put's timeout wins [test_put_timeout_preempted]", async () => {
  const q = new Queue<number>(1);
  q.putNowait(0);
  const put = q.put(1, 10);
  void q.get();
  await sleep(20);
  await put;
  assert.equal(q.getNowait(), 1);
});

test("put() sees only live putters [test_put_clears_timed_out_putters]", async () => {
  const q = new Queue<number>(1);
  const putters: Future<void>[] = [];
  for (let i = 0; i < 10; i++) putters.push(q.put(i, 10));
  const put = q.put(10);
  assert.equal(q.putters, 10);
  await Promise.allSettled(putters);
  assert.equal(q.putters, 1);
  assert.equal(put.done(), false);
  const put11 = q.put(11);
  assert.equal(q.putters, 2);
  for (const putter of putters.slice(1)) await assert.rejects(putter, TimeoutError);
  put11.cancel();
  put.cancel();
});

test("put() goes to the live getter, past timed-out ones [test_put_clears_timed_out_getters]", async () => {
  const q = new Queue<number>();
  const getters: Future<number>[] = [];
  for (let i = 0; i < 10; i++) getters.push(q.get(10));
  const get = q.get();
  const get2 = q.get();
  assert.equal(q.getters, 12);
  await Promise.allSettled(getters);
  assert.equal(q.getters, 2);
  assert.equal(get.done(), false);
  void q.put(0);
  assert.equal(q.getters, 1);
  assert.equal(await get, 0);
  for (const getter of getters) await assert.rejects(getter, TimeoutError);
  get2.cancel();
});

test("put(item, 0) on a full queue fails at once and adds nothing", async () => {
  const q = new Queue<number>(1);
  q.putNowait(0);
  const put = q.put(1, 0);
  assert.equal(put.done(), true);
  await assert.rejects(put, TimeoutError);
  assert.equal(q.putters, 0);
  assert.equal(q.qsize(), 1);
  assert.equal(q.unfinishedTasks, 1);
});

// ---------------------------------------------------------------------------- cancellation

test("a cancelled get is removed and does not swallow the next item", async () => {
  const q = new Queue<string>();
  const first = q.get();
  const second = q.get();
  assert.equal(first.cancel(), true);
  assert.equal(q.getters, 1);
  q.putNowait("a");
  assert.equal(await second, "a");
  await assert.rejects(first, CancelledError);
  // With no getter left, the next item stays in the queue.
  const third = q.get();
  third.cancel();
  q.putNowait("b");
  assert.equal(q.qsize(), 1);
  assert.equal(q.getNowait(), "b");
});

test("a cancelled put is removed and its item never enters the queue", async () => {
  const q = new Queue<string>(1);
  q.putNowait("a");
  const cancelled = q.put("b");
  const kept = q.put("c");
  cancelled.cancel();
  assert.equal(q.putters, 1);
  assert.equal(q.getNowait(), "a");
  assert.equal(kept.done(), true);
  assert.equal(q.getNowait(), "c");
  assert.equal(q.empty(), true);
  assert.equal(q.unfinishedTasks, 2);
});

test("getters and putters are served first come, first served", async () => {
  const q = new Queue<number>(1);
  const got: string[] = [];
  const getters = ["g0", "g1", "g2"].map((name) => q.get().then((v) => got.push(`${name}:${v}`)));
  q.putNowait(0);
  q.putNowait(1);
  q.putNowait(2);
  await Promise.all(getters);
  assert.deepEqual(got, ["g0:0", "g1:1", "g2:2"]);
  q.putNowait(9);
  const putters = [10, 11, 12].map((i) => q.put(i));
  const order = [q.getNowait(), q.getNowait(), q.getNowait(), q.getNowait()];
  assert.deepEqual(order, [9, 10, 11, 12]);
  await Promise.all(putters);
});

test("30k timed-out gets and puts leave no waiter behind and do not grow the heap", async (t) => {
  const empty = new Queue<number>();
  const full = new Queue<number>(1);
  full.putNowait(0);
  const rounds = 6;
  const perRound = 5_000;
  let baseline = 0;
  for (let round = 0; round < rounds; round++) {
    // Round 0 warms up (code, timer lists); growth is measured over the rounds after it.
    if (round === 1) baseline = await heapUsedAfterGc();
    const counter = completionCounter();
    for (let i = 0; i < perRound / 2; i++) counter.track(full.put(i, 50));
    for (let i = 0; i < perRound / 2; i++) counter.track(empty.get(50));
    // (A wait whose 50 ms ran out while this loop was descheduled fails at once instead.)
    assert.ok(empty.getters + full.putters > 0);
    await counter.allDone();
    assert.equal(empty.getters, 0);
    assert.equal(full.putters, 0);
  }
  const growth = (await heapUsedAfterGc()) - baseline;
  const perWait = growth / ((rounds - 1) * perRound);
  assert.ok(
    perWait < 16,
    `heap grew ${growth} bytes over 25k waits (${perWait.toFixed(1)} B/wait)`,
  );
  t.diagnostic(`heap growth over 25k waits: ${growth} bytes`);
  assert.equal(full.qsize(), 1);
  assert.equal(full.unfinishedTasks, 1);
});

// ---------------------------------------------------------------------------- join

for (const [name, make] of [
  ["Queue", () => new Queue<number>()],
  ["PriorityQueue", () => new PriorityQueue<number>()],
  ["LifoQueue", () => new LifoQueue<number>()],
] as const) {
  test(`${name}: taskDone() more times than items put throws [test_task_done_underflow]`, () => {
    const q = make();
    assert.throws(() => q.taskDone(), {
      name: "RangeError",
      code: "ERR_TASK_DONE_TOO_MANY_TIMES",
      message: "taskDone() called too many times",
    });
  });

  test(`${name}: join() waits until every item is marked done [test_task_done]`, async () => {
    const q = make();
    for (let i = 0; i < 100; i++) q.putNowait(i);
    let accumulator = 0;
    let stop = false;
    const worker = coroutine(function* () {
      while (!stop) {
        const item: number = yield q.get();
        accumulator += item;
        q.taskDone();
        yield sleep(Math.random() * 2);
      }
    });
    const workers = [worker(), worker()];
    await q.join();
    assert.equal(accumulator, 4950);
    stop = true;
    q.putNowait(0);
    q.putNowait(0);
    await Promise.all(workers);
  });

  test(`${name}: it is taskDone(), not get(), that releases join() [test_task_done_delay]`, async () => {
    const q = make();
    q.putNowait(0);
    const join = q.join();
    assert.equal(join.done(), false);
    await q.get();
    assert.equal(join.done(), false);
    await moment;
    assert.equal(join.done(), false);
    q.taskDone();
    assert.equal(join.done(), true);
  });

  test(`${name}: join() on an empty queue returns at once [test_join_empty_queue]`, async () => {
    const q = make();
    await q.join();
    await q.join();
    assert.equal(q.join(0).done(), true);
  });

  test(`${name}: join() fails with TimeoutError at its timeout [test_join_timeout]`, async () => {
    const q = make();
    void q.put(0);
    await assert.rejects(q.join(10), TimeoutError);
    await assert.rejects(q.join(0), TimeoutError);
  });
}

// ---------------------------------------------------------------------------- orders

test("PriorityQueue hands out the lowest item first [test_order]", async () => {
  const q = new PriorityQueue<[number, string]>(2);
  q.putNowait([1, "a"]);
  q.putNowait([0, "b"]);
  assert.equal(q.full(), true);
  void q.put([3, "c"]);
  void q.put([2, "d"]);
  assert.deepEqual(q.getNowait(), [0, "b"]);
  assert.deepEqual(await q.get(), [1, "a"]);
  assert.deepEqual(q.getNowait(), [2, "d"]);
  assert.deepEqual(await q.get(), [3, "c"]);
  assert.equal(q.empty(), true);
});

test("PriorityQueue keeps heap order over many random items and takes a comparator", () => {
  const q = new PriorityQueue<number>();
  const items: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const n = Math.floor(Math.random() * 500);
    items.push(n);
    q.putNowait(n);
  }
  const out: number[] = [];
  while (!q.empty()) out.push(q.getNowait());
  assert.deepEqual(
    out,
    items.sort((a, b) => a - b),
  );
  const desc = new PriorityQueue<{ p: number }>(0, { compare: (a, b) => b.p - a.p });
  for (const p of [3, 9, 1]) desc.putNowait({ p });
  assert.deepEqual([desc.getNowait().p, desc.getNowait().p, desc.getNowait().p], [9, 3, 1]);
});

test("PriorityQueue refuses items it cannot order, leaving the queue unchanged", () => {
  const q = new PriorityQueue<unknown>();
  q.putNowait([1, { a: 1 }]);
  assert.throws(() => q.putNowait([1, { b: 2 }]), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.equal(q.qsize(), 1);
  assert.equal(q.unfinishedTasks, 1);
  assert.throws(() => q.putNowait("x"), TypeError);
  q.putNowait([0, { c: 3 }]);
  assert.deepEqual(q.getNowait(), [0, { c: 3 }]);
  assert.throws(() => new PriorityQueue(0, { compare: 3 as unknown as () => number }), TypeError);
  assert.equal(defaultCompare("a", "b"), -1);
  assert.equal(defaultCompare([1, 2], [1]), 1);
  assert.equal(defaultCompare(2n, 1n), 1);
});

test("LifoQueue hands out the newest item first [test_order]", async () => {
  const q = new LifoQueue<number>(2);
  q.putNowait(1);
  q.putNowait(0);
  assert.equal(q.full(), true);
  void q.put(3);
  void q.put(2);
  assert.equal(q.getNowait(), 3);
  assert.equal(await q.get(), 2);
  assert.equal(q.getNowait(), 0);
  assert.equal(await q.get(), 1);
  assert.equal(q.empty(), true);
});

test("a FIFO queue stays in order as its ring buffer wraps and grows", () => {
  const q = new Queue<number>();
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < round; i++) q.putNowait(next++);
    for (let i = 0; i < round / 2; i++) assert.equal(q.getNowait(), expected++);
  }
  while (!q.empty()) assert.equal(q.getNowait(), expected++);
  assert.equal(expected, next);
});

// ---------------------------------------------------------------------------- together

test("a producer and a consumer pass every item through a bounded queue [test_producer_consumer]", async () => {
  const q = new Queue<number>(3);
  const history: number[] = [];
  let running = true;
  const consumer = coroutine(function* () {
    while (running) {
      history.push(yield q.get());
      q.taskDone();
    }
  });
  const producer = coroutine(function* () {
    for (let item = 0; item < 10; item++) yield q.put(item);
  });
  const consuming = consumer();
  await producer();
  await q.join();
  assert.deepEqual(history, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  running = false;
  q.putNowait(-1);
  await consuming;
});

test("put and get timeouts accept a { deadline }", async () => {
  const q = new Queue<number>();
  const loop = IOLoop.current();
  await assert.rejects(q.get({ deadline: loop.time() + 10 }), TimeoutError);
  q.putNowait(1);
  assert.equal(await q.get({ deadline: loop.time() + 10 }), 1);
  assert.throws(() => q.get(Number.NaN), RangeError);
  assert.equal(q.getters, 0);
});
