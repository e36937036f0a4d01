import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { CancelledError, Future } from "../src/concurrent.js";
import { IOLoop, IOLoopError, PeriodicCallback, type TimeoutHandle } from "../src/ioloop.js";
import { appLog } from "../src/log.js";
import { ExpectLog } from "../src/testing.js";
import { TimeoutError } from "../src/util.js";
import { repoRoot } from "./helpers/paths.js";

const IOLOOP_URL = pathToFileURL(`${repoRoot}/dist/src/ioloop.js`).href;

/** Resolves on a later turn of the loop (after pending immediates). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A fresh loop for one test, closed afterwards. */
function newLoop(t: { after(fn: () => void): void }): IOLoop {
  const loop = new IOLoop();
  t.after(() => loop.close());
  return loop;
}

/** Runs an ES module snippet in a child node process; resolves with its stdout and exit code. */
function runNode(code: string): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", code],
      { timeout: 20_000 },
      (error, stdout) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ stdout, code: error ? (error.code as number) : 0 });
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// current, start, stop, close

test("current() returns one loop per thread; current(false) does not create one", () => {
  const loop = IOLoop.current();
  assert.equal(IOLoop.current(), loop);
  assert.equal(IOLoop.current(false), loop);
  assert.equal(loop.isMainThread, true);
});

test("a new IOLoop is current only while it runs [test_non_current]", async (t) => {
  const loop = newLoop(t);
  const before = IOLoop.current();
  assert.notEqual(before, loop);
  for (let i = 0; i < 3; i++) {
    let seen: IOLoop | null = null;
    loop.addCallback(() => {
      seen = IOLoop.current();
      loop.stop();
    });
    await loop.start();
    assert.equal(seen, loop);
    assert.equal(IOLoop.current(), before);
  }
});

test("runSync makes its loop current [test_current]", async (t) => {
  const loop = newLoop(t);
  await loop.runSync(() => {
    assert.equal(IOLoop.current(), loop);
  });
});

test("start() on a running loop throws instead of deadlocking [test_reentrant]", async (t) => {
  const loop = newLoop(t);
  let error: unknown;
  loop.addCallback(() => {
    try {
      void loop.start();
    } catch (e) {
      error = e;
    }
    loop.stop();
  });
  await loop.start();
  assert.ok(error instanceof IOLoopError);
  assert.equal(error.code, "ERR_IOLOOP_RUNNING");
  assert.equal(loop.running(), false);
});

test("start() keeps the process alive until stop()", async () => {
  const code = `
    import { IOLoop } from ${JSON.stringify(IOLOOP_URL)};
    const loop = IOLoop.current();
    // An unref'ed timer alone would not keep the process alive.
    setTimeout(() => loop.stop(), 100).unref();
    await loop.start();
    console.log("stopped", loop.running());
  `;
  const { stdout, code: exitCode } = await runNode(code);
  assert.equal(stdout.trim(), "stopped false");
  assert.equal(exitCode, 0);
});

test("stop() before start() makes the next start return after one turn", async (t) => {
  const loop = newLoop(t);
  loop.stop();
  const ran: string[] = [];
  loop.addCallback(() => ran.push("callback"));
  await loop.start();
  assert.deepEqual(ran, ["callback"]);
  assert.equal(loop.running(), false);
});

