/**
 * Synchronization primitives for coroutines: Tornado's `tornado.locks`.
 *
 * Like `asyncio`'s (and Python's `threading`) primitives, but single-threaded: they coordinate
 * coroutines (async functions) running on one {@link IOLoop}, not threads. Waiters are served
 * first come, first served. Every wait takes an optional timeout: a number is a duration in
 * ms, `{ deadline }` an absolute time on `IOLoop.time()`'s clock; a timeout of 0 (or a past
 * deadline) completes or fails at once instead of waiting.
 *
 * A timed-out or cancelled waiter leaves the wait list at once, so a loop such as
 * `while (!(await condition.wait(100))) {}` never accumulates dead waiters.
 *
 * Main exports: {@link Condition}, {@link Event}, {@link Semaphore},
 * {@link BoundedSemaphore}, {@link Lock}, {@link Releaser}, {@link ReleaseError}.
 */

import type { Future } from "./concurrent.js";
import { IOLoop } from "./ioloop.js";
import {
  codedError,
  deadlineOf,
  expired,
  failedFuture,
  resolvedFuture,
  TIMEOUT_RESOLVES_FALSE,
  type Timeout,
  Waiter,
  WaiterList,
} from "./locks/waiters.js";
import { TimeoutError } from "./util.js";

export type { Timeout } from "./locks/waiters.js";

/**
 * Raised by `release()` on a {@link Lock} that is not locked, or on a
 * {@link BoundedSemaphore} released more times than it was acquired.
 * `code` is `ERR_LOCK_NOT_LOCKED` or `ERR_SEMAPHORE_OVER_RELEASED`.
 */
export class ReleaseError extends Error {
  override name = "ReleaseError";
  readonly code: "ERR_LOCK_NOT_LOCKED" | "ERR_SEMAPHORE_OVER_RELEASED";
  constructor(
    message: string,
    code: "ERR_LOCK_NOT_LOCKED" | "ERR_SEMAPHORE_OVER_RELEASED",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
  }
}

/**
 * What `acquire()` resolves to: releases what was acquired, once. Use it with `await using`
 * (or `using`), or call {@link Releaser.release} yourself.
 *
 * @example
 * ```ts
 * {
 *   await using _ = await lock.acquire();
 *   // ... the lock is held here ...
 * } // released here, even if the block threw
 * ```
 */
export interface Releaser extends Disposable, AsyncDisposable {
  /** Releases the lock or semaphore. Calls after the first do nothing. */
  release(): void;
}

class ReleasingHandle implements Releaser {
  #owner: { release(): void } | null;

  constructor(owner: { release(): void }) {
    this.#owner = owner;
  }

