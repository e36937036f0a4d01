import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, type Future } from "../src/concurrent.js";
import { BadYieldError, coroutine, moment, sleep } from "../src/gen.js";
import { IOLoop } from "../src/ioloop.js";
import {
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  ReleaseError,
  type Releaser,
  Semaphore,
} from "../src/locks.js";
import { TimeoutError } from "../src/util.js";
import { completionCounter, heapUsedAfterGc } from "./helpers/gc.js";

/** Lets queued callbacks and microtasks run (Tornado's loop_briefly). */
async function loopBriefly(): Promise<void> {
  await moment;
}

/** Records how each Condition.wait() future ends, in completion order. */
function recorder() {
  const history: (string | number)[] = [];
  return {
    history,
    record(future: Future<boolean>, key: string | number) {
      future.addDoneCallback((f) => history.push(f.result() ? key : "timeout"));
    },
  };
}

// ---------------------------------------------------------------------------- Condition

test("Condition's string form shows its waiters [test_repr]", () => {
  const c = new Condition();
  assert.match(String(c), /Condition/);
  assert.doesNotMatch(String(c), /waiters/);
  const w = c.wait();
  assert.match(String(c), /waiters\[1\]/);
  w.cancel();
  assert.doesNotMatch(String(c), /waiters/);
});

test("Condition.wait resolves true when notified later [test_notify]", async (t) => {
  const c = new Condition();
  const loop = IOLoop.current();
  const handle = loop.callLater(10, () => c.notify());
  t.after(() => loop.removeTimeout(handle));
  assert.equal(await c.wait(), true);
});

test("notify(1) wakes one waiter per call, on a later turn [test_notify_1]", async () => {
  const c = new Condition();
  const { history, record } = recorder();
  record(c.wait(), "wait1");
  record(c.wait(), "wait2");
  c.notify(1);
  await loopBriefly();
  history.push("notify1");
  c.notify(1);
  await loopBriefly();
  history.push("notify2");
  assert.deepEqual(history, ["wait1", "notify1", "wait2", "notify2"]);
});

test("notify(n) wakes n waiters in the order they waited [test_notify_n]", async () => {
  const c = new Condition();
  const { history, record } = recorder();
  for (let i = 0; i < 6; i++) record(c.wait(), i);
  c.notify(3);
  await loopBriefly();
  assert.deepEqual(history, [0, 1, 2]);
  c.notify(1);
  await loopBriefly();
  assert.deepEqual(history, [0, 1, 2, 3]);
  c.notify(2);
  await loopBriefly();
  assert.deepEqual(history, [0, 1, 2, 3, 4, 5]);
  assert.equal(c.waiters, 0);
});

test("notifyAll wakes every waiter in order [test_notify_all]", async () => {
  const c = new Condition();
  const { history, record } = recorder();
  for (let i = 0; i < 4; i++) record(c.wait(), i);
  c.notifyAll();
  await loopBriefly();
  history.push("notify_all");
  assert.deepEqual(history, [0, 1, 2, 3, "notify_all"]);
});

test("Condition.wait resolves false at its timeout; a late notify changes nothing [test_wait_timeout]", async () => {
  const c = new Condition();
  const wait = c.wait(10);
  assert.equal(await wait, false);
  c.notify();
  assert.equal(await wait, false);
  assert.equal(c.waiters, 0);
});

test("a notify before the timeout wins [test_wait_timeout_preempted]", async () => {
  const c = new Condition();
  const wait = c.wait(5_000);
  setImmediate(() => c.notify());
  assert.equal(await wait, true);
});

test("notify(n) does not count timed-out waiters [test_notify_n_with_timeout]", async () => {
  const c = new Condition();
  const { history, record } = recorder();
  record(c.wait(), 0);
  const timed = c.wait(10);
  record(timed, 1);
  record(c.wait(), 2);
  record(c.wait(), 3);
  await timed;
  await loopBriefly();
  assert.deepEqual(history, ["timeout"]);
  c.notify(2);
  await loopBriefly();
  assert.deepEqual(history, ["timeout", 0, 2]);
  c.notify();
  await loopBriefly();
  assert.deepEqual(history, ["timeout", 0, 2, 3]);
});