test("close() drops queued callbacks and timeouts; later addCallback is a silent no-op [test_add_callback_while_closing]", async () => {
  const loop = new IOLoop();
  const ran: string[] = [];
  loop.addCallback(() => ran.push("callback"));
  loop.callLater(0, () => ran.push("timeout"));
  loop.close();
  for (let i = 0; i < 1000; i++) loop.addCallback(() => ran.push("late"));
  assert.throws(() => loop.callLater(0, () => {}), { code: "ERR_IOLOOP_CLOSED" });
  assert.throws(() => loop.start(), { code: "ERR_IOLOOP_CLOSED" });
  await assert.rejects(
    loop.runSync(async () => {}),
    { code: "ERR_IOLOOP_CLOSED" },
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(ran, []);
  assert.equal(loop.closed, true);
  loop.close(); // idempotent
});

test("closing the current loop makes current() create a new one", async () => {
  const loop = new IOLoop();
  let next: IOLoop | null = null;
  // Closing a loop inside its own runSync stops it: runSync rejects.
  await assert.rejects(
    loop.runSync(() => {
      assert.equal(IOLoop.current(), loop);
      loop.close();
      next = IOLoop.current();
    }),
    { code: "ERR_IOLOOP_STOPPED" },
  );
  assert.ok(next !== null && next !== loop);
  assert.notEqual(IOLoop.current(), loop);
});

// ---------------------------------------------------------------------------------------------
// addCallback

test("addCallback runs callbacks in FIFO order with their arguments, on a later turn", async (t) => {
  const loop = newLoop(t);
  const order: unknown[] = [];
  loop.addCallback((a: number, b: string) => order.push([a, b]), 1, "x");
  loop.addCallback(() => order.push("no-args"));
  loop.spawnCallback((c: boolean) => order.push(c), true);
  assert.deepEqual(order, []);
  await nextTurn();
  assert.deepEqual(order, [[1, "x"], "no-args", true]);
});

test("callbacks added while the queue drains run on the next turn, after microtasks", async (t) => {
  const loop = newLoop(t);
  const order: string[] = [];
  const done = new Future<void>();
  loop.addCallback(() => {
    order.push("A");
    loop.addCallback(() => {
      order.push("B");
      done.setResult();
    });
    queueMicrotask(() => order.push("microtask"));
  });
  loop.addCallback(() => order.push("C"));
  await done;
  // B was not run in A's batch: C (same batch) and the microtask queued by A came first.
  assert.deepEqual(order, ["A", "C", "microtask", "B"]);
});

test("a callback returning {} or [] does not reschedule anything [test_add_callback_return_sequence]", async (t) => {
  const loop = newLoop(t);
  let calls = 0;
  const original = loop.addCallback.bind(loop);
  loop.addCallback = ((fn: () => unknown) => {
    calls++;
    original(fn);
  }) as IOLoop["addCallback"];
  loop.addCallback(() => ({}));
  loop.addCallback(() => []);
  for (let i = 0; i < 5; i++) await nextTurn();
  assert.equal(calls, 2);
});

test("addCallback from a timeout runs without waiting for another timer [test_add_callback_wakeup]", async (t) => {
  const loop = newLoop(t);
  const ran = new Future<number>();
  let scheduledAt = 0;
  loop.callAt(loop.time(), () => {
    scheduledAt = loop.time();
    loop.addCallback(() => ran.setResult(loop.time()));
  });
  const at = await ran;
  assert.ok(at - scheduledAt < 20, `woke up after ${at - scheduledAt} ms`);
});

test("a message from another thread wakes the loop at once [test_add_callback_wakeup_other_thread]", async (t) => {
  // Tornado's add_callback from a thread becomes: the thread posts a message, and the
  // listener on the loop's thread calls addCallback.
  const loop = newLoop(t);
  const worker = new Worker(
    `const { parentPort } = require("node:worker_threads");
     setTimeout(() => parentPort.postMessage(performance.timeOrigin + performance.now()), 10);`,
    { eval: true },
  );
  t.after(() => worker.terminate());
  const woke = new Future<number>();
  worker.once("message", () => loop.addCallback(() => woke.setResult(Date.now())));
  const [sentAt] = (await once(worker, "message")) as [number];
  const delta = (await woke) - sentAt;
  assert.ok(delta < 100, `woke up ${delta} ms after the message`);
});

test("a signal handler can add a callback [test_add_callback_from_signal]", async (t) => {
  // Tornado needed add_callback_from_signal; Node already runs signal handlers on the loop.
  const loop = newLoop(t);
  const ran = new Future<string>();
  const onSignal = () => loop.addCallback(() => ran.setResult("from signal"));
  process.once("SIGUSR2", onSignal);
  t.after(() => process.off("SIGUSR2", onSignal));
  // A signal listener does not keep the process alive while the signal is on its way.
  const keepAlive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(keepAlive));
  process.kill(process.pid, "SIGUSR2");
  assert.equal(await ran, "from signal");
});

test("callback exceptions are logged, not thrown [test_exception_logging]", async (t) => {
  const loop = newLoop(t);
  const after = new Future<void>();
  {
    using log = new ExpectLog(appLog, /^Exception in callback boom\(\)/);
    loop.addCallback(function boom() {
      throw new Error("boom");
    });
    loop.addCallback(() => after.setResult());
    await after;
    assert.equal(log.matched, 1);
    assert.equal((log.records[0]!.error as Error).message, "boom");
  }
});

