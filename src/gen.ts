/**
 * Generator-based coroutines and helpers for awaiting many things: Tornado's `tornado.gen`.
 *
 * `async` functions are the norm in tornado-ts, as native coroutines are in Tornado. This
 * module keeps Tornado's older, decorator-based style for fidelity and porting:
 * {@link coroutine} turns a generator function into a function returning a {@link Future};
 * inside it, `yield` waits for a Promise or Future and evaluates to its value (or throws its
 * error at the `yield`, so `try`/`catch` works), and yielding an array or plain object of
 * them waits for all at once.
 *
 * ```ts
 * const fetchBoth = coroutine(function* (a: string, b: string) {
 *   const [ra, rb] = yield [fetch(a), fetch(b)];
 *   return [ra.status, rb.status];
 * });
 * await fetchBoth(urlA, urlB);
 * ```
 *
 * The helpers work as well from `async` functions: {@link multi} (wait for a list or object
 * of awaitables, reporting every failure), {@link withTimeout} (give up waiting, without
 * cancelling what was awaited), {@link sleep}, {@link moment}, and {@link WaitIterator}
 * (results in the order they complete).
 *
 * Main exports: {@link coroutine}, {@link isCoroutineFunction}, {@link multi},
 * {@link withTimeout}, {@link sleep}, {@link moment}, {@link WaitIterator},
 * {@link convertYielded}, {@link BadYieldError}, {@link TimeoutError}.
 */

import { AsyncResource } from "node:async_hooks";
import {
  CancelledError,
  chainFuture,
  Future,
  futureAddDoneCallback,
  futureSetExceptionUnlessCancelled,
} from "./concurrent.js";
import { IOLoop } from "./ioloop.js";
import { appLog } from "./log.js";
import { codedError, DeadlineTimer, deadlineOf, type Timeout } from "./locks/waiters.js";
import { TimeoutError } from "./util.js";

export type { Timeout } from "./locks/waiters.js";
export { TimeoutError } from "./util.js";

/** Raised (at the `yield`) when a coroutine yields something that cannot be waited for. */
export class BadYieldError extends Error {
  override name = "BadYieldError";
  readonly code = "ERR_BAD_YIELD";
}

/**
 * Something a coroutine may yield: a Future or other thenable, `null`/`undefined`/{@link moment}
 * (one turn of the loop), or an array or plain object of yieldables (see {@link multi}).
 */
export type Yieldable = unknown;

/** An error class, for `quietExceptions` options. */
export type ErrorClass = abstract new (...args: any[]) => unknown;

/** The type {@link moment} has. */
export interface Moment extends PromiseLike<void> {
  readonly [Symbol.toStringTag]: "Moment";
}

/**
 * Yield (or await) this to let the loop run one turn: callbacks already queued and I/O events
 * run before the coroutine resumes. `yield null` and `yield` (undefined) do the same.
 * Useful in long computations that would otherwise never give way, since a coroutine that
 * yields a Future that is already done goes on without pausing.
 *
 * @example
 * ```ts
 * const count = coroutine(function* () {
 *   for (let i = 0; i < 1e6; i++) if (i % 1000 === 0) yield moment;
 * });
 * await moment; // in an async function: resumes on the next turn of the loop
 * ```
 */
export const moment: Moment = Object.freeze({
  [Symbol.toStringTag]: "Moment" as const,
  // A thenable on purpose: awaiting `moment` waits one loop turn.
  then<R1 = void, R2 = never>(
    onFulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return new Promise<void>((resolve) => IOLoop.current().addCallback(resolve)).then(
      onFulfilled,
      onRejected,
    );
  },
});

function momentFuture(): Future<void> {
  const future = new Future<void>();
  IOLoop.current().addCallback(settleMoment, future);
  return future;
}

function settleMoment(future: Future<void>): void {
  if (!future.done()) future.setResult(undefined);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as Generator).next === "function" &&
    typeof (value as Generator).throw === "function" &&
    typeof (value as Generator)[Symbol.iterator] === "function"
  );
}

function describe(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value === "object" && value !== null) {
    const name = (value as object).constructor?.name;
    return name ? `${name} object` : "object";
  }
  return String(value);
}

