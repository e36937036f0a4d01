import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { test } from "node:test";
import { CancelledError, Future } from "../src/concurrent.js";
import {
  BadYieldError,
  convertYielded,
  coroutine,
  isCoroutineFunction,
  moment,
  multi,
  sleep,
  WaitIterator,
  withTimeout,
} from "../src/gen.js";
import { IOLoop } from "../src/ioloop.js";
import { appLog } from "../src/log.js";
import { ExpectLog } from "../src/testing.js";
import { TimeoutError } from "../src/util.js";
import { collectGarbage } from "./helpers/gc.js";

/** Resolves with `value` after `iterations` turns of the loop. */
const delay = coroutine(function* <T>(iterations: number, value: T) {
  for (let i = 0; i < iterations; i++) yield moment;
  return value;
});

const asyncFuture = coroutine(function* <T>(result: T) {
  yield moment;
  return result;
});

const asyncException = coroutine(function* (error: Error) {
  yield moment;
  throw error;
});

const addOneAsync = coroutine(function* (x: number) {
  yield moment;
  return x + 1;
});

// ---------------------------------------------------------------------------- the runner

test("a coroutine that never yields resolves with undefined [test_no_yield]", async () => {
  const f = coroutine(function* () {});
  assert.equal(await f(), undefined);
});

test("an error before the first yield fails the Future, not the call [test_exception_phase1]", async () => {
  // eslint-disable-next-line require-yield -- a coroutine that never yields, on purpose
  const f = coroutine(function* () {
    throw new RangeError("phase 1");
  });
  const future = f();
  assert.ok(future instanceof Future);
  await assert.rejects(future, { name: "RangeError", message: "phase 1" });
});

test("an error after a yield fails the Future [test_exception_phase2]", async () => {
  const f = coroutine(function* () {
    yield moment;
    throw new RangeError("phase 2");
  });
  await assert.rejects(f(), RangeError);
});

test("yielding something that is not awaitable throws BadYieldError at the yield [test_bogus_yield]", async () => {
  const f = coroutine(function* () {
    yield 42;
  });
  await assert.rejects(f(), (error: unknown) => {
    assert.ok(error instanceof BadYieldError);
    assert.equal(error.code, "ERR_BAD_YIELD");
    assert.match(error.message, /yielded unknown object 42/);
    return true;
  });
  const caught = coroutine(function* () {
    try {
      yield "a string";
    } catch (error) {
      return (error as Error).name;
    }
    return "not thrown";
  });
  assert.equal(await caught(), "BadYieldError");
  for (const bad of [new Map(), () => 1, Symbol("s"), 10n]) {
    assert.throws(() => convertYielded(bad), BadYieldError);
  }
});

test("a coroutine function can be called again and again [test_reuse]", async () => {
  const f = coroutine(function* () {
    yield moment;
    return 1;
  });
  assert.equal(await f(), 1);
  assert.equal(await f(), 1);
});

test("yielding null or undefined waits one turn [test_none]", async () => {
  const f = coroutine(function* () {
    const a = yield null;
    const b = yield;
    return [a, b];
  });
  assert.deepEqual(await f(), [undefined, undefined]);
});

test("yielding an array waits for all and gives their results [test_multi]", async () => {
  const f = coroutine(function* () {
    return yield [addOneAsync(1), addOneAsync(2)];
  });
  assert.deepEqual(await f(), [2, 3]);
});

test("yielding an object of promises gives an object of results [test_multi_dict]", async () => {
  const f = coroutine(function* () {
    return yield {
      foo: addOneAsync(1),
      bar: Promise.resolve(3),
      baz: sleep(5).then(() => "slept"),
    };
  });
  assert.deepEqual(await f(), { foo: 2, bar: 3, baz: "slept" });
});

test("multi keeps input order when children finish in another order [test_multi_delayed]", async () => {
  const f = coroutine(function* () {
    return yield multi([delay(3, "v1"), delay(1, "v2")]);
  });
  assert.deepEqual(await f(), ["v1", "v2"]);
});

test("multi of an object keeps its keys when children finish out of order [test_multi_dict_delayed]", async () => {
  const f = coroutine(function* () {
    return yield multi({ foo: delay(3, "v1"), bar: delay(1, "v2") });
  });
  assert.deepEqual(await f(), { foo: "v1", bar: "v2" });
});