  release(): void {
    const owner = this.#owner;
    if (owner === null) return;
    this.#owner = null;
    owner.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

function checkCount(n: unknown, what: string): number {
  if (typeof n !== "number") {
    throw codedError(
      TypeError,
      `${what} must be a number, got ${typeof n}`,
      "ERR_INVALID_ARG_TYPE",
    );
  }
  if (!Number.isSafeInteger(n) || n < 0) {
    throw codedError(RangeError, `${what} must be an integer >= 0, got ${n}`, "ERR_OUT_OF_RANGE");
  }
  return n;
}

/**
 * Lets coroutines wait until another one notifies them.
 *
 * Like Python's `threading.Condition`, but with no underlying lock to acquire. A notified
 * waiter resumes on a later microtask, not inside {@link Condition.notify}.
 *
 * @example
 * ```ts
 * const condition = new Condition();
 * async function waiter() {
 *   console.log("I'll wait right here");
 *   await condition.wait();
 *   console.log("I'm done waiting");
 * }
 * async function notifier() {
 *   console.log("About to notify");
 *   condition.notify();
 *   console.log("Done notifying");
 * }
 * await Promise.all([waiter(), notifier()]);
 * ```
 */
export class Condition {
  readonly #waiters = new WaiterList<boolean>();

  /**
   * Waits for {@link notify}.
   * @param timeout - ms, or `{ deadline }` on `IOLoop.time()`'s clock; none by default.
   *   0 resolves `false` at once.
   * @returns a Future resolved with `true` when notified, `false` at the timeout. Cancelling
   *   it withdraws the wait.
   * @throws TypeError / RangeError for a malformed timeout.
   */
  wait(timeout?: Timeout | null): Future<boolean> {
    const loop = IOLoop.current();
    const deadline = deadlineOf(timeout, loop);
    if (expired(deadline, loop)) return resolvedFuture(false);
    return this.#waiters.wait(new Waiter<boolean>(TIMEOUT_RESOLVES_FALSE), timeout, deadline, loop);
  }

  /**
   * Wakes up to `n` waiters, oldest first. Waiters that timed out or were cancelled are not
   * counted.
   * @param n - how many to wake. @defaultValue 1
   * @throws RangeError if `n` is negative or not an integer.
   */
  notify(n = 1): void {
    checkCount(n, "n");
    // Take the waiters first, then resolve them, so that a waiter's callback that calls
    // notify() again sees a consistent list.
    const woken: Waiter<boolean>[] = [];
    while (woken.length < n) {
      const waiter = this.#waiters.shift();
      if (waiter === null) break;
      woken.push(waiter);
    }
    for (const waiter of woken) waiter.setResult(true);
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    this.notify(this.#waiters.size);
  }

  /** How many coroutines are waiting (timed-out and cancelled ones are gone at once). */
  get waiters(): number {
    return this.#waiters.size;
  }

  toString(): string {
    return this.#waiters.size > 0 ? `<Condition waiters[${this.#waiters.size}]>` : "<Condition>";
  }
}

/**
 * A flag that coroutines can wait for: {@link Event.wait} blocks until {@link Event.set}.
 * Once set, waits return at once until {@link Event.clear}.
 *
 * @example
 * ```ts
 * const event = new Event();
 * async function waiter() {
 *   await event.wait();     // blocks until set() below
 *   await event.wait();     // returns at once
 * }
 * const done = waiter();
 * event.set();
 * await done;
 * ```
 */
export class Event {
  #value = false;
  readonly #waiters = new WaiterList<void>();

  /** True if the flag is set. */
  isSet(): boolean {
    return this.#value;
  }

  /** Sets the flag and wakes every waiter. Later waits return at once. */
  set(): void {
    if (this.#value) return;
    this.#value = true;
    for (let waiter = this.#waiters.shift(); waiter !== null; waiter = this.#waiters.shift()) {
      waiter.setResult(undefined);
    }
  }

  /** Clears the flag: later waits block until {@link set}. */
  clear(): void {
    this.#value = false;
  }

  /**
   * Waits until the flag is set.
   * @param timeout - ms, or `{ deadline }`; none by default. 0 fails at once unless set.
   * @returns a Future resolved when the flag is set; it fails with {@link TimeoutError}
   *   at the timeout. Cancelling it withdraws the wait.
   * @throws TypeError / RangeError for a malformed timeout.
   */
  wait(timeout?: Timeout | null): Future<void> {
    const loop = IOLoop.current();
    const deadline = deadlineOf(timeout, loop);
    if (this.#value) return resolvedFuture<void>(undefined);
    if (expired(deadline, loop)) return failedFuture(new TimeoutError("Timeout"));
    return this.#waiters.wait(new Waiter<void>(), timeout, deadline, loop);
  }

  /** How many coroutines are waiting. */
  get waiters(): number {
    return this.#waiters.size;
  }

  toString(): string {
    return `<Event ${this.#value ? "set" : "clear"}>`;
  }
}

/**
 * A counter that coroutines decrement with {@link Semaphore.acquire} (waiting while it is 0)
 * and increment with {@link Semaphore.release}. Limits concurrent access to a resource.
 * Waiters acquire in FIFO order.
 *
 * @example
 * ```ts
 * const sem = new Semaphore(2); // two workers at a time
 * async function worker(id: number) {
 *   await using _ = await sem.acquire();
 *   console.log(`Worker ${id} is working`);
 *   await useSomeResource();
 * } // released here
 * await Promise.all([worker(0), worker(1), worker(2)]);
 * ```
 */
export class Semaphore {
  #value: number;
  readonly #waiters = new WaiterList<Releaser>();

  /**
   * @param value - the initial counter. @defaultValue 1
   * @throws TypeError if not a number; RangeError if negative or not an integer.
   */
  constructor(value = 1) {
    this.#value = checkCount(value, "Semaphore value");
  }

  /** The current counter: how many more acquires would succeed at once. */
  get value(): number {
    return this.#value;
  }

  /**
   * Decrements the counter, waiting while it is 0.
   * @param timeout - ms, or `{ deadline }`; none by default. 0 fails at once if the counter
   *   is 0.
   * @returns a Future resolved with a {@link Releaser} once acquired; it fails with
   *   {@link TimeoutError} at the timeout (the counter is then unchanged). Cancelling it
   *   withdraws the wait.
   * @throws TypeError / RangeError for a malformed timeout.
   */
  acquire(timeout?: Timeout | null): Future<Releaser> {
    const loop = IOLoop.current();
    const deadline = deadlineOf(timeout, loop);
    if (this.#value > 0) {
      this.#value--;
      return resolvedFuture<Releaser>(new ReleasingHandle(this));
    }
    if (expired(deadline, loop)) return failedFuture(new TimeoutError("Timeout"));
    return this.#waiters.wait(new Waiter<Releaser>(), timeout, deadline, loop);
  }

  /**
   * Increments the counter, or hands it straight to the oldest waiter.
   * @throws {@link ReleaseError} from {@link BoundedSemaphore} when over-released.
   */
  release(): void {
    const waiter = this.#waiters.shift();
    if (waiter !== null) waiter.setResult(new ReleasingHandle(this));
    else this.#value++;
  }

  /**
   * Runs `fn` holding the semaphore: acquires (with `timeout`), awaits `fn()`, releases.
   * @returns what `fn` returns (awaited).
   * @throws {@link TimeoutError} if not acquired in time; whatever `fn` throws.
   */
  async run<R>(fn: () => R | PromiseLike<R>, timeout?: Timeout | null): Promise<Awaited<R>> {
    const releaser = await this.acquire(timeout);
    try {
      return await fn();
    } finally {
      releaser.release();
    }
  }

  /** How many coroutines are waiting to acquire. */
  get waiters(): number {
    return this.#waiters.size;
  }

  toString(): string {
    let state = this.#value === 0 ? "locked" : `unlocked,value:${this.#value}`;
    if (this.#waiters.size > 0) state += `,waiters:${this.#waiters.size}`;
    return `<${this.constructor.name} [${state}]>`;
  }
}

/**
 * A {@link Semaphore} that refuses to be released above its initial value: guarding a
 * resource of fixed capacity, an extra release is a bug.
 */
export class BoundedSemaphore extends Semaphore {
  readonly #initialValue: number;

  /**
   * @param value - the initial and maximum counter. @defaultValue 1
   * @throws TypeError if not a number; RangeError if negative or not an integer.
   */
  constructor(value = 1) {
    super(value);
    this.#initialValue = value;
  }

  /**
   * Increments the counter (or wakes a waiter).
   * @throws {@link ReleaseError} ("Semaphore released too many times") if the counter is
   *   already at its initial value.
   */
  override release(): void {
    if (this.value >= this.#initialValue) {
      throw new ReleaseError("Semaphore released too many times", "ERR_SEMAPHORE_OVER_RELEASED");
    }
    super.release();
  }
}

/**
 * A mutual-exclusion lock for coroutines. It starts unlocked; {@link Lock.acquire} locks it,
 * or waits (FIFO) while another coroutine holds it.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * async function f() {
 *   await using _ = await lock.acquire();
 *   // ... only one coroutine at a time runs here ...
 * }
 * // or: await lock.run(async () => { ... });
 * ```
 */
export class Lock {
  #locked = false;
  readonly #waiters = new WaiterList<Releaser>();

  /** True while some coroutine holds the lock. */
  get locked(): boolean {
    return this.#locked;
  }

  /**
   * Locks, waiting while another coroutine holds the lock.
   * @param timeout - ms, or `{ deadline }`; none by default. 0 fails at once if locked.
   * @returns a Future resolved with a {@link Releaser} once locked; it fails with
   *   {@link TimeoutError} at the timeout. Cancelling it withdraws the wait.
   * @throws TypeError / RangeError for a malformed timeout.
   */
  acquire(timeout?: Timeout | null): Future<Releaser> {
    const loop = IOLoop.current();
    const deadline = deadlineOf(timeout, loop);
    if (!this.#locked) {
      this.#locked = true;
      return resolvedFuture<Releaser>(new ReleasingHandle(this));
    }
    if (expired(deadline, loop)) return failedFuture(new TimeoutError("Timeout"));
    return this.#waiters.wait(new Waiter<Releaser>(), timeout, deadline, loop);
  }

  /**
   * Unlocks; the oldest waiter, if any, gets the lock.
   * @throws {@link ReleaseError} ("release unlocked lock") if not locked.
   */
  release(): void {
    if (!this.#locked) throw new ReleaseError("release unlocked lock", "ERR_LOCK_NOT_LOCKED");
    const waiter = this.#waiters.shift();
    if (waiter !== null) waiter.setResult(new ReleasingHandle(this));
    else this.#locked = false;
  }

  /**
   * Runs `fn` holding the lock: acquires (with `timeout`), awaits `fn()`, releases.
   * @returns what `fn` returns (awaited).
   * @throws {@link TimeoutError} if not acquired in time; whatever `fn` throws.
   */
  async run<R>(fn: () => R | PromiseLike<R>, timeout?: Timeout | null): Promise<Awaited<R>> {
    const releaser = await this.acquire(timeout);
    try {
      return await fn();
    } finally {
      releaser.release();
    }
  }

  /** How many coroutines are waiting for the lock. */
  get waiters(): number {
    return this.#waiters.size;
  }

  toString(): string {
    const waiters = this.#waiters.size > 0 ? `,waiters:${this.#waiters.size}` : "";
    return `<Lock [${this.#locked ? "locked" : "unlocked"}${waiters}]>`;
  }
}