test("a rejected Promise returned by a callback is logged [test_exception_logging_native_coro]", async (t) => {
  const loop = newLoop(t);
  using log = new ExpectLog(appLog, /Exception in callback/);
  const logged = new Future<void>();
  loop.addCallback(async () => {
    await nextTurn();
    setImmediate(() => logged.setResult());
    throw new Error("async boom");
  });
  await logged;
  assert.equal(log.matched, 1);
});

test("a failed Future returned by a callback is logged [test_exception_logging_future]", async (t) => {
  const loop = newLoop(t);
  using log = new ExpectLog(appLog, /Exception in callback/);
  const future = new Future<void>();
  loop.addCallback(() => future);
  await nextTurn();
  future.setException(new Error("future boom"));
  await nextTurn();
  assert.equal(log.matched, 1);
});

test("spawnCallback errors are logged too [test_spawn_callback]", async (t) => {
  const loop = newLoop(t);
  using log = new ExpectLog(appLog, /Exception in callback/);
  loop.spawnCallback(() => {
    throw new Error("spawned");
  });
  await nextTurn();
  assert.equal(log.matched, 1);
});

test("a CancelledError from a callback is not logged", async (t) => {
  const loop = newLoop(t);
  loop.addCallback(() => {
    throw new CancelledError();
  });
  loop.addCallback(() => Promise.reject(new CancelledError()));
  await nextTurn();
  await nextTurn();
  // The test file fails on any unexpected error log, so reaching here is the assertion.
  assert.equal(loop.closed, false);
});