test("yielding a list of 2000 moments stays fast [test_multi_performance]", async () => {
  const start = performance.now();
  const f = coroutine(function* () {
    const list: unknown[] = [];
    for (let i = 0; i < 2000; i++) list.push(moment);
    return yield list;
  });
  const results = (await f()) as unknown[];
  assert.equal(results.length, 2000);
  assert.ok(performance.now() - start < 1000);
});

test("yielding an empty array or object gives [] or {} [test_multi_empty]", async () => {
  const f = coroutine(function* () {
    const x = yield [];
    const y = yield {};
    return [x, y];
  });
  const [x, y] = (await f()) as [unknown, unknown];
  assert.deepEqual(x, []);
  assert.ok(Array.isArray(x));
  assert.deepEqual(y, {});
  assert.equal(multi([]).done(), true);
});

test("yielding a coroutine's Future gives its result [test_future]", async () => {
  const f = coroutine(function* () {
    return yield asyncFuture(1);
  });
  assert.equal(await f(), 1);
});

test("yielding an array of coroutine Futures [test_multi_future]", async () => {
  const f = coroutine(function* () {
    return yield [asyncFuture(1), asyncFuture(2)];
  });
  assert.deepEqual(await f(), [1, 2]);
});

test("the same Future twice in a list gives its result twice [test_multi_future_duplicate]", async () => {
  const f = coroutine(function* () {
    const shared = asyncFuture(2);
    return yield [asyncFuture(1), shared, asyncFuture(3), shared];
  });
  assert.deepEqual(await f(), [1, 2, 3, 2]);
});

test("yielding an object of coroutine Futures [test_multi_dict_future]", async () => {
  const f = coroutine(function* () {
    return yield { foo: asyncFuture(1), bar: asyncFuture(2) };
  });
  assert.deepEqual(await f(), { foo: 1, bar: 2 });
});

test("multi fails with the first error and logs the others unless quiet [test_multi_exceptions]", async () => {
  {
    using log = new ExpectLog(appLog, /Multiple exceptions in yield list/);
    await assert.rejects(
      multi([asyncException(new Error("error 1")), asyncException(new Error("error 2"))]),
      { message: "error 1" },
    );
    assert.equal(log.matched, 1);
    assert.equal((log.records[0]!.error as Error).message, "error 2");
  }
  // With only one error nothing is logged (an unexpected error log fails this file).
  await assert.rejects(multi([asyncException(new Error("error 1")), asyncFuture(2)]), {
    message: "error 1",
  });
  // Quieted by class.
  await assert.rejects(
    multi([asyncException(new RangeError("error 1")), asyncException(new RangeError("error 2"))], {
      quietExceptions: RangeError,
    }),
    RangeError,
  );
  await assert.rejects(
    multi([asyncException(new RangeError("e1")), asyncException(new TypeError("e2"))], {
      quietExceptions: [TypeError, SyntaxError],
    }),
    RangeError,
  );
});

test("a yielded list fails with the first error and logs the others [test_multi_future_exceptions]", async () => {
  const f = coroutine(function* () {
    yield [asyncException(new Error("error 1")), asyncException(new Error("error 2"))];
  });
  {
    using _ = new ExpectLog(appLog, /Multiple exceptions in yield list/);
    await assert.rejects(f(), { message: "error 1" });
  }
  const g = coroutine(function* () {
    yield [asyncException(new Error("error 1")), asyncFuture(2)];
  });
  await assert.rejects(g(), { message: "error 1" });
});

test("multi resolves only when every child is done, even after a failure", async () => {
  const slow = new Future<number>();
  const result = multi([Promise.reject(new Error("fast failure")), slow]);
  await moment;
  assert.equal(result.done(), false);
  slow.setResult(1);
  await assert.rejects(result, { message: "fast failure" });
});

