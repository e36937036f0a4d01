/**
 * The timeouts of an `IOLoop`: a binary heap ordered by (deadline, order added), served by
 * one Node timer armed for the earliest deadline (internal to `tornado-ts/ioloop`).
 *
 * Why not one `setTimeout` per timeout: Node timers count whole milliseconds on a cached,
 * truncated clock, so they may fire up to 1 ms early and, once one is re-armed, out of order
 * with its neighbours. Here a timeout never runs before its deadline on `IOLoop.time()`'s
 * clock; timeouts due together run in deadline order, ties in the order they were added
 * (as Tornado's own heap did); and a removed timeout costs a flag, not a timer.
 *
 * @internal
 */

import { type Callback, runCallback } from "./common.js";

/** Node clamps timer delays to 32 bits (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;
/** Removed timeouts stay in the heap until this many (and half of it) pile up. */
const COMPACT_THRESHOLD = 512;

/**
 * An opaque handle for a scheduled timeout, for `IOLoop.removeTimeout`.
 *
 * Like a Node timer, a pending timeout keeps the process alive; {@link TimeoutHandle.unref}
 * lets the process exit while it is pending.
 */
export interface TimeoutHandle {
  /** Lets the process exit while this timeout is pending (as `Timeout#unref`). */
  unref(): this;
  /** Undoes {@link TimeoutHandle.unref}. */
  ref(): this;
  /** The time the callback is due, on `IOLoop.time()`'s clock, in ms. */
  readonly deadline: number;
}

const IN_HEAP = 0;
const DUE = 1;
const DONE = 2;

/** One scheduled call. */
export class Timeout implements TimeoutHandle {
  readonly deadline: number;
  readonly order: number;
  readonly fn: Callback;
  readonly args: unknown[];
  queue: TimerQueue | null;
  state = IN_HEAP;
  refed = true;

  constructor(queue: TimerQueue, deadline: number, order: number, fn: Callback, args: unknown[]) {
    this.deadline = deadline;
    this.order = order;
    this.fn = fn;
    this.args = args;
    this.queue = queue;
  }

  unref(): this {
    if (this.refed) {
      this.refed = false;
      this.queue?.refChanged(-1);
    }
    return this;
  }

  ref(): this {
    if (!this.refed) {
      this.refed = true;
      this.queue?.refChanged(1);
    }
    return this;
  }
}

function before(a: Timeout, b: Timeout): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
}

/** The pending timeouts of one loop. */
export class TimerQueue {
  #heap: Timeout[] = [];
  /** Removed timeouts still in the heap. */
  #removed = 0;
  /** Pending (not removed) timeouts that keep the process alive. */
  #refed = 0;
  #order = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The deadline the Node timer is armed for. */
  #armedFor = Number.POSITIVE_INFINITY;
  /** The timeouts of the round being run by #fire, if any. */
  #due: Timeout[] | null = null;
  readonly #onTimer: () => void;

  constructor() {
    this.#onTimer = this.#fire.bind(this);
  }

  /** Timeouts scheduled and not yet run or removed. */
  get size(): number {
    return this.#heap.length - this.#removed;
  }

  add(deadline: number, fn: Callback, args: unknown[]): Timeout {
    const timeout = new Timeout(this, deadline, this.#order++, fn, args);
    this.#push(timeout);
    this.#refed++;
    if (deadline < this.#armedFor) this.#arm(deadline);
    else this.#updateRef();
    return timeout;
  }

  remove(timeout: Timeout): void {
    if (timeout.queue !== this || timeout.state === DONE) return;
    if (timeout.refed) this.#refed--;
    if (timeout.state === IN_HEAP) this.#removed++;
    timeout.state = DONE;
    timeout.queue = null;
    if (this.#heap.length === this.#removed) {
      // Only removed timeouts are left: drop them and the Node timer.
      for (const entry of this.#heap) entry.queue = null;
      this.#heap = [];
      this.#removed = 0;
      this.#disarm();
      return;
    }
    if (this.#removed >= COMPACT_THRESHOLD && this.#removed * 2 > this.#heap.length) {
      this.#compact();
    }
    this.#updateRef();
  }

  refChanged(delta: number): void {
    this.#refed += delta;
    this.#updateRef();
  }

  /** Drops every pending timeout, including those due in a round being run. */
  clear(): void {
    for (const timeout of this.#heap) {
      timeout.state = DONE;
      timeout.queue = null;
    }
    if (this.#due !== null) {
      for (const timeout of this.#due) {
        timeout.state = DONE;
        timeout.queue = null;
      }
    }
    this.#heap = [];
    this.#removed = 0;
    this.#refed = 0;
    this.#disarm();
  }

  #fire(): void {
    this.#timer = null;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    // Collect what is due first, then run it: a callback scheduling a timeout that is
    // already due does not run it in this round.
    let due: Timeout[] | null = null;
    this.#due = null;
    const heap = this.#heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      if (top.state === DONE) {
        this.#pop();
        this.#removed--;
        continue;
      }
      if (top.deadline > now) break;
      this.#pop();
      top.state = DUE;
      (due ??= []).push(top);
    }
    if (due !== null) {
      this.#due = due;
      for (const timeout of due) {
        if (timeout.state !== DUE) continue; // removed by an earlier callback of this round
        timeout.state = DONE;
        timeout.queue = null;
        if (timeout.refed) this.#refed--;
        runCallback(timeout.fn, timeout.args);
      }
      this.#due = null;
    }
    this.#rearm();
  }

  #rearm(): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.state === DONE) {
      this.#pop();
      this.#removed--;
    }
    if (heap.length === 0) this.#disarm();
    else if (heap[0]!.deadline < this.#armedFor) this.#arm(heap[0]!.deadline);
    else this.#updateRef();
  }

  #arm(deadline: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    // Whole milliseconds, rounded up; #fire re-arms if Node still fires a little early.
    const delay = Math.min(Math.max(1, Math.ceil(deadline - performance.now())), MAX_TIMER_DELAY);
    this.#timer = setTimeout(this.#onTimer, delay);
    this.#armedFor = deadline;
    this.#updateRef();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #updateRef(): void {
    const timer = this.#timer;
    if (timer === null) return;
    if (this.#refed > 0) timer.ref();
    else timer.unref();
  }

  #compact(): void {
    const live = this.#heap.filter((timeout) => timeout.state !== DONE);
    this.#heap = [];
    this.#removed = 0;
    for (const timeout of live) this.#push(timeout);
  }

  #push(timeout: Timeout): void {
    const heap = this.#heap;
    let index = heap.length;
    heap.push(timeout);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = heap[parent]!;
      if (!before(timeout, above)) break;
      heap[index] = above;
      index = parent;
    }
    heap[index] = timeout;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    const length = heap.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
  }
}