test("addCallback and spawnCallback reject a non-function with TypeError", (t) => {
  const loop = newLoop(t);
  assert.throws(() => loop.addCallback(42 as never), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.throws(() => loop.spawnCallback(null as never), TypeError);
});

// ---------------------------------------------------------------------------------------------
// addFuture

test("addFuture calls back on a later turn with the done Future, never inline", async (t) => {
  const loop = newLoop(t);
  const future = new Future<number>();
  future.setResult(5);
  // A Future is thenable, so it travels inside an array (awaiting it would unwrap it).
  const got = new Future<[Future<number>, boolean]>();
  let returned = false;
  loop.addFuture(future, (f) => got.setResult([f, returned]));
  returned = true;
  const [done, calledAfterReturn] = await got;
  assert.equal(calledAfterReturn, true);
  assert.equal(done, future);
  assert.equal(done.result(), 5);
});

test("addFuture accepts a Promise and mirrors its failure", async (t) => {
  const loop = newLoop(t);
  const got = new Future<[Future<never>]>();
  const error = new Error("nope");
  loop.addFuture(Promise.reject(error), (f) => got.setResult([f]));
  const [done] = await got;
  assert.equal(done.done(), true);
  assert.equal(done.exception(), error);
  assert.throws(() => loop.addFuture(42 as never, () => {}), TypeError);
});

// ---------------------------------------------------------------------------------------------
// timeouts

test("timeouts pass their arguments through every method [test_timeout_with_arguments]", async (t) => {
  const loop = newLoop(t);
  const results: number[] = [];
  const all = new Future<void>();
  const push = (n: number) => {
    results.push(n);
    if (results.length === 4) all.setResult();
  };
  loop.addTimeout({ deadline: loop.time() }, push, 1);
  loop.addTimeout(0, push, 2);
  loop.callAt(loop.time(), push, 3);
  loop.callLater(0, push, 4);
  await all;
  assert.deepEqual([...results].sort(), [1, 2, 3, 4]);
});

test("addTimeout with a duration fires after it [test_add_timeout_timedelta]", async (t) => {
  const loop = newLoop(t);
  const start = loop.time();
  const fired = new Future<number>();
  loop.addTimeout(15, () => fired.setResult(loop.time()));
  assert.ok((await fired) - start >= 15);
});

test("every timeout method returns a handle removeTimeout accepts [test_add_timeout_return] [test_call_at_return] [test_call_later_return]", async (t) => {
  const loop = newLoop(t);
  let ran = 0;
  const handles: TimeoutHandle[] = [
    loop.addTimeout({ deadline: loop.time() }, () => ran++),
    loop.callAt(loop.time(), () => ran++),
    loop.callLater(0, () => ran++),
  ];
  for (const handle of handles) {
    assert.ok(handle !== null && handle !== undefined);
    loop.removeTimeout(handle);
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(ran, 0);
});

test("timeouts fire in deadline order, whatever the order they were added", async (t) => {
  const loop = newLoop(t);
  const order: number[] = [];
  const done = new Future<void>();
  const now = loop.time();
  for (const offset of [30, 10, 20, 5, 25]) {
    loop.callAt(now + offset, () => {
      order.push(offset);
      if (order.length === 5) done.setResult();
    });
  }
  await done;
  assert.deepEqual(order, [5, 10, 20, 25, 30]);
});

test("timeouts with the same delay fire in the order added", async (t) => {
  const loop = newLoop(t);
  const order: number[] = [];
  const done = new Future<void>();
  for (let i = 0; i < 10; i++) {
    loop.callLater(3, () => {
      order.push(i);
      if (i === 9) done.setResult();
    });
  }
  await done;
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("timeouts with the same deadline fire in the order added", async (t) => {
  const loop = newLoop(t);
  const order: number[] = [];
  const done = new Future<void>();
  const deadline = loop.time() + 5;
  for (let i = 0; i < 10; i++) {
    loop.callAt(deadline, () => {
      order.push(i);
      if (i === 9) done.setResult();
    });
  }
  await done;
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("many removed timeouts are compacted away while others stay scheduled", async (t) => {
  const loop = newLoop(t);
  const order: string[] = [];
  const done = new Future<void>();
  const now = loop.time();
  loop.callAt(now + 10, () => order.push("first"));
  loop.callAt(now + 15, () => {
    order.push("second");
    done.setResult();
  });
  let ran = 0;
  const handles: TimeoutHandle[] = [];
  for (let i = 0; i < 3000; i++) handles.push(loop.callLater(3_600_000 + i, () => ran++));
  for (const handle of handles) loop.removeTimeout(handle);
  await done;
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(ran, 0);
});

test("closing the loop from a timeout drops the others due at the same time", async () => {
  const loop = new IOLoop();
  const ran: string[] = [];
  const deadline = loop.time() + 2;
  loop.callAt(deadline, () => {
    ran.push("closer");
    loop.close();
  });
  loop.callAt(deadline, () => ran.push("dropped"));
  // A timer outside the loop to wait on: the closed loop's own timers are gone.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(ran, ["closer"]);
});

test("a timeout never runs before its deadline on time()'s clock", async (t) => {
  const loop = newLoop(t);
  const early: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    const fired = new Future<void>();
    const deadline = loop.time() + 1 + (i % 5) + 0.5;
    loop.callAt(deadline, () => {
      if (loop.time() < deadline) early.push(deadline - loop.time());
      fired.setResult();
    });
    // Block the loop a little so that Node's cached clock goes stale (what makes raw
    // setTimeout fire early).
    const until = performance.now() + 0.3;
    while (performance.now() < until);
    pending.push(fired.asPromise());
  }
  await Promise.all(pending);
  assert.deepEqual(early, []);
});

test("removeTimeout after the timeout fired is harmless [test_remove_timeout_after_fire]", async (t) => {
  const loop = newLoop(t);
  const fired = new Future<void>();
  const handle = loop.addTimeout({ deadline: loop.time() }, () => fired.setResult());
  await fired;
  loop.removeTimeout(handle);
  loop.removeTimeout(handle);
});

test("adding and removing many timeouts leaves nothing behind [test_remove_timeout_cleanup]", async (t) => {
  const loop = newLoop(t);
  let ran = 0;
  for (let i = 0; i < 2000; i++) {
    const handle = loop.addTimeout({ deadline: loop.time() + 3_600_000 }, () => ran++);
    loop.removeTimeout(handle);
  }
  await nextTurn();
  await nextTurn();
  assert.equal(ran, 0);
});

test("a timeout removed by another due at the same moment does not run [test_remove_timeout_from_timeout]", async (t) => {
  const loop = newLoop(t);
  const calls = [false, false];
  const now = loop.time();
  const done = new Future<void>();
  loop.addTimeout({ deadline: now + 10 }, () => {
    calls[0] = true;
    loop.removeTimeout(t2);
  });
  const t2 = loop.addTimeout({ deadline: now + 20 }, () => {
    calls[1] = true;
  });
  loop.addTimeout({ deadline: now + 30 }, () => done.setResult());
  // Block the loop past all three deadlines so they come due together.
  while (performance.now() < now + 35);
  await done;
  assert.deepEqual(calls, [true, false]);
});

test("a delay longer than Node's 32-bit timer limit is kept, not clamped to 1 ms", async (t) => {
  const loop = newLoop(t);
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  t.after(() => process.off("warning", onWarning));
  const delay = 2 ** 31 + 10_000;
  let ran = false;
  const before = loop.time();
  const handle = loop.callLater(delay, () => {
    ran = true;
  });
  assert.ok(handle.deadline >= before + delay);
  await new Promise((resolve) => setTimeout(resolve, 10));
  await nextTurn();
  assert.equal(ran, false);
  assert.deepEqual(
    warnings.filter((w) => w.name === "TimeoutOverflowWarning"),
    [],
  );
  loop.removeTimeout(handle);
});

test("an unref'ed timeout does not keep the process alive", async () => {
  const code = `
    import { IOLoop } from ${JSON.stringify(IOLOOP_URL)};
    const loop = IOLoop.current();
    loop.callLater(60_000, () => console.log("fired")).unref();
    loop.callLater(1, () => console.log("short"));
  `;
  const { stdout, code: exitCode } = await runNode(code);
  assert.equal(stdout.trim(), "short");
  assert.equal(exitCode, 0);
});

test("timeout methods check their arguments", (t) => {
  const loop = newLoop(t);
  assert.throws(() => loop.callLater(Number.NaN, () => {}), RangeError);
  assert.throws(() => loop.callLater("5" as never, () => {}), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.throws(() => loop.callAt(0, "x" as never), TypeError);
  assert.throws(() => loop.addTimeout(null as never, () => {}), TypeError);
  assert.throws(() => loop.removeTimeout({} as never), TypeError);
  assert.throws(() => loop.removeTimeout(undefined as never), TypeError);
});

test("a timeout callback's exception is logged", async (t) => {
  const loop = newLoop(t);
  using log = new ExpectLog(appLog, /Exception in callback failing\(\)/);
  const after = new Future<void>();
  loop.callLater(0, function failing() {
    throw new Error("timer boom");
  });
  loop.callLater(2, () => after.setResult());
  await after;
  assert.equal(log.matched, 1);
});

// ---------------------------------------------------------------------------------------------
// runSync

test("runSync rejects a plain (non-awaitable) return value [test_sync_result]", async (t) => {
  const loop = newLoop(t);
  await assert.rejects(loop.runSync((() => 42) as () => void), {
    name: "TypeError",
    message: /returned number 42; it must return a Promise or undefined/,
  });
  assert.equal(loop.running(), false);
});

test("runSync resolves undefined for a function returning nothing", async (t) => {
  const loop = newLoop(t);
  let ran = false;
  assert.equal(
    await loop.runSync(() => {
      ran = true;
    }),
    undefined,
  );
  assert.equal(ran, true);
});

test("runSync rejects with what the function throws [test_sync_exception]", async (t) => {
  const loop = newLoop(t);
  const error = new RangeError("sync failure");
  await assert.rejects(
    loop.runSync(() => {
      throw error;
    }),
    error,
  );
});

test("runSync resolves with the Promise's result [test_async_result] [test_native_coroutine]", async (t) => {
  const loop = newLoop(t);
  const result = await loop.runSync(async () => {
    await nextTurn();
    return 42;
  });
  assert.equal(result, 42);
  const future = new Future<string>();
  setImmediate(() => future.setResult("future"));
  assert.equal(await loop.runSync(() => future), "future");
});

test("runSync rejects with the Promise's error [test_async_exception]", async (t) => {
  const loop = newLoop(t);
  await assert.rejects(
    loop.runSync(async () => {
      await nextTurn();
      throw new Error("async failure");
    }),
    /async failure/,
  );
});

test("runSync times out with TimeoutError and cancels a Future [test_timeout]", async (t) => {
  const loop = newLoop(t);
  const future = new Future<void>();
  const start = loop.time();
  await assert.rejects(
    loop.runSync(() => future, { timeout: 10 }),
    (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.message, "Operation timed out after 10 ms");
      return true;
    },
  );
  assert.ok(loop.time() - start >= 10);
  assert.equal(future.cancelled(), true);
  assert.equal(loop.running(), false);
});

test("runSync's timeout does not fire once the work is done", async (t) => {
  const loop = newLoop(t);
  assert.equal(await loop.runSync(async () => "quick", { timeout: 5 }), "quick");
  await new Promise((resolve) => setTimeout(resolve, 10));
});

test("runSync rejects if the loop is stopped first [test_stop_no_timeout]", async (t) => {
  const loop = newLoop(t);
  const never = new Future<void>();
  await assert.rejects(
    loop.runSync(async () => {
      await nextTurn();
      IOLoop.current().stop();
      await never;
    }),
    (error: unknown) => {
      assert.ok(error instanceof IOLoopError);
      assert.equal(error.code, "ERR_IOLOOP_STOPPED");
      assert.match(error.message, /Event loop stopped/);
      return true;
    },
  );
  never.cancel();
});

test("runSync on a running loop rejects; bad arguments throw", async (t) => {
  const loop = newLoop(t);
  const started = loop.start();
  await assert.rejects(
    loop.runSync(async () => {}),
    { code: "ERR_IOLOOP_RUNNING" },
  );
  loop.stop();
  await started;
  assert.throws(() => loop.runSync("x" as never), TypeError);
  assert.throws(() => loop.runSync(async () => {}, { timeout: -1 }), RangeError);
  assert.throws(() => loop.runSync(async () => {}, { timeout: Number.NaN }), RangeError);
});

// ---------------------------------------------------------------------------------------------
// PeriodicCallback: the schedule, on a simulated clock

/** Exposes the schedule computation; `randoms` feed the jitter. */
class SimulatedPeriodicCallback extends PeriodicCallback {
  randoms: number[] = [];

  protected override random(): number {
    return this.randoms.shift()!;
  }

  /**
   * Simulates calls lasting `durations` ms each (negative: the clock went back during the
   * call); returns when each call would start. Tornado's `simulate_calls`, in ms.
   */
  simulate(durations: number[]): number[] {
    const calls: number[] = [];
    let now = 1_000_000;
    this.nextTimeout = now;
    for (const duration of durations) {
      this.updateNext(now);
      calls.push(this.nextTimeout);
      now = this.nextTimeout + duration;
    }
    return calls;
  }
}

const ms = (seconds: number[]) => seconds.map((s) => 1_000_000 + s * 1000);

test("the schedule advances one period per call [test_basic]", () => {
  const pc = new SimulatedPeriodicCallback(() => {}, 10_000);
  assert.deepEqual(pc.simulate([0, 0, 0, 0, 0]), ms([10, 20, 30, 40, 50]));
});

test("calls that overrun skip whole periods to get back on schedule [test_overrun]", () => {
  const pc = new SimulatedPeriodicCallback(() => {}, 10_000);
  const durations = [9, 9, 10, 11, 20, 20, 35, 35, 0, 0, 0].map((s) => s * 1000);
  assert.deepEqual(pc.simulate(durations), ms([10, 20, 30, 50, 70, 100, 130, 170, 210, 220, 230]));
});

test("a clock going backwards still advances the schedule [test_clock_backwards]", () => {
  const pc = new SimulatedPeriodicCallback(() => {}, 10_000);
  assert.deepEqual(pc.simulate([-2, -1, -3, -2, 0].map((s) => s * 1000)), ms([10, 20, 30, 40, 50]));
  assert.deepEqual(pc.simulate([-100_000, 0, 0]), ms([10, 20, 30]));
});

test("jitter scales each period by 1 + jitter * (random - 0.5) [test_jitter]", () => {
  const pc = new SimulatedPeriodicCallback(() => {}, 10_000, 0.5);
  pc.randoms = [0.5, 1, 0, 0.75];
  assert.deepEqual(pc.simulate([0, 0, 0, 0]), ms([10, 22.5, 30, 41.25]));
});

test("PeriodicCallback checks its arguments", () => {
  assert.throws(() => new PeriodicCallback(() => {}, 0), {
    name: "RangeError",
    message: /positive callbackTime/,
  });
  assert.throws(() => new PeriodicCallback(() => {}, -5), RangeError);
  assert.throws(() => new PeriodicCallback(() => {}, Number.NaN), RangeError);
  assert.throws(() => new PeriodicCallback(() => {}, Number.POSITIVE_INFINITY), RangeError);
  assert.throws(() => new PeriodicCallback(() => {}, "10" as never), TypeError);
  assert.throws(() => new PeriodicCallback("f" as never, 10), TypeError);
  assert.throws(() => new PeriodicCallback(() => {}, 10, 1.5), RangeError);
  assert.throws(() => new PeriodicCallback(() => {}, 10, -0.1), RangeError);
});

// ---------------------------------------------------------------------------------------------
// PeriodicCallback: real runs

test("a PeriodicCallback runs every period until stopped [test_periodic_plain]", async (t) => {
  let count = 0;
  const third = new Future<void>();
  const pc = new PeriodicCallback(() => {
    count++;
    if (count === 3) third.setResult();
  }, 10);
  t.after(() => pc.stop());
  assert.equal(pc.isRunning(), false);
  const start = IOLoop.current().time();
  pc.start();
  assert.equal(pc.isRunning(), true);
  await third;
  pc.stop();
  assert.equal(pc.isRunning(), false);
  assert.equal(count, 3);
  assert.ok(IOLoop.current().time() - start >= 30);
  // No run after stop(): a run due now would have happened within two periods.
  await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(count, 3);
});

test("an async callback is awaited before the next run: runs never overlap [test_periodic_async] [test_periodic_coro]", async (t) => {
  const counts = [0, 0];
  let active = 0;
  let maxActive = 0;
  const done = new Future<void>();
  const pc = new PeriodicCallback(async () => {
    counts[0]!++;
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((resolve) => setTimeout(resolve, 25));
    active--;
    counts[1]!++;
    if (counts[1] === 3) {
      pc.stop();
      IOLoop.current().addCallback(() => done.setResult());
    }
  }, 10);
  t.after(() => pc.stop());
  pc.start();
  await done;
  assert.deepEqual(counts, [3, 3]);
  assert.equal(maxActive, 1);
});

test("a PeriodicCallback's errors are logged and the schedule goes on", async (t) => {
  using log = new ExpectLog(appLog, /^Exception in callback (tick|<anonymous function>)/);
  let runs = 0;
  const done = new Future<void>();
  const pc = new PeriodicCallback(function tick() {
    runs++;
    if (runs === 3) {
      pc.stop();
      done.setResult();
    }
    if (runs === 1) throw new Error("sync failure");
    if (runs === 2) return Promise.reject(new Error("async failure"));
    return undefined;
  }, 5);
  t.after(() => pc.stop());
  pc.start();
  await done;
  assert.equal(log.matched, 2);
});

test("a PeriodicCallback restarted during a run is scheduled once", async (t) => {
  // A loop that counts what is scheduled on it; runSync makes it current, so the
  // PeriodicCallback started inside uses it.
  class CountingLoop extends IOLoop {
    scheduled = 0;
    override callLater<A extends unknown[]>(
      delay: number,
      fn: (...args: A) => unknown,
      ...args: A
    ): TimeoutHandle {
      this.scheduled++;
      return super.callLater(delay, fn, ...args);
    }
  }
  const loop = new CountingLoop();
  t.after(() => loop.close());
  let runs = 0;
  const gate = new Future<void>();
  const first = new Future<void>();
  const third = new Future<void>();
  const pc = new PeriodicCallback(async () => {
    runs++;
    if (runs === 1) {
      first.setResult();
      await gate;
    }
    if (runs === 3) {
      pc.stop();
      third.setResult();
    }
  }, 5);
  t.after(() => pc.stop());
  await loop.runSync(async () => {
    pc.start();
    assert.equal(loop.scheduled, 1);
    await first;
    pc.stop();
    pc.start();
    // The run in flight schedules the next one when it ends; start() must not add another.
    assert.equal(loop.scheduled, 1);
    gate.setResult();
    await third;
  });
  assert.equal(runs, 3);
  assert.equal(loop.scheduled, 3);
});

test("PeriodicCallback.now() drives the schedule: a subclass can use its own clock", async (t) => {
  // A clock far behind time()'s: mixing the two clocks would fire at once, again and again.
  class OffsetClock extends PeriodicCallback {
    protected override now(): number {
      return performance.now() - 1e9;
    }
  }
  let runs = 0;
  const done = new Future<void>();
  const pc = new OffsetClock(() => {
    if (++runs === 3) done.setResult();
  }, 10);
  t.after(() => pc.stop());
  const start = performance.now();
  pc.start();
  await done;
  pc.stop();
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 30 && elapsed < 1000, `3 periods of 10 ms took ${elapsed} ms`);
});