test("multi rejects inputs that are neither arrays nor plain objects", () => {
  assert.throws(() => multi(new Map() as unknown as unknown[]), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.throws(() => multi([1] as unknown[]), BadYieldError);
});

test("cancelling a multi does not cancel its children", async () => {
  const child = new Future<number>();
  const result = multi([child]);
  result.cancel();
  assert.equal(child.cancelled(), false);
  child.setResult(1);
  await assert.rejects(result, CancelledError);
});

test("a coroutine keeps its name and the wrapped function [test_attributes]", () => {
  function* namedGenerator(a: number, b: number) {
    yield moment;
    return a + b;
  }
  const coro = coroutine(namedGenerator);
  assert.equal(coro.name, "namedGenerator");
  assert.equal(coro.length, 2);
  assert.equal(coro.wrapped, namedGenerator);
});

test("isCoroutineFunction tells coroutines from other functions [test_is_coroutine_function]", async () => {
  function* f() {
    yield moment;
  }
  const coro = coroutine(f);
  assert.equal(isCoroutineFunction(f), false);
  assert.equal(isCoroutineFunction(coro), true);
  assert.equal(isCoroutineFunction(coro()), false);
  assert.equal(
    isCoroutineFunction(async () => {}),
    false,
  );
  assert.equal(isCoroutineFunction(null), false);
});

test("a value returned before any yield resolves the Future [test_sync_return]", async () => {
  // eslint-disable-next-line require-yield -- a coroutine that never yields, on purpose
  const f = coroutine(function* () {
    return 42;
  });
  const future = f();
  assert.equal(future.done(), true);
  assert.equal(await future, 42);
});

test("a value returned after a yield resolves the Future [test_async_return]", async () => {
  const f = coroutine(function* () {
    yield moment;
    return 42;
  });
  assert.equal(await f(), 42);
});

test("an early return skips an unreached yield [test_async_early_return]", async () => {
  const flag = true;
  const f = coroutine(function* () {
    if (flag) return 42;
    yield moment;
    return 0;
  });
  assert.equal(await f(), 42);
});

test("async functions and coroutines await each other [test_async_await]", async () => {
  const f1 = coroutine(function* () {
    yield moment;
    return 42;
  });
  async function f2() {
    return await f1();
  }
  const f3 = coroutine(function* () {
    return yield f2();
  });
  assert.equal(await f3(), 42);
});

test("a coroutine yields an async function that awaits moment [test_asyncio_sleep_zero]", async () => {
  async function f() {
    await moment;
    return 42;
  }
  const g = coroutine(function* () {
    return yield f();
  });
  assert.equal(await g(), 42);
});

test("a list may mix async functions and coroutines [test_async_await_mixed_multi_native_future]", async () => {
  const f1 = coroutine(function* () {
    yield moment;
  });
  async function f2() {
    await f1();
    return 42;
  }
  const f3 = coroutine(function* () {
    yield moment;
    return 43;
  });
  const g = coroutine(function* () {
    return yield [f2(), f3()];
  });
  assert.deepEqual(await g(), [42, 43]);
});

test("withTimeout wraps an async function's promise [test_async_with_timeout]", async () => {
  async function f1() {
    return 42;
  }
  assert.equal(await withTimeout(3_600_000, f1()), 42);
});

test("a bare return resolves with undefined, before or after a yield [test_sync_return_no_value]", async () => {
  // eslint-disable-next-line require-yield -- a coroutine that never yields, on purpose
  const f = coroutine(function* () {
    return;
  });
  assert.equal(await f(), undefined);
});

test("a bare return after a yield resolves with undefined [test_async_return_no_value]", async () => {
  const f = coroutine(function* () {
    yield moment;
    return;
  });
  assert.equal(await f(), undefined);
});

test("a synchronous error surfaces when the Future is awaited [test_sync_raise]", async () => {
  // eslint-disable-next-line require-yield -- a coroutine that never yields, on purpose
  const f = coroutine(function* () {
    throw new EvalError("sync");
  });
  const future = f();
  await assert.rejects(future, EvalError);
});

test("an asynchronous error surfaces when the Future is awaited [test_async_raise]", async () => {
  const f = coroutine(function* () {
    yield moment;
    throw new EvalError("async");
  });
  const future = f();
  assert.equal(future.done(), false);
  await assert.rejects(future, EvalError);
});

test("a coroutine can catch an error from a yield and throw another [test_replace_yieldpoint_exception]", async () => {
  // eslint-disable-next-line require-yield -- a coroutine that never yields, on purpose
  const f1 = coroutine(function* () {
    throw new RangeError("inner");
  });
  const f2 = coroutine(function* () {
    try {
      yield f1();
    } catch (error) {
      if (error instanceof RangeError) throw new TypeError("replaced", { cause: error });
    }
  });
  await assert.rejects(f2(), { name: "TypeError", message: "replaced" });
});

test("a coroutine can catch an error from a yield and go on [test_swallow_yieldpoint_exception]", async () => {
  // eslint-disable-next-line require-yield -- a coroutine that never yields, on purpose
  const f1 = coroutine(function* () {
    throw new RangeError("inner");
  });
  const f2 = coroutine(function* () {
    try {
      yield f1();
    } catch (error) {
      if (error instanceof RangeError) return 42;
    }
    return 0;
  });
  assert.equal(await f2(), 42);
});

test("a rejected promise is thrown in at the yield, with the same error object", async () => {
  const error = new Error("rejected");
  const f = coroutine(function* () {
    try {
      yield Promise.reject(error);
    } catch (caught) {
      return caught;
    }
    return null;
  });
  assert.equal(await f(), error);
});

test("done Futures do not pause a coroutine; moment does [test_moment]", async () => {
  let calls: string[] = [];
  const f = coroutine(function* (name: string, yieldable: unknown) {
    for (let i = 0; i < 5; i++) {
      calls.push(name);
      yield yieldable;
    }
  });
  const immediate = new Future<void>();
  immediate.setResult(undefined);
  // Without moment, each coroutine runs to the end before the other starts.
  await multi([f("a", immediate), f("b", immediate)]);
  assert.equal(calls.join(""), "aaaaabbbbb");
  // With moment, they take turns.
  calls = [];
  await multi([f("a", moment), f("b", moment)]);
  assert.equal(calls.join(""), "ababababab");
  calls = [];
  await multi([f("a", moment), f("b", immediate)]);
  assert.equal(calls.join(""), "abbbbbaaaa");
});

test("sleep resolves after the delay [test_sleep]", async () => {
  const loop = IOLoop.current();
  const start = loop.time();
  const f = coroutine(function* () {
    yield sleep(10);
    return loop.time() - start;
  });
  const elapsed = (await f()) as number;
  // Node's timers run on a millisecond clock coarser than IOLoop.time(): allow for rounding.
  assert.ok(elapsed >= 8, `slept ${elapsed} ms`);
});

test("a cancelled sleep clears its timer and rejects with CancelledError", async () => {
  const long = sleep(60_000);
  assert.equal(long.cancel(), true);
  await assert.rejects(long, CancelledError);
  assert.throws(() => sleep("1" as unknown as number), TypeError);
  assert.throws(() => sleep(Number.NaN), RangeError);
  await sleep(0);
  await sleep(-5);
});

test("Promise.all understands coroutine Futures [test_asyncio_gather]", async () => {
  const f = coroutine(function* () {
    yield moment;
    return 1;
  });
  assert.deepEqual(await Promise.all([f(), f()]), [1, 1]);
});

test("multi of moments resolves with undefineds [test_multi_moment]", async () => {
  const f = coroutine(function* () {
    return yield multi([moment, moment]);
  });
  assert.deepEqual(await f(), [undefined, undefined]);
});

test("a plain function is wrapped too: its value, thrown error or promise becomes the Future's", async () => {
  const plain = coroutine((x: number) => x * 2);
  const future = plain(21);
  assert.ok(future instanceof Future);
  assert.equal(future.done(), true);
  assert.equal(await future, 42);
  const throwing = coroutine(() => {
    throw new URIError("plain");
  });
  await assert.rejects(throwing(), URIError);
  const promising = coroutine(async () => "later");
  assert.equal(await promising(), "later");
  const returnsPromise = coroutine(function* () {
    yield moment;
    return Promise.resolve("followed");
  });
  assert.equal(await returnsPromise(), "followed");
});

test("a coroutine keeps `this` and its arguments", async () => {
  class Counter {
    count = 1;
    add = coroutine(function* (this: Counter, n: number) {
      yield moment;
      this.count += n;
      return this.count;
    });
  }
  const counter = new Counter();
  assert.equal(await counter.add(2), 3);
});

test("coroutine() refuses values that are not functions, and async generators", () => {
  assert.throws(() => coroutine(5 as unknown as () => void), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.throws(
    () =>
      coroutine(async function* () {
        yield 1;
      } as unknown as () => void),
    TypeError,
  );
});

test("the generator runs synchronously up to its first pause", () => {
  const steps: string[] = [];
  const done = new Future<void>();
  done.setResult(undefined);
  const f = coroutine(function* () {
    steps.push("start");
    yield done;
    steps.push("after done future");
    yield moment;
    steps.push("after moment");
  });
  const future = f();
  steps.push("returned");
  assert.deepEqual(steps, ["start", "after done future", "returned"]);
  future.cancel();
});

test("cancelling a coroutine's Future drops its result; the generator still finishes", async () => {
  let finished = false;
  const f = coroutine(function* () {
    yield moment;
    finished = true;
    return 1;
  });
  const future = f();
  future.cancel();
  await assert.rejects(future, CancelledError);
  await moment;
  await moment;
  assert.equal(finished, true);
});

test("a paused coroutine lives while its result can be awaited, even if what it waits for is only weakly held [test_gc]", async () => {
  let ref: WeakRef<Future<number>> | null = null;
  const tester = coroutine(function* () {
    const fut = new Future<number>();
    ref = new WeakRef(fut);
    IOLoop.current().addCallback(() => {
      collectGarbage();
      ref!.deref()?.setResult(123);
    });
    return yield fut;
  });
  assert.equal(await withTimeout(1_000, tester()), 123);
});

test("a failure of a cancelled coroutine is logged, not lost", async () => {
  const f = coroutine(function* () {
    yield moment;
    throw new RangeError("after cancel");
  });
  using log = new ExpectLog(appLog, /Exception after Future was cancelled/);
  const future = f();
  future.cancel();
  await moment;
  await moment;
  assert.equal(log.matched, 1);
});

// ---------------------------------------------------------------------------- context

const store = new AsyncLocalStorage<number>();

test("AsyncLocalStorage context flows through coroutines and async functions [test_propagate]", async () => {
  const genInner = coroutine(function* (x: number) {
    assert.equal(store.getStore(), x);
    yield moment;
    assert.equal(store.getStore(), x);
    yield sleep(1);
    assert.equal(store.getStore(), x);
  });
  async function inner(x: number) {
    assert.equal(store.getStore(), x);
    await genInner(x);
    assert.equal(store.getStore(), x);
  }
  async function nativeRoot(x: number) {
    return store.run(x, () => inner(x));
  }
  const genRoot = (x: number) =>
    store.run(
      x,
      coroutine(function* () {
        yield;
        const blocked = new Future<void>();
        // Resolved from another context: the coroutine resumes in its own.
        store.run(-1, () => setImmediate(() => blocked.setResult(undefined)));
        yield blocked;
        assert.equal(store.getStore(), x);
        yield inner(x);
      }),
    );
  await Promise.all([nativeRoot(1), nativeRoot(2), genRoot(3), genRoot(4)]);
});

test("context reaches an async function yielded first [test_propagate_to_first_yield_with_native_async_function]", async () => {
  const seen: (number | undefined)[] = [];
  async function native() {
    seen.push(store.getStore());
  }
  const f = coroutine(function* () {
    yield native();
  });
  await store.run(10, () => f());
  assert.deepEqual(seen, [10]);
});

// ---------------------------------------------------------------------------- withTimeout

test("withTimeout fails with TimeoutError('Timeout') [test_timeout]", async () => {
  await assert.rejects(withTimeout(10, new Future()), (error: unknown) => {
    assert.ok(error instanceof TimeoutError);
    assert.equal((error as Error).message, "Timeout");
    return true;
  });
});

test("withTimeout gives the result when it comes in time [test_completes_before_timeout]", async (t) => {
  const future = new Future<string>();
  const loop = IOLoop.current();
  const handle = loop.callLater(10, () => future.setResult("asdf"));
  t.after(() => loop.removeTimeout(handle));
  assert.equal(await withTimeout(3_600_000, future), "asdf");
});

test("withTimeout passes on an error that comes in time [test_fails_before_timeout]", async (t) => {
  const future = new Future<string>();
  const loop = IOLoop.current();
  const handle = loop.callLater(10, () => future.setException(new RangeError("early")));
  t.after(() => loop.removeTimeout(handle));
  await assert.rejects(withTimeout(3_600_000, future), RangeError);
});

test("withTimeout of a done Future resolves at once [test_already_resolved]", async () => {
  const future = new Future<string>();
  future.setResult("asdf");
  const wrapped = withTimeout(3_600_000, future);
  assert.equal(wrapped.done(), true);
  assert.equal(await wrapped, "asdf");
  // Even a timeout already past lets a done Future win.
  assert.equal(await withTimeout(0, future), "asdf");
});

test("withTimeout with a past deadline fails for a promise still pending [test_timeout_concurrent_future]", async () => {
  let resolve!: () => void;
  const pending = new Promise<void>((r) => {
    resolve = r;
  });
  await assert.rejects(withTimeout({ deadline: IOLoop.current().time() }, pending), TimeoutError);
  resolve();
  await pending;
});

test("withTimeout of a promise already settled resolves [test_completed_concurrent_future]", async () => {
  const settled = Promise.resolve("done");
  await settled;
  assert.equal(await withTimeout(3_600_000, settled), "done");
  assert.equal(await withTimeout(0, settled), "done");
});

test("withTimeout of a promise that settles while waiting resolves [test_normal_concurrent_future]", async () => {
  assert.equal(
    await withTimeout(
      3_600_000,
      sleep(5).then(() => "slept"),
    ),
    "slept",
  );
});

test("withTimeout leaves the wrapped Future and Promise alone", async () => {
  const future = new Future<number>();
  await assert.rejects(withTimeout(5, future), TimeoutError);
  assert.equal(future.done(), false);
  assert.equal(future.cancelled(), false);
  future.setResult(7);
  assert.equal(await future, 7);
  let resolve!: (v: string) => void;
  const promise = new Promise<string>((r) => {
    resolve = r;
  });
  await assert.rejects(withTimeout(5, promise), TimeoutError);
  resolve("still usable");
  assert.equal(await promise, "still usable");
  // It can be waited for again, with a new timeout.
  const again = new Future<number>();
  await assert.rejects(withTimeout(5, again), TimeoutError);
  setImmediate(() => again.setResult(8));
  assert.equal(await withTimeout(5_000, again), 8);
});

test("a failure after the timeout is logged, unless quiet or a cancellation", async () => {
  {
    using log = new ExpectLog(appLog, /Exception in Future .* after timeout/);
    const late = new Future<void>();
    await assert.rejects(withTimeout(5, late), TimeoutError);
    late.setException(new RangeError("late failure"));
    await moment;
    assert.equal(log.matched, 1);
    assert.equal((log.records[0]!.error as Error).message, "late failure");
  }
  const quiet = new Future<void>();
  await assert.rejects(withTimeout(5, quiet, { quietExceptions: RangeError }), TimeoutError);
  quiet.setException(new RangeError("quiet"));
  const cancelled = new Future<void>();
  await assert.rejects(withTimeout(5, cancelled), TimeoutError);
  cancelled.cancel();
  const rejected = sleep(200).then(() => {
    throw new CancelledError();
  });
  await assert.rejects(withTimeout(5, rejected), TimeoutError);
  await assert.rejects(rejected, CancelledError);
  await moment;
  await moment;
});

test("withTimeout validates its timeout", () => {
  assert.throws(() => withTimeout(Number.NaN, Promise.resolve()), RangeError);
  assert.throws(() => withTimeout("5" as unknown as number, Promise.resolve()), TypeError);
  assert.throws(() => withTimeout(5, 42), BadYieldError);
});

test("withTimeout of an array waits for all of it", async () => {
  assert.deepEqual(await withTimeout(5_000, [Promise.resolve(1), asyncFuture(2)]), [1, 2]);
});

// ---------------------------------------------------------------------------- WaitIterator

test("an empty WaitIterator is done at once; positional and keyed inputs do not mix [test_empty_iterator]", () => {
  const g = new WaitIterator();
  assert.equal(g.done(), true);
  assert.throws(
    () =>
      new (WaitIterator as unknown as new (...args: unknown[]) => WaitIterator)(new Future(), {
        bar: new Future(),
      }),
    { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" },
  );
  assert.throws(
    () => new (WaitIterator as unknown as new (...args: unknown[]) => WaitIterator)(42),
    TypeError,
  );
  assert.equal(g.currentIndex, null);
  assert.equal(g.currentFuture, null);
});

test("WaitIterator hands out done Futures in input order [test_already_done]", async () => {
  const f1 = new Future<number>();
  const f2 = new Future<number>();
  const f3 = new Future<number>();
  f1.setResult(24);
  f2.setResult(42);
  f3.setResult(84);
  const g = new WaitIterator(f1, f2, f3);
  const seen: [unknown, unknown, number][] = [];
  while (!g.done()) {
    const r = await g.next();
    seen.push([g.currentIndex, g.currentFuture, r]);
  }
  assert.deepEqual(seen, [
    [0, f1, 24],
    [1, f2, 42],
    [2, f3, 84],
  ]);
  assert.equal(g.currentIndex, null);
  assert.equal(g.currentFuture, null);
  const dg = new WaitIterator({ f1, f2 });
  const keyed: [unknown, number][] = [];
  while (!dg.done()) {
    const r = await dg.next();
    assert.equal(dg.currentFuture, dg.currentIndex === "f1" ? f1 : f2);
    keyed.push([dg.currentIndex, r]);
  }
  assert.deepEqual(keyed, [
    ["f1", 24],
    ["f2", 42],
  ]);
});

/** Settles the futures over several loop turns: 2, then 0 (error), then 1 and 3. */
function finishOverTurns(futures: Future<number>[]): void {
  const loop = IOLoop.current();
  const step = (iteration: number): void => {
    if (iteration === 3) futures[2]!.setResult(24);
    else if (iteration === 5) futures[0]!.setException(new RangeError("zero"));
    else if (iteration === 8) {
      futures[1]!.setResult(42);
      futures[3]!.setResult(84);
    }
    if (iteration < 8) loop.addCallback(step, iteration + 1);
  };
  step(0);
}

test("WaitIterator hands out results and errors in completion order [test_iterator]", async () => {
  const futures = [
    new Future<number>(),
    new Future<number>(),
    new Future<number>(),
    new Future<number>(),
  ];
  finishOverTurns(futures);
  const g = new WaitIterator(...futures);
  const log: string[] = [];
  while (!g.done()) {
    try {
      const r = await g.next();
      log.push(`${g.currentIndex}:${r}`);
    } catch (error) {
      assert.ok(error instanceof RangeError);
      assert.equal(g.currentFuture, futures[0]);
      log.push(`${g.currentIndex}:error`);
    }
  }
  assert.deepEqual(log, ["2:24", "0:error", "1:42", "3:84"]);
});

test("for await over a WaitIterator stops at an error and can resume [test_iterator_async_await]", async () => {
  const futures = [
    new Future<number>(),
    new Future<number>(),
    new Future<number>(),
    new Future<number>(),
  ];
  finishOverTurns(futures);
  const g = new WaitIterator(...futures);
  const log: string[] = [];
  await assert.rejects(async () => {
    for await (const r of g) log.push(`${g.currentIndex}:${r}`);
  }, RangeError);
  for await (const r of g) log.push(`${g.currentIndex}:${r}`);
  assert.deepEqual(log, ["2:24", "1:42", "3:84"]);
});

test("a WaitIterator's Future works with no reference to the iterator kept [test_no_ref]", async () => {
  await withTimeout(1_000, new WaitIterator(sleep(0)).next());
});

test("WaitIterator takes Promises and reports the Promise as the current future", async () => {
  const slow = sleep(5).then(() => "slow");
  const fast = Promise.resolve("fast");
  const g = new WaitIterator<string>(slow, fast);
  const order: [unknown, string][] = [];
  for await (const r of g) order.push([g.currentFuture === fast ? "fast" : "slow", r]);
  assert.deepEqual(order, [
    ["fast", "fast"],
    ["slow", "slow"],
  ]);
});