test("notifyAll skips timed-out waiters [test_notify_all_with_timeout]", async () => {
  const c = new Condition();
  const { history, record } = recorder();
  record(c.wait(), 0);
  const timed = c.wait(10);
  record(timed, 1);
  record(c.wait(), 2);
  await timed;
  await loopBriefly();
  assert.deepEqual(history, ["timeout"]);
  c.notifyAll();
  await loopBriefly();
  assert.deepEqual(history, ["timeout", 0, 2]);
});

test("a waiter that calls notify() when woken loses no notification [test_nested_notify]", async () => {
  const c = new Condition();
  const futures = [c.wait(), c.wait(), c.wait()];
  futures[1]!.addDoneCallback(() => c.notify());
  c.notify(2);
  await loopBriefly();
  assert.ok(futures.every((f) => f.done()));
});

test("timed-out waiters leave the Condition at once [test_garbage_collection]", async () => {
  const c = new Condition();
  const timed: Future<boolean>[] = [];
  for (let i = 0; i < 101; i++) timed.push(c.wait(50));
  const future = c.wait();
  // A stalled machine can pass a deadline inside this loop; such a wait ends at once.
  const endedAtOnce = timed.filter((f) => f.done()).length;
  assert.equal(c.waiters, 102 - endedAtOnce);
  await Promise.all(timed);
  assert.equal(c.waiters, 1);
  assert.equal(future.done(), false);
  c.notify();
  assert.equal(future.done(), true);
  assert.equal(await future, true);
});

test("Condition.wait(0) resolves false at once; a past deadline too", async () => {
  const c = new Condition();
  const now = c.wait(0);
  assert.equal(now.done(), true);
  assert.equal(now.result(), false);
  const past = c.wait({ deadline: IOLoop.current().time() - 1 });
  assert.equal(past.result(), false);
  assert.equal(c.waiters, 0);
});

test("a cancelled Condition waiter is not notified and does not use up a notify", async () => {
  const c = new Condition();
  const first = c.wait();
  const second = c.wait();
  first.cancel();
  assert.equal(c.waiters, 1);
  c.notify();
  assert.equal(await second, true);
  await assert.rejects(first, CancelledError);
});

