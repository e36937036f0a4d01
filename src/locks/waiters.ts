/**
 * Internal bookkeeping shared by `locks`, `queues` and `gen`: timeouts given as a duration or a
 * `{ deadline }`, and the FIFO list of pending waiters.
 *
 * A waiter is a {@link Future} that is also a node of a doubly linked list. However it ends
 * (handed a result by its owner, timed out, cancelled by its holder, or settled from outside)
 * it unlinks itself and clears its timer, so the list holds exactly the live waiters: O(1) per
 * operation, with no dead entries to sweep (Tornado keeps timed-out waiters in a deque and
 * compacts it every 100 timeouts).
 *
 * Not a public module: the package's entry points do not export this file.
 */

import { Future } from "../concurrent.js";
import { IOLoop, type TimeoutHandle } from "../ioloop.js";
import { TimeoutError } from "../util.js";

/**
 * A timeout: a number is a duration in milliseconds from now; `{ deadline }` is an absolute
 * time on `IOLoop.time()`'s clock. `Infinity` (either form) means no timeout. A duration of
 * zero or less, or a deadline already past, means "do not wait": the operation completes or
 * fails at once.
 */
export type Timeout = number | { readonly deadline: number };

/**
 * Converts a {@link Timeout} to an absolute deadline on `loop.time()`'s clock.
 * @returns the deadline, or null for no timeout (`undefined`, `null` or `Infinity`).
 * @throws TypeError if `timeout` is neither a number nor `{ deadline: number }`;
 *   RangeError if it is NaN.
 */
export function deadlineOf(timeout: Timeout | null | undefined, loop: IOLoop): number | null {
  if (timeout === undefined || timeout === null) return null;
  let value: unknown;
  let relative: boolean;
  if (typeof timeout === "number") {
    value = timeout;
    relative = true;
  } else if (typeof timeout === "object") {
    value = (timeout as { deadline?: unknown }).deadline;
    relative = false;
  } else {
    throw codedError(
      TypeError,
      `timeout must be a number of ms or { deadline }, got ${typeof timeout}`,
      "ERR_INVALID_ARG_TYPE",
    );
  }
  if (typeof value !== "number") {
    throw codedError(
      TypeError,
      `timeout.deadline must be a number, got ${typeof value}`,
      "ERR_INVALID_ARG_TYPE",
    );
  }
  if (Number.isNaN(value)) {
    throw codedError(RangeError, "timeout must not be NaN", "ERR_OUT_OF_RANGE");
  }
  if (value === Number.POSITIVE_INFINITY) return null;
  return relative ? loop.time() + value : value;
}

/** True if `deadline` (from {@link deadlineOf}) has already passed. */
export function expired(deadline: number | null, loop: IOLoop): boolean {
  return deadline !== null && deadline <= loop.time();
}

/** Builds a built-in error (TypeError, RangeError, Error) carrying a Node-style `code`. */
export function codedError<E extends Error>(
  Ctor: new (message: string) => E,
  message: string,
  code: string,
): E & { code: string } {
  const error = new Ctor(message) as E & { code: string };
  error.code = code;
  return error;
}

/** A Future already resolved with `value`. */
export function resolvedFuture<T>(value: T): Future<T> {
  const future = new Future<T>();
  future.setResult(value);
  return future;
}

/** A Future already failed with `error`. */
export function failedFuture<T>(error: unknown): Future<T> {
  const future = new Future<T>();
  future.setException(error);
  return future;
}

/** What a waiter does when its deadline passes. */
export const TIMEOUT_RAISES = 0;
/** ...or resolves `false` (Condition.wait). */
export const TIMEOUT_RESOLVES_FALSE = 1;

// setTimeout fires at once (with a warning) past 2^31-1 ms; longer waits are re-armed.
const MAX_TIMER_DELAY = 0x7fffffff;

/**
 * The delay to give `setTimeout` for `deadline`: whole milliseconds, rounded up. Node keeps one
 * timer list per distinct delay, so fractional delays computed from a clock would make a list
 * per timer; whole ones keep waits of the same timeout in one list, firing in the order set.
 */
function timerDelay(deadline: number, loop: IOLoop): number {
  return Math.min(Math.max(0, Math.ceil(deadline - loop.time())), MAX_TIMER_DELAY);
}

/**
 * The first timer delay for a wait given `timeout`: a duration is used as given (rounded up),
 * not recomputed from the clock, so that waits with the same timeout share a timer list and
 * time out in the order they began; a `{ deadline }` is measured from now.
 */
function firstDelay(timeout: Timeout | null | undefined, deadline: number, loop: IOLoop): number {
  if (typeof timeout === "number")
    return Math.min(Math.max(0, Math.ceil(timeout)), MAX_TIMER_DELAY);
  return timerDelay(deadline, loop);
}

/**
 * A pending operation: a Future that sits in one {@link WaiterList} until it is done.
 * @internal
 */