/**
 * Converts a yielded value to a {@link Future}: Futures as they are, other thenables
 * wrapped, `null`/`undefined`/{@link moment} to a Future resolved on the next loop turn,
 * arrays and plain objects through {@link multi}.
 * @throws {@link BadYieldError} for anything else (numbers, strings, class instances that are
 *   not thenable, such as a `Lock` yielded instead of `lock.acquire()`).
 */
export function convertYielded(yielded: Yieldable): Future<unknown> {
  if (yielded === null || yielded === undefined || yielded === moment) {
    return momentFuture() as Future<unknown>;
  }
  if (yielded instanceof Future) return yielded;
  if (isThenable(yielded)) {
    const future = new Future<unknown>();
    chainFuture(yielded, future);
    return future;
  }
  if (Array.isArray(yielded) || isPlainObject(yielded)) return multi(yielded) as Future<unknown>;
  throw new BadYieldError(`yielded unknown object ${describe(yielded)}`);
}

const CORO = Symbol("tornado.coroutine");

/** A function made by {@link coroutine}. */
export type CoroutineFunction<A extends unknown[], R, This = unknown> = ((
  this: This,
  ...args: A
) => Future<R>) & {
  /** The generator (or plain) function that was wrapped. */
  readonly wrapped: (...args: any[]) => unknown;
};

/**
 * Turns a generator function into a coroutine: a function that returns a {@link Future} of
 * the generator's return value.
 *
 * The generator runs synchronously up to its first `yield` of something not yet done. Each
 * `yield x` waits for `x` ({@link convertYielded} says what may be yielded) and evaluates to
 * its value, or throws its error at the `yield`. A yielded Future that is already done does
 * not pause the coroutine. A generator that throws fails the Future; one that returns a
 * thenable resolves the Future with its outcome.
 *
 * A plain (non-generator) function is wrapped too: its result (or thrown error) becomes the
 * Future's. Context kept by `AsyncLocalStorage` flows from the call into every step of the
 * coroutine, as Tornado copies `contextvars`.
 *
 * @remarks As in Tornado, cancelling the returned Future does not stop the generator; its
 * outcome is then dropped (a failure is logged).
 * @throws TypeError (at wrap time) if `fn` is not a function or is an async generator function.
 *
 * @example
 * ```ts
 * const fetchTwo = coroutine(function* (urlA: string, urlB: string) {
 *   const { a, b } = yield { a: fetch(urlA), b: fetch(urlB) };
 *   return [a.status, b.status];
 * });
 * const [statusA, statusB] = await fetchTwo("http://127.0.0.1:8888/a", "http://127.0.0.1:8888/b");
 * ```
 */
export function coroutine<A extends unknown[], R, This = unknown>(
  fn: (this: This, ...args: A) => Generator<unknown, R, any>,
): CoroutineFunction<A, Awaited<R>, This>;
export function coroutine<A extends unknown[], R, This = unknown>(
  fn: (this: This, ...args: A) => R,
): CoroutineFunction<A, Awaited<R>, This>;
export function coroutine(
  fn: (...args: unknown[]) => unknown,
): CoroutineFunction<unknown[], unknown> {
  if (typeof fn !== "function") {
    throw codedError(
      TypeError,
      `coroutine() needs a function, got ${describe(fn)}`,
      "ERR_INVALID_ARG_TYPE",
    );
  }
  if (fn.constructor?.name === "AsyncGeneratorFunction") {
    throw codedError(
      TypeError,
      "coroutine() cannot wrap an async generator function; use a generator or an async function",
      "ERR_INVALID_ARG_TYPE",
    );
  }
  const wrapper = function (this: unknown, ...args: unknown[]): Future<unknown> {
    const future = new CoroutineFuture();
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (error) {
      future.setException(error);
      return future;
    }
    if (isGenerator(result)) new Runner(result, future).run(undefined, undefined, false);
    else settle(future, result);
    return future;
  };
  Object.defineProperty(wrapper, "name", { value: fn.name, configurable: true });
  Object.defineProperty(wrapper, "length", { value: fn.length, configurable: true });
  Object.defineProperty(wrapper, "wrapped", { value: fn });
  Object.defineProperty(wrapper, CORO, { value: true });
  return wrapper as CoroutineFunction<unknown[], unknown>;
}