test("notify rejects a negative or fractional count", () => {
  const c = new Condition();
  assert.throws(() => c.notify(-1), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
  assert.throws(() => c.notify(1.5), RangeError);
  assert.throws(() => c.notify("2" as unknown as number), TypeError);
  c.notify(0);
});

test("malformed timeouts are refused with typed errors", () => {
  const c = new Condition();
  assert.throws(() => c.wait(Number.NaN), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
  assert.throws(() => c.wait("10" as unknown as number), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.throws(() => c.wait({ deadline: "soon" } as unknown as { deadline: number }), TypeError);
  assert.equal(c.waiters, 0);
  // Infinity means no timeout.
  const forever = c.wait(Number.POSITIVE_INFINITY);
  assert.equal(forever.done(), false);
  forever.cancel();
});

test("a { deadline } timeout is absolute on IOLoop.time()'s clock", async () => {
  const c = new Condition();
  const loop = IOLoop.current();
  const start = loop.time();
  assert.equal(await c.wait({ deadline: start + 20 }), false);
  assert.ok(loop.time() - start >= 15, `returned after ${loop.time() - start} ms`);
});

// ---------------------------------------------------------------------------- Event

test("Event's string form says set or clear [test_repr]", () => {
  const e = new Event();
  assert.match(String(e), /clear/);
  assert.doesNotMatch(String(e), /set/);
  e.set();
  assert.doesNotMatch(String(e), /clear/);
  assert.match(String(e), /set/);
});

test("Event.wait blocks until set, then returns at once until cleared [test_event]", () => {
  const e = new Event();
  const f0 = e.wait();
  e.set();
  const f1 = e.wait();
  e.clear();
  const f2 = e.wait();
  assert.equal(f0.done(), true);
  assert.equal(f1.done(), true);
  assert.equal(f2.done(), false);
  f2.cancel();
  assert.equal(e.waiters, 0);
});

test("Event.wait fails with TimeoutError at its timeout; later waits still work [test_event_timeout]", async (t) => {
  const e = new Event();
  await assert.rejects(e.wait(10), (error: unknown) => {
    assert.ok(error instanceof TimeoutError);
    assert.equal((error as TimeoutError).message, "Timeout");
    return true;
  });
  assert.equal(e.waiters, 0);
  const loop = IOLoop.current();
  const handle = loop.callLater(10, () => e.set());
  t.after(() => loop.removeTimeout(handle));
  await e.wait(5_000);
});

test("setting an Event twice leaves it set [test_event_set_multiple]", () => {
  const e = new Event();
  e.set();
  e.set();
  assert.equal(e.isSet(), true);
});

test("waiters from before a clear() are woken by the next set() [test_event_wait_clear]", () => {
  const e = new Event();
  const f0 = e.wait();
  e.clear();
  const f1 = e.wait();
  e.set();
  assert.equal(f0.done(), true);
  assert.equal(f1.done(), true);
});

test("Event.wait(0) fails at once unless set", async () => {
  const e = new Event();
  const f = e.wait(0);
  assert.equal(f.done(), true);
  await assert.rejects(f, TimeoutError);
  e.set();
  assert.equal(e.wait(0).done(), true);
  await e.wait(0);
});

// ---------------------------------------------------------------------------- Semaphore

test("Semaphore refuses a negative or non-integer initial value [test_negative_value]", () => {
  assert.throws(() => new Semaphore(-1), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
  assert.throws(() => new Semaphore(0.5), RangeError);
  assert.throws(() => new Semaphore("1" as unknown as number), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.equal(new Semaphore(0).value, 0);
  assert.equal(new Semaphore().value, 1);
});

test("Semaphore's string form shows value and waiters [test_repr]", () => {
  const sem = new Semaphore();
  assert.match(String(sem), /Semaphore/);
  assert.match(String(sem), /unlocked,value:1/);
  void sem.acquire();
  assert.match(String(sem), /locked/);
  assert.doesNotMatch(String(sem), /waiters/);
  const w = sem.acquire();
  assert.match(String(sem), /waiters/);
  w.cancel();
});

test("acquire completes at once while the counter is positive, else on release [test_acquire]", () => {
  const sem = new Semaphore();
  const f0 = sem.acquire();
  assert.equal(f0.done(), true);
  const f1 = sem.acquire();
  assert.equal(f1.done(), false);
  const f2 = sem.acquire();
  sem.release();
  assert.equal(f1.done(), true);
  assert.equal(f2.done(), false);
  sem.release();
  assert.equal(f2.done(), true);
  sem.release();
  assert.equal(sem.acquire().done(), true);
  assert.equal(sem.waiters, 0);
});

test("acquire fails with TimeoutError at its timeout and leaves the counter alone [test_acquire_timeout]", async () => {
  const sem = new Semaphore(2);
  await sem.acquire();
  await sem.acquire();
  const acquire = sem.acquire(10);
  await assert.rejects(acquire, TimeoutError);
  assert.equal(sem.waiters, 0);
  sem.release(); // too late for the timed-out waiter
  void sem.acquire();
  const f = sem.acquire();
  assert.equal(f.done(), false);
  sem.release();
  assert.equal(f.done(), true);
});

test("a release before the timeout wins [test_acquire_timeout_preempted]", async () => {
  const sem = new Semaphore(1);
  await sem.acquire();
  const acquire = sem.acquire(5_000);
  setImmediate(() => sem.release());
  const releaser = await acquire;
  releaser.release();
  assert.equal(sem.value, 1);
});

test("an unbounded Semaphore may be released more than acquired [test_release_unacquired]", () => {
  const sem = new Semaphore();
  sem.release();
  sem.release();
  assert.equal(sem.acquire().done(), true);
  assert.equal(sem.acquire().done(), true);
  assert.equal(sem.acquire().done(), true);
  const blocked = sem.acquire();
  assert.equal(blocked.done(), false);
  blocked.cancel();
});

test("timed-out acquirers leave the Semaphore at once [test_garbage_collection]", async () => {
  const sem = new Semaphore(0);
  const timed: Future<Releaser>[] = [];
  for (let i = 0; i < 101; i++) timed.push(sem.acquire(50));
  const future = sem.acquire();
  // A stalled machine can pass a deadline inside this loop; such an acquire fails at once.
  const failedAtOnce = timed.filter((f) => f.done()).length;
  assert.equal(sem.waiters, 102 - failedAtOnce);
  const outcomes = await Promise.allSettled(timed);
  assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason instanceof TimeoutError));
  assert.equal(sem.waiters, 1);
  assert.equal(future.done(), false);
  sem.release();
  assert.equal(future.done(), true);
});

test("Semaphore.acquire(0) fails at once when the counter is 0", async () => {
  const sem = new Semaphore(1);
  assert.equal(sem.acquire(0).done(), true);
  const f = sem.acquire(0);
  assert.equal(f.done(), true);
  await assert.rejects(f, TimeoutError);
  assert.equal(sem.waiters, 0);
});

test("acquirers are served first come, first served, and a newcomer cannot jump the line", async () => {
  const sem = new Semaphore(0);
  const order: number[] = [];
  const waiters = [0, 1, 2, 3].map((i) => sem.acquire().then(() => order.push(i)));
  sem.release();
  // The release went to waiter 0; an acquire made now must wait behind 1, 2 and 3.
  const late = sem.acquire();
  assert.equal(late.done(), false);
  assert.equal(sem.value, 0);
  sem.release();
  sem.release();
  sem.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.equal(late.done(), false);
  sem.release();
  assert.equal(late.done(), true);
});

test("cancelling a waiting acquire removes it; the next waiter gets the release", async () => {
  const sem = new Semaphore(0);
  const first = sem.acquire();
  const second = sem.acquire();
  assert.equal(first.cancel(), true);
  assert.equal(sem.waiters, 1);
  sem.release();
  assert.equal(second.done(), true);
  assert.equal(sem.value, 0);
  await assert.rejects(first, CancelledError);
  (await second).release();
  assert.equal(sem.value, 1);
});

// ------------------------------------------------------- Semaphore as a context manager

test("await using releases the semaphore at the end of the block [test_context_manager]", async () => {
  const sem = new Semaphore();
  {
    await using releaser = await sem.acquire();
    assert.equal(typeof releaser.release, "function");
    assert.equal(sem.value, 0);
  }
  assert.equal(sem.value, 1);
  assert.equal(sem.acquire().done(), true);
});

test("run() holds the semaphore while fn runs [test_context_manager_async_await]", async () => {
  const sem = new Semaphore();
  const result = await sem.run(async () => {
    assert.equal(sem.value, 0);
    await moment;
    return 42;
  });
  assert.equal(result, 42);
  assert.equal(sem.value, 1);
});

test("the semaphore is released when the block throws [test_context_manager_exception]", async () => {
  const sem = new Semaphore();
  await assert.rejects(async () => {
    await using _ = await sem.acquire();
    throw new RangeError("boom");
  }, RangeError);
  assert.equal(sem.value, 1);
  await assert.rejects(
    sem.run(() => {
      throw new SyntaxError("in run");
    }),
    SyntaxError,
  );
  assert.equal(sem.acquire().done(), true);
});

test("a synchronous using block releases too", () => {
  const sem = new Semaphore();
  const f = sem.acquire();
  {
    using _ = f.result();
    assert.equal(sem.value, 0);
  }
  assert.equal(sem.value, 1);
});

test("await using with a timeout that is met acquires and releases [test_context_manager_timeout]", async () => {
  const sem = new Semaphore();
  {
    await using _ = await sem.acquire(10);
  }
  assert.equal(sem.acquire().done(), true);
});

test("a timed-out acquire never enters the block and leaves the counter at 0 [test_context_manager_timeout_error]", async () => {
  const sem = new Semaphore(0);
  let entered = false;
  await assert.rejects(async () => {
    await using _ = await sem.acquire(10);
    entered = true;
  }, TimeoutError);
  assert.equal(entered, false);
  await assert.rejects(
    sem.run(() => {
      entered = true;
    }, 10),
    TimeoutError,
  );
  assert.equal(entered, false);
  assert.equal(sem.value, 0);
  const f = sem.acquire();
  assert.equal(f.done(), false);
  f.cancel();
});

test("contending coroutines take turns holding the semaphore [test_context_manager_contended]", async () => {
  const sem = new Semaphore();
  const history: string[] = [];
  const f = coroutine(function* (index: number) {
    const releaser: Releaser = yield sem.acquire();
    try {
      history.push(`acquired ${index}`);
      yield sleep(5);
      history.push(`release ${index}`);
    } finally {
      releaser.release();
    }
  });
  await Promise.all([f(0), f(1)]);
  assert.deepEqual(history, ["acquired 0", "release 0", "acquired 1", "release 1"]);
});

test("yielding the Semaphore itself instead of acquire() is a BadYieldError [test_yield_sem]", async () => {
  const f = coroutine(function* () {
    yield new Semaphore();
  });
  await assert.rejects(f(), BadYieldError);
});

test("a Releaser releases only once", async () => {
  const sem = new Semaphore(1);
  const releaser = await sem.acquire();
  releaser.release();
  releaser.release();
  await releaser[Symbol.asyncDispose]();
  releaser[Symbol.dispose]();
  assert.equal(sem.value, 1);
});

// ---------------------------------------------------------------------------- BoundedSemaphore

test("BoundedSemaphore refuses to go above its initial value [test_release_unacquired]", () => {
  const sem = new BoundedSemaphore();
  assert.throws(
    () => sem.release(),
    (error: unknown) => {
      assert.ok(error instanceof ReleaseError);
      assert.equal(error.message, "Semaphore released too many times");
      assert.equal(error.code, "ERR_SEMAPHORE_OVER_RELEASED");
      return true;
    },
  );
  void sem.acquire();
  const future = sem.acquire();
  assert.equal(future.done(), false);
  sem.release();
  assert.equal(future.done(), true);
  sem.release();
  assert.throws(() => sem.release(), ReleaseError);
  assert.match(String(sem), /BoundedSemaphore/);
});

// ---------------------------------------------------------------------------- Lock

test("Lock's string form says locked or unlocked [test_repr]", () => {
  const lock = new Lock();
  assert.match(String(lock), /unlocked/);
  void lock.acquire();
  assert.match(String(lock), /locked/);
  assert.equal(lock.locked, true);
});

test("acquire locks at once; a second acquire waits for release [test_acquire_release]", () => {
  const lock = new Lock();
  assert.equal(lock.acquire().done(), true);
  const future = lock.acquire();
  assert.equal(future.done(), false);
  lock.release();
  assert.equal(future.done(), true);
  assert.equal(lock.locked, true);
});

test("waiting coroutines get the lock in FIFO order [test_acquire_fifo]", async () => {
  const lock = new Lock();
  assert.equal(lock.acquire().done(), true);
  const history: number[] = [];
  const f = coroutine(function* (index: number) {
    const releaser: Releaser = yield lock.acquire();
    try {
      history.push(index);
    } finally {
      releaser.release();
    }
  });
  const futures = [0, 1, 2, 3, 4].map((i) => f(i));
  assert.ok(futures.every((future) => !future.done()));
  lock.release();
  await Promise.all(futures);
  assert.deepEqual(history, [0, 1, 2, 3, 4]);
  assert.equal(lock.locked, false);
});

test("await using and run() also get the lock in FIFO order [test_acquire_fifo_async_with]", async () => {
  const lock = new Lock();
  await lock.acquire();
  const history: number[] = [];
  async function f(index: number) {
    await using _ = await lock.acquire();
    history.push(index);
  }
  const futures = [0, 1, 2].map((i) => f(i));
  futures.push(lock.run(() => void history.push(3)));
  futures.push(f(4));
  lock.release();
  await Promise.all(futures);
  assert.deepEqual(history, [0, 1, 2, 3, 4]);
  assert.equal(lock.locked, false);
});

test("acquire with a timeout fails with TimeoutError and the lock stays locked [test_acquire_timeout]", async () => {
  const lock = new Lock();
  void lock.acquire();
  await assert.rejects(lock.acquire(10), TimeoutError);
  assert.equal(lock.waiters, 0);
  assert.equal(lock.locked, true);
  const f = lock.acquire();
  assert.equal(f.done(), false);
  lock.release();
  assert.equal(f.done(), true);
  assert.equal(lock.acquire(0).done(), true);
  await assert.rejects(lock.acquire(0), TimeoutError);
});

test("releasing an unlocked lock throws ReleaseError [test_multi_release]", () => {
  const lock = new Lock();
  assert.throws(() => lock.release(), {
    name: "ReleaseError",
    code: "ERR_LOCK_NOT_LOCKED",
    message: "release unlocked lock",
  });
  void lock.acquire();
  lock.release();
  assert.throws(() => lock.release(), ReleaseError);
});

test("yielding the Lock itself instead of acquire() is a BadYieldError [test_yield_lock]", async () => {
  const f = coroutine(function* () {
    yield new Lock();
  });
  await assert.rejects(f(), BadYieldError);
});

test("cancelling a waiting lock acquire removes it; the lock passes to the next waiter", async () => {
  const lock = new Lock();
  const holder = await lock.acquire();
  const first = lock.acquire();
  const second = lock.acquire(5_000);
  first.cancel();
  assert.equal(lock.waiters, 1);
  holder.release();
  assert.equal(second.done(), true);
  assert.equal(lock.locked, true);
  (await second).release();
  assert.equal(lock.locked, false);
  assert.equal(lock.waiters, 0);
});

test("a released lock is handed to the oldest waiter, not to a newcomer", async () => {
  const lock = new Lock();
  const holder = await lock.acquire();
  const waiter = lock.acquire();
  holder.release();
  const newcomer = lock.acquire();
  assert.equal(waiter.done(), true);
  assert.equal(newcomer.done(), false);
  (await waiter).release();
  assert.equal(newcomer.done(), true);
  (await newcomer).release();
});

// ---------------------------------------------------------------------------- leaks

test("100k timed-out waits leave no waiter behind and do not grow the heap", async (t) => {
  const condition = new Condition();
  const event = new Event();
  const semaphore = new Semaphore(0);
  const lock = new Lock();
  await lock.acquire();
  const rounds = 10;
  const perRound = 10_000; // 7,000 Condition waits and 1,000 on each other primitive: 100k in all
  let baseline = 0;
  for (let round = 0; round < rounds; round++) {
    // Round 0 warms up (code, timer lists); growth is measured over the rounds after it.
    if (round === 1) baseline = await heapUsedAfterGc();
    // Nothing keeps the waiters but the primitives and a completion count.
    const counter = completionCounter();
    for (let i = 0; i < 1_000; i++) {
      counter.track(event.wait(50));
      counter.track(semaphore.acquire(50));
      counter.track(lock.acquire(50));
    }
    for (let i = 0; i < 7_000; i++) counter.track(condition.wait(50));
    // (A wait whose 50 ms ran out while this loop was descheduled fails at once instead.)
    assert.ok(condition.waiters + event.waiters + semaphore.waiters + lock.waiters > 0);
    await counter.allDone();
    assert.equal(condition.waiters, 0);
    assert.equal(event.waiters, 0);
    assert.equal(semaphore.waiters, 0);
    assert.equal(lock.waiters, 0);
  }
  const growth = (await heapUsedAfterGc()) - baseline;
  // A leaked waiter is a Future with a dozen fields (well over 100 bytes); 90k of them would
  // add megabytes. Allow 16 bytes per wait for noise.
  const perWait = growth / ((rounds - 1) * perRound);
  assert.ok(
    perWait < 16,
    `heap grew ${growth} bytes over 90k waits (${perWait.toFixed(1)} B/wait)`,
  );
  t.diagnostic(`heap growth over 90k waits: ${growth} bytes`);
});

test("a loop of short Condition waits keeps the wait list empty", async () => {
  const c = new Condition();
  let timeouts = 0;
  for (let i = 0; i < 200; i++) {
    if (!(await c.wait(i % 2 === 0 ? 0 : 1))) timeouts++;
    assert.equal(c.waiters, 0);
  }
  assert.equal(timeouts, 200);
});