export class Waiter<T> extends Future<T> {
  prev: Waiter<T> | null = null;
  next: Waiter<T> | null = null;
  list: WaiterList<T> | null = null;
  timer: TimeoutHandle | null = null;
  deadline = 0;
  readonly onTimeout: number;
  /** The item a blocked `Queue.put` carries. */
  item: unknown = undefined;

  constructor(onTimeout: number = TIMEOUT_RAISES) {
    super();
    this.onTimeout = onTimeout;
  }

  override setResult(value: T): void {
    super.setResult(value);
    this.#detach();
  }

  override setException(error: unknown): void {
    super.setException(error);
    this.#detach();
  }

  /** Cancelling a waiter takes it out of its list at once: it is never handed anything. */
  override cancel(message?: string): boolean {
    if (!super.cancel(message)) return false;
    this.#detach();
    return true;
  }

  /** Starts the timer that times this waiter out at `deadline`, `delay` ms from now. */
  arm(deadline: number, delay: number, loop: IOLoop): void {
    this.deadline = deadline;
    this.timer = loop.callLater(delay, fireTimeout, this, loop);
  }

  #detach(): void {
    if (this.list !== null) this.list.remove(this);
    if (this.timer !== null) {
      IOLoop.current().removeTimeout(this.timer);
      this.timer = null;
    }
  }
}

function fireTimeout(waiter: Waiter<any>, loop: IOLoop): void {
  waiter.timer = null;
  if (waiter.done()) return;
  const remaining = waiter.deadline - loop.time();
  // Only a wait longer than the longest timer comes back early: arm the rest.
  if (remaining > 1000) {
    waiter.arm(waiter.deadline, timerDelay(waiter.deadline, loop), loop);
    return;
  }
  if (waiter.onTimeout === TIMEOUT_RESOLVES_FALSE) waiter.setResult(false);
  else waiter.setException(new TimeoutError("Timeout"));
}

/**
 * The live waiters of a lock or queue, oldest first. Every operation is O(1).
 * @internal
 */
export class WaiterList<T> {
  head: Waiter<T> | null = null;
  tail: Waiter<T> | null = null;
  size = 0;

  push(waiter: Waiter<T>): void {
    waiter.list = this;
    waiter.prev = this.tail;
    waiter.next = null;
    if (this.tail === null) this.head = waiter;
    else this.tail.next = waiter;
    this.tail = waiter;
    this.size++;
  }

  remove(waiter: Waiter<T>): void {
    if (waiter.list !== this) return;
    if (waiter.prev === null) this.head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === null) this.tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = waiter.next = null;
    waiter.list = null;
    this.size--;
  }

  /** Unlinks and returns the oldest waiter that is still pending, or null. */
  shift(): Waiter<T> | null {
    let waiter = this.head;
    while (waiter !== null) {
      this.remove(waiter);
      // A waiter is unlinked when it completes, so this loop runs once; it only guards
      // against a subclass of Future that settles without our overrides.
      if (!waiter.done()) return waiter;
      waiter = this.head;
    }
    return null;
  }

  /**
   * Adds a waiter for an operation that could not complete at once, timing it out at
   * `deadline` (or never, if null), which {@link deadlineOf} computed from `timeout`.
   */
  wait(
    waiter: Waiter<T>,
    timeout: Timeout | null | undefined,
    deadline: number | null,
    loop: IOLoop,
  ): Waiter<T> {
    this.push(waiter);
    if (deadline !== null) waiter.arm(deadline, firstDelay(timeout, deadline, loop), loop);
    return waiter;
  }
}

/**
 * Runs `fn` once at `deadline` on `loop.time()`'s clock (at once-ish, on the next timer tick,
 * if already past), re-arming past the longest delay `setTimeout` supports.
 * @internal
 */
export class DeadlineTimer {
  #handle: TimeoutHandle | null = null;
  readonly #deadline: number;
  readonly #loop: IOLoop;
  readonly #fn: () => void;

  constructor(timeout: Timeout | null | undefined, deadline: number, loop: IOLoop, fn: () => void) {
    this.#deadline = deadline;
    this.#loop = loop;
    this.#fn = fn;
    this.#arm(firstDelay(timeout, deadline, loop));
  }

  #arm(delay: number): void {
    this.#handle = this.#loop.callLater(delay, DeadlineTimer.#fire, this);
  }

  static #fire(timer: DeadlineTimer): void {
    timer.#handle = null;
    if (timer.#deadline - timer.#loop.time() > 1000) {
      timer.#arm(timerDelay(timer.#deadline, timer.#loop));
    } else timer.#fn();
  }

  /** Cancels the timer; safe after it fired. */
  cancel(): void {
    if (this.#handle !== null) {
      this.#loop.removeTimeout(this.#handle);
      this.#handle = null;
    }
  }
}