/** True if `fn` was made by {@link coroutine} (not for plain `async` functions, as in Tornado). */
export function isCoroutineFunction(fn: unknown): boolean {
  return typeof fn === "function" && (fn as unknown as Record<symbol, unknown>)[CORO] === true;
}

/** Completes `future` with `value`, following it if it is a thenable. */
function settle(future: Future<unknown>, value: unknown): void {
  if (value instanceof Future) {
    futureAddDoneCallback(value, (done) => {
      if (done.cancelled()) cancelUnlessDone(future);
      else {
        try {
          setResultUnlessDone(future, done.result());
        } catch (error) {
          setExceptionUnlessDone(future, error);
        }
      }
    });
  } else if (isThenable(value)) {
    value.then(
      (result) => setResultUnlessDone(future, result),
      (error: unknown) => setExceptionUnlessDone(future, error),
    );
  } else {
    setResultUnlessDone(future, value);
  }
}

function setResultUnlessDone(future: Future<unknown>, value: unknown): void {
  if (!future.done()) future.setResult(value);
}

function setExceptionUnlessDone(future: Future<unknown>, error: unknown): void {
  // A cancelled coroutine's later failure is logged rather than lost, as in Tornado.
  if (!future.done() || future.cancelled()) futureSetExceptionUnlessCancelled(future, error);
}

function cancelUnlessDone(future: Future<unknown>): void {
  if (!future.done()) future.cancel();
}

/**
 * A coroutine's result. While the coroutine is paused it holds the Runner, so that the Runner
 * (and the generator) live as long as anyone can still await the result, even when the
 * Future being waited for is referenced weakly (Tornado's issues #1769 and #2229).
 */
class CoroutineFuture extends Future<unknown> {
  runner: Runner | null = null;
}

/**
 * Drives one generator: Tornado's `gen.Runner`.
 *
 * It resumes through native promise reactions (`then`), which carry the async context of the
 * step that paused (so `AsyncLocalStorage` flows through) and cost less than done-callbacks.
 * Only a `moment` goes through the loop's callback queue, which runs callbacks in whatever
 * context scheduled the batch: that path re-enters the coroutine's context explicitly.
 */
class Runner {
  readonly #gen: Generator<unknown, unknown, unknown>;
  readonly #result: CoroutineFuture;
  #onValue: ((value: unknown) => void) | null = null;
  #onError: ((error: unknown) => void) | null = null;
  // The context to resume in after a `moment`: created at the first one.
  #onMoment: (() => void) | null = null;

  constructor(gen: Generator<unknown, unknown, unknown>, result: CoroutineFuture) {
    this.#gen = gen;
    this.#result = result;
  }

  /** Runs the generator until it waits for something not yet done, or finishes. */
  run(value: unknown, error: unknown, failed: boolean): void {
    for (;;) {
      let step: IteratorResult<unknown, unknown>;
      try {
        step = failed ? this.#gen.throw(error) : this.#gen.next(value);
      } catch (thrown) {
        this.#result.runner = null;
        setExceptionUnlessDone(this.#result, thrown);
        return;
      }
      if (step.done) {
        this.#result.runner = null;
        settle(this.#result, step.value);
        return;
      }
      const yielded = step.value;
      if (yielded === null || yielded === undefined || yielded === moment) {
        this.#pause();
        if (this.#onMoment === null) {
          const resource = new AsyncResource("TornadoCoroutine");
          this.#onMoment = () =>
            resource.runInAsyncScope(this.run, this, undefined, undefined, false);
        }
        IOLoop.current().addCallback(this.#onMoment);
        return;
      }
      let future: Future<unknown>;
      if (yielded instanceof Future) {
        future = yielded;
      } else if (isThenable(yielded)) {
        this.#pause();
        // Promise.resolve adopts any thenable on a later microtask, so a thenable that calls
        // back synchronously cannot re-enter the generator while it is running.
        Promise.resolve(yielded).then(this.#onValue, this.#onError);
        return;
      } else {
        try {
          future = convertYielded(yielded);
        } catch (thrown) {
          value = undefined;
          error = thrown;
          failed = true;
          continue;
        }
      }
      if (!future.done()) {
        this.#pause();
        future.then(this.#onValue, this.#onError);
        return;
      }
      // Already done: go on at once, as Tornado does (only `moment` gives way).
      try {
        value = future.result();
        failed = false;
      } catch (thrown) {
        value = undefined;
        error = thrown;
        failed = true;
      }
    }
  }

  #pause(): void {
    if (this.#onValue !== null) return;
    this.#result.runner = this;
    this.#onValue = (value) => this.run(value, undefined, false);
    this.#onError = (error) => this.run(undefined, error, true);
  }
}

/** Options for {@link multi}. */
export interface MultiOptions {
  /**
   * Error classes not to log when they fail a child after the first failure.
   * @defaultValue []
   */
  quietExceptions?: ErrorClass | readonly ErrorClass[];
}

/** What {@link multi} resolves to for an array or object of awaitables. */
export type MultiResult<T> = { -readonly [K in keyof T]: Awaited<T[K]> };

function isQuiet(error: unknown, quiet: readonly ErrorClass[]): boolean {
  for (const cls of quiet) if (error instanceof cls) return true;
  return false;
}

function quietList(option: MultiOptions["quietExceptions"]): readonly ErrorClass[] {
  if (option === undefined) return [];
  return typeof option === "function" ? [option] : option;
}

/**
 * Waits for an array or plain object of awaitables (anything {@link convertYielded}
 * accepts, nested arrays and objects included) and resolves with their results in the same
 * shape: an array in the same order, or an object with the same keys.
 *
 * Resolves only when every child is done. If any failed, it fails with the first error in
 * input order; later errors are logged ("Multiple exceptions in yield list") unless they are
 * instances of `quietExceptions`. Cancelling the result does not cancel the children.
 * An empty array or object resolves at once with `[]` or `{}`.
 *
 * Unlike `Promise.all`, it does not settle before every child has, and does not drop the
 * other children's errors unseen.
 * @throws TypeError if `children` is neither an array nor a plain object;
 *   {@link BadYieldError} if a child cannot be awaited.
 */
export function multi<const T extends readonly unknown[] | Record<string, unknown>>(
  children: T,
  options: MultiOptions = {},
): Future<MultiResult<T>> {
  const quiet = quietList(options.quietExceptions);
  let keys: string[] | null = null;
  let values: readonly unknown[];
  if (Array.isArray(children)) values = children;
  else if (isPlainObject(children)) {
    keys = Object.keys(children);
    values = keys.map((key) => (children as Record<string, unknown>)[key]);
  } else {
    throw codedError(
      TypeError,
      `multi() needs an array or a plain object, got ${describe(children)}`,
      "ERR_INVALID_ARG_TYPE",
    );
  }
  const futures: Future<unknown>[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) futures[i] = convertYielded(values[i]);
  const result = new Future<MultiResult<T>>();
  if (futures.length === 0) {
    result.setResult((keys === null ? [] : {}) as MultiResult<T>);
    return result;
  }
  // The same Future may appear more than once: wait for each only once.
  const unique = new Set(futures);
  let pending = unique.size;
  const collect = (): void => {
    const results: unknown[] = new Array(futures.length);
    let failed = false;
    let firstError: unknown;
    let reported: Set<Future<unknown>> | null = null;
    for (let i = 0; i < futures.length; i++) {
      const future = futures[i]!;
      try {
        results[i] = future.result();
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
          reported = new Set([future]);
        } else if (!reported!.has(future)) {
          reported!.add(future);
          if (!isQuiet(error, quiet)) appLog.error("Multiple exceptions in yield list", error);
        }
      }
    }
    if (failed) {
      if (!result.done() || result.cancelled())
        futureSetExceptionUnlessCancelled(result, firstError);
      return;
    }
    if (result.done()) return;
    if (keys === null) result.setResult(results as MultiResult<T>);
    else {
      const object: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) object[keys[i]!] = results[i];
      result.setResult(object as MultiResult<T>);
    }
  };
  const onDone = (): void => {
    if (--pending === 0) collect();
  };
  for (const future of unique) futureAddDoneCallback(future, onDone);
  return result;
}

/** Options for {@link withTimeout}. */
export interface WithTimeoutOptions {
  /**
   * Error classes not to log when the awaited thing fails after the timeout.
   * `CancelledError` is never logged. @defaultValue []
   */
  quietExceptions?: ErrorClass | readonly ErrorClass[];
}

/**
 * Waits for `awaitable` with a time limit.
 *
 * The returned Future follows `awaitable`, or fails with `TimeoutError("Timeout")` if it is
 * not done by then. The awaited thing is **not** cancelled or otherwise touched, so it can be
 * awaited again; if it fails after the timeout, its error is logged unless it is a
 * `CancelledError` or an instance of `quietExceptions`.
 *
 * @param timeout - ms, or `{ deadline }` on `IOLoop.time()`'s clock; `Infinity` for none. A
 *   timeout already past still lets an awaitable that is done (or a Promise already settled)
 *   win: the limit is checked on the next timer tick.
 * @param awaitable - a Promise, a Future, or anything {@link convertYielded} accepts.
 * @throws TypeError / RangeError for a malformed timeout; {@link BadYieldError} for an
 *   awaitable that is not.
 *
 * @example
 * ```ts
 * const response = await withTimeout(5_000, fetch(url));
 * ```
 */
export function withTimeout<T>(
  timeout: Timeout,
  awaitable: T,
  options: WithTimeoutOptions = {},
): Future<Awaited<T>> {
  const loop = IOLoop.current();
  const deadline = deadlineOf(timeout, loop);
  const quiet = quietList(options.quietExceptions);
  const inner = convertYielded(awaitable) as Future<Awaited<T>>;
  const result = new Future<Awaited<T>>();
  chainFuture(inner, result);
  if (result.done() || deadline === null) return result;
  const timer = new DeadlineTimer(timeout, deadline, loop, () => {
    if (result.done()) return;
    result.setException(new TimeoutError("Timeout"));
    futureAddDoneCallback(inner, (late) => {
      if (late.cancelled()) return;
      const error = late.exception();
      if (error === undefined || error instanceof CancelledError || isQuiet(error, quiet)) return;
      appLog.error("Exception in Future %s after timeout", String(late), error);
    });
  });
  // Done first (or cancelled by the caller): the timer is no longer needed.
  futureAddDoneCallback(result, () => timer.cancel());
  return result;
}

class SleepFuture extends Future<void> {
  timer: DeadlineTimer | null = null;

  /** Cancelling a sleep also clears its timer. */
  override cancel(message?: string): boolean {
    if (!super.cancel(message)) return false;
    this.timer?.cancel();
    this.timer = null;
    return true;
  }
}

function wake(future: SleepFuture): void {
  future.timer = null;
  if (!future.done()) future.setResult(undefined);
}

/**
 * A Future that resolves after `ms` milliseconds: the non-blocking way to pause a coroutine.
 * Cancelling it clears its timer.
 * @param ms - the delay in ms; 0 or less resolves on the next timer tick; `Infinity` never.
 * @throws TypeError if `ms` is not a number; RangeError if NaN.
 */
export function sleep(ms: number): Future<void> {
  if (typeof ms !== "number") {
    throw codedError(
      TypeError,
      `sleep() needs a number of ms, got ${describe(ms)}`,
      "ERR_INVALID_ARG_TYPE",
    );
  }
  const loop = IOLoop.current();
  const deadline = deadlineOf(ms, loop);
  const future = new SleepFuture();
  if (deadline !== null) future.timer = new DeadlineTimer(ms, deadline, loop, () => wake(future));
  return future;
}

interface WaitEntry<T> {
  readonly index: number | string;
  readonly source: PromiseLike<T>;
  readonly future: Future<T>;
}

/**
 * Gives the results of several awaitables in the order they complete.
 *
 * `await Promise.all([a, b])` (or `yield [a, b]`) waits for all and fails as a whole; a
 * WaitIterator hands out each result (or error) as soon as it is ready, and says which
 * input it came from through {@link WaitIterator.currentIndex} (position, or key when built
 * from an object) and {@link WaitIterator.currentFuture}.
 *
 * @example
 * ```ts
 * const it = new WaitIterator(fetch(a), fetch(b));
 * while (!it.done()) {
 *   try {
 *     const response = await it.next();
 *     console.log(`result ${response.status} from input ${it.currentIndex}`);
 *   } catch (error) {
 *     console.log(`error ${error} from input ${it.currentIndex}`);
 *   }
 * }
 * // or: for await (const response of new WaitIterator(...)) { ... }
 * // which stops at the first error.
 * ```
 */
export class WaitIterator<T = unknown> implements AsyncIterable<T> {
  /** Which input the last result came from: its position, or its key. Null when done. */
  currentIndex: number | string | null = null;
  /** The input (as given) the last result came from. Null when done. */
  currentFuture: PromiseLike<T> | null = null;
  readonly #finished: WaitEntry<T>[] = [];
  #finishedHead = 0;
  #remaining = 0;
  #running: Future<T> | null = null;

  /**
   * @param awaitables - Futures or Promises, as separate arguments, or one plain object of
   *   them (then {@link currentIndex} is a key).
   * @throws TypeError if an argument is not awaitable, or positional awaitables and an
   *   object are mixed.
   */
  constructor(...awaitables: PromiseLike<T>[]);
  constructor(awaitables: Record<string, PromiseLike<T>>);
  constructor(...args: unknown[]) {
    let entries: [number | string, unknown][];
    if (args.length === 1 && isPlainObject(args[0]) && !isThenable(args[0])) {
      entries = Object.entries(args[0]);
    } else {
      entries = args.map((arg, i) => [i, arg]);
      if (args.some((arg) => isPlainObject(arg) && !isThenable(arg))) {
        throw codedError(
          TypeError,
          "WaitIterator takes awaitables or one object of them, not both",
          "ERR_INVALID_ARG_TYPE",
        );
      }
    }
    for (const [index, source] of entries) {
      if (!isThenable(source)) {
        throw codedError(
          TypeError,
          `WaitIterator input ${String(index)} is not awaitable: ${describe(source)}`,
          "ERR_INVALID_ARG_TYPE",
        );
      }
    }
    this.#remaining = entries.length;
    for (const [index, source] of entries) {
      const thenable = source as PromiseLike<T>;
      const future =
        thenable instanceof Future
          ? (thenable as Future<T>)
          : (convertYielded(thenable) as Future<T>);
      const entry: WaitEntry<T> = { index, source: thenable, future };
      futureAddDoneCallback(future, () => this.#onDone(entry));
    }
  }

  /** True when every result has been handed out (then the `current*` fields are cleared). */
  done(): boolean {
    if (this.#finishedHead < this.#finished.length || this.#remaining > 0) return false;
    this.currentIndex = null;
    this.currentFuture = null;
    return true;
  }

  /**
   * A Future of the next result to come, in completion order (a new Future, not one of the
   * inputs). It fails with that input's error.
   */
  next(): Future<T> {
    const running = new Future<T>();
    this.#running = running;
    if (this.#finishedHead < this.#finished.length) {
      const entry = this.#finished[this.#finishedHead]!;
      this.#finished[this.#finishedHead++] = undefined as unknown as WaitEntry<T>;
      if (this.#finishedHead === this.#finished.length) {
        this.#finished.length = 0;
        this.#finishedHead = 0;
      }
      return this.#hand(entry);
    }
    return running;
  }

  #onDone(entry: WaitEntry<T>): void {
    if (this.#running !== null && !this.#running.done()) this.#hand(entry);
    else this.#finished.push(entry);
  }

  #hand(entry: WaitEntry<T>): Future<T> {
    const running = this.#running!;
    this.#running = null;
    chainFuture(entry.future, running);
    this.currentFuture = entry.source;
    this.currentIndex = entry.index;
    this.#remaining--;
    return running;
  }

  /** Iterates with `for await`, in completion order; the loop throws at the first error. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: async (): Promise<IteratorResult<T, undefined>> => {
        if (this.done()) return { value: undefined, done: true };
        return { value: await this.next(), done: false };
      },
    };
  }
}
