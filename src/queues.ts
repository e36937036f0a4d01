/**
 * Asynchronous queues for coroutines: Tornado's `tornado.queues`.
 *
 * A {@link Queue} coordinates producer and consumer coroutines: `await q.put(item)` waits
 * while the queue is full, `await q.get()` while it is empty; {@link Queue.taskDone} and
 * {@link Queue.join} track when every item has been processed. {@link PriorityQueue} hands out
 * the lowest item first, {@link LifoQueue} the newest. Blocked producers and consumers are
 * served in FIFO order; one that times out or is cancelled leaves the line at once (a cancelled
 * `get` never swallows an item, a cancelled `put` never adds one).
 *
 * Like Tornado's, these queues belong to one thread's loop: from a worker thread, post a
 * message to the loop's thread rather than sharing the queue.
 *
 * Main exports: {@link Queue}, {@link PriorityQueue}, {@link LifoQueue}, {@link QueueEmpty},
 * {@link QueueFull}.
 *
 * @example
 * ```ts
 * const q = new Queue<number>(2);
 * async function consumer() {
 *   for await (const item of q) {
 *     try {
 *       console.log(`Doing work on ${item}`);
 *       await sleep(10);
 *     } finally {
 *       q.taskDone();
 *     }
 *   }
 * }
 * void consumer();                             // runs forever
 * for (let i = 0; i < 5; i++) await q.put(i);  // waits while the queue is full
 * await q.join();                              // every item processed
 * ```
 */

import type { Future } from "./concurrent.js";
import { IOLoop } from "./ioloop.js";
import { Event } from "./locks.js";
import {
  codedError,
  deadlineOf,
  expired,
  failedFuture,
  resolvedFuture,
  type Timeout,
  Waiter,
  WaiterList,
} from "./locks/waiters.js";
import { TimeoutError } from "./util.js";

export type { Timeout } from "./locks/waiters.js";

/** Raised by {@link Queue.getNowait} when the queue has no items. */
export class QueueEmpty extends Error {
  override name = "QueueEmpty";
  readonly code = "ERR_QUEUE_EMPTY";
  constructor(message = "Queue is empty", options?: ErrorOptions) {
    super(message, options);
  }
}

/** Raised by {@link Queue.putNowait} when the queue is at its maximum size. */
export class QueueFull extends Error {
  override name = "QueueFull";
  readonly code = "ERR_QUEUE_FULL";
  constructor(message = "Queue is full", options?: ErrorOptions) {
    super(message, options);
  }
}

/** A growable ring buffer: O(1) push and shift. */
class Deque<T> {
  #items: (T | undefined)[] = new Array(8);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  shift(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined; // let the item be collected
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  #grow(): void {
    const old = this.#items;
    const items: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.#size; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}

/**
 * A FIFO queue for coroutines.
 *
 * If `maxsize` is 0 (the default) the queue is unbounded. Subclasses change the order by
 * overriding {@link Queue._put}, {@link Queue._get} and {@link Queue._size}.
 *
 * @example
 * ```ts
 * const q = new Queue<string>();
 * q.putNowait("a");
 * console.log(await q.get()); // "a"
 * ```
 */
export class Queue<T = unknown> implements AsyncIterable<T> {
  readonly #maxsize: number;
  readonly #getters = new WaiterList<T>();
  readonly #putters = new WaiterList<void>();
  #unfinishedTasks = 0;
  readonly #finished = new Event();
  #items: Deque<T> | null = null;

  /**
   * @param maxsize - the most items the queue holds; 0 for no limit. A fraction is rounded
   *   up, as in Tornado. @defaultValue 0
   * @throws TypeError if `maxsize` is not a number; RangeError if negative or NaN.
   */
  constructor(maxsize = 0) {
    if (typeof maxsize !== "number") {
      throw codedError(
        TypeError,
        `maxsize must be a number, got ${maxsize === null ? "null" : typeof maxsize}`,
        "ERR_INVALID_ARG_TYPE",
      );
    }
    if (Number.isNaN(maxsize) || maxsize < 0) {
      throw codedError(RangeError, `maxsize can't be negative, got ${maxsize}`, "ERR_OUT_OF_RANGE");
    }
    this.#maxsize = maxsize;
    this.#finished.set();
  }

  /** The most items the queue holds (0: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** How many items are in the queue. */
  qsize(): number {
    return this._size();
  }

  /** True if the queue holds no items. */
  empty(): boolean {
    return this._size() === 0;
  }

  /** True if the queue holds `maxsize` items (never for an unbounded queue). */
  full(): boolean {
    return this.#maxsize !== 0 && this._size() >= this.#maxsize;
  }

  /**
   * Puts an item into the queue, waiting while it is full.
   * @param timeout - ms, or `{ deadline }` on `IOLoop.time()`'s clock; none by default.
   *   0 fails at once if the queue is full.
   * @returns a Future resolved once the item is in the queue (at once if there was room);
   *   it fails with {@link TimeoutError} at the timeout, and the item is then not added.
   *   Cancelling it withdraws the item.
   * @throws TypeError / RangeError for a malformed timeout.
   */
  put(item: T, timeout?: Timeout | null): Future<void> {
    const loop = IOLoop.current();
    const deadline = deadlineOf(timeout, loop);
    if (this.#tryPut(item)) return resolvedFuture<void>(undefined);
    if (expired(deadline, loop)) return failedFuture(new TimeoutError("Timeout"));
    const putter = new Waiter<void>();
    putter.item = item;
    return this.#putters.wait(putter, timeout, deadline, loop);
  }

  /**
   * Puts an item into the queue without waiting. A waiting consumer gets it at once (it
   * resumes on a later microtask).
   * @throws {@link QueueFull} if the queue is full.
   */
  putNowait(item: T): void {
    if (!this.#tryPut(item)) throw new QueueFull();
  }

  #tryPut(item: T): boolean {
    if (this.#getters.size > 0) {
      // Only an empty queue has waiting consumers. Store first: a comparator that throws
      // leaves the consumer waiting.
      this.#putInternal(item);
      this.#getters.shift()!.setResult(this._get());
      return true;
    }
    if (this.full()) return false;
    this.#putInternal(item);
    return true;
  }

  /**
   * Removes and returns an item, waiting while the queue is empty.
   * @param timeout - ms, or `{ deadline }` on `IOLoop.time()`'s clock; none by default.
   *   0 fails at once if the queue is empty.
   * @returns a Future resolved with the item; it fails with {@link TimeoutError} at the
   *   timeout. Cancelling it withdraws the request, and no item is lost.
   * @throws TypeError / RangeError for a malformed timeout.
   */
  get(timeout?: Timeout | null): Future<T> {
    const loop = IOLoop.current();
    const deadline = deadlineOf(timeout, loop);
    if (this.#canGet()) return resolvedFuture(this.#getInternal());
    if (expired(deadline, loop)) return failedFuture(new TimeoutError("Timeout"));
    return this.#getters.wait(new Waiter<T>(), timeout, deadline, loop);
  }

  /**
   * Removes and returns an item without waiting. A waiting producer's item enters the queue
   * in its place.
   * @throws {@link QueueEmpty} if the queue is empty.
   */
  getNowait(): T {
    if (!this.#canGet()) throw new QueueEmpty();
    return this.#getInternal();
  }

  #canGet(): boolean {
    return this._size() > 0 || this.#putters.size > 0;
  }

  #getInternal(): T {
    const putter = this.#putters.shift();
    if (putter !== null) {
      // Only a full queue has waiting producers: the oldest one's item takes the free slot
      // (before the get, so a PriorityQueue may hand out that very item).
      try {
        this.#putInternal(putter.item as T);
        putter.setResult(undefined);
      } catch (error) {
        putter.setException(error); // e.g. a comparator refusing the item
      }
    }
    return this._get();
  }

  #putInternal(item: T): void {
    this._put(item);
    this.#unfinishedTasks++;
    this.#finished.clear();
  }

  /**
   * Marks one item taken with `get` as processed. When every item put has been marked,
   * {@link join} returns.
   * @throws RangeError ("taskDone() called too many times", code
   *   `ERR_TASK_DONE_TOO_MANY_TIMES`) if called more times than items were put.
   */
  taskDone(): void {
    if (this.#unfinishedTasks <= 0) {
      throw codedError(
        RangeError,
        "taskDone() called too many times",
        "ERR_TASK_DONE_TOO_MANY_TIMES",
      );
    }
    this.#unfinishedTasks--;
    if (this.#unfinishedTasks === 0) this.#finished.set();
  }

  /**
   * Waits until every item put has been processed ({@link taskDone} called for each).
   * @param timeout - ms, or `{ deadline }`; none by default.
   * @returns a Future resolved when all tasks are done; it fails with {@link TimeoutError}
   *   at the timeout.
   */
  join(timeout?: Timeout | null): Future<void> {
    return this.#finished.wait(timeout);
  }

  /** How many consumers are waiting in `get` (timed-out and cancelled ones leave at once). */
  get getters(): number {
    return this.#getters.size;
  }

  /** How many producers are waiting in `put`. */
  get putters(): number {
    return this.#putters.size;
  }

  /** Items put and not yet marked done with {@link taskDone}. */
  get unfinishedTasks(): number {
    return this.#unfinishedTasks;
  }

  /**
   * Iterates over the queue forever with `for await`: each step is a {@link get}. Breaking
   * out of the loop leaves the queue as it is.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.get().then(iteratorResult),
    };
  }

  /** Adds an item to the underlying storage. Override with {@link _get} and {@link _size}. */
  protected _put(item: T): void {
    if (this.#items === null) this.#items = new Deque<T>();
    this.#items.push(item);
  }

  /** Removes the next item from the underlying storage (only called when not empty). */
  protected _get(): T {
    return this.#items!.shift();
  }

  /** How many items the underlying storage holds. */
  protected _size(): number {
    return this.#items === null ? 0 : this.#items.size;
  }

  toString(): string {
    let result = `<${this.constructor.name} maxsize=${this.#maxsize}`;
    if (this._size() > 0) result += ` qsize=${this._size()}`;
    if (this.#getters.size > 0) result += ` getters[${this.#getters.size}]`;
    if (this.#putters.size > 0) result += ` putters[${this.#putters.size}]`;
    if (this.#unfinishedTasks > 0) result += ` tasks=${this.#unfinishedTasks}`;
    return `${result}>`;
  }
}

function iteratorResult<T>(value: T): IteratorResult<T> {
  return { value, done: false };
}

/**
 * Orders {@link PriorityQueue} items: numbers, strings, bigints and booleans by `<`, arrays
 * (tuples such as `[priority, data]`) element by element, as Python compares tuples.
 * @throws TypeError for values it cannot order (pass a `compare` option then).
 */
export function defaultCompare(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = defaultCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  const type = typeof a;
  if (
    type === typeof b &&
    (type === "number" || type === "string" || type === "bigint" || type === "boolean")
  ) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  throw codedError(
    TypeError,
    `PriorityQueue cannot order ${describeType(a)} and ${describeType(b)}; pass a compare option`,
    "ERR_INVALID_ARG_TYPE",
  );
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Options for {@link PriorityQueue}. */
export interface PriorityQueueOptions<T> {
  /**
   * Orders items: negative if `a` comes out before `b`. @defaultValue {@link defaultCompare}
   */
  compare?: (a: T, b: T) => number;
}

/**
 * A {@link Queue} that hands out the lowest item first (a binary heap). Items are typically
 * tuples such as `[priority, data]`; equal items come out in no particular order.
 *
 * @example
 * ```ts
 * const q = new PriorityQueue<[number, string]>();
 * q.putNowait([1, "medium-priority item"]);
 * q.putNowait([0, "high-priority item"]);
 * q.putNowait([10, "low-priority item"]);
 * await q.get(); // [0, "high-priority item"]
 * ```
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  readonly #heap: T[] = [];
  readonly #compare: (a: T, b: T) => number;

  /**
   * @param maxsize - as for {@link Queue}. @defaultValue 0
   * @param options - `compare` orders items.
   * @throws TypeError if `compare` is given and is not a function.
   */
  constructor(maxsize = 0, options: PriorityQueueOptions<T> = {}) {
    super(maxsize);
    const compare = options.compare ?? (defaultCompare as (a: T, b: T) => number);
    if (typeof compare !== "function") {
      throw codedError(TypeError, "compare must be a function", "ERR_INVALID_ARG_TYPE");
    }
    this.#compare = compare;
  }

  protected override _put(item: T): void {
    const heap = this.#heap;
    // Compare before inserting, so that an item the comparator rejects leaves no trace.
    let i = heap.length;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#compare(item, heap[parent]!) >= 0) break;
      i = parent;
    }
    // Sift up by moving parents down into the hole.
    heap.push(item);
    let j = heap.length - 1;
    while (j > i) {
      const parent = (j - 1) >> 1;
      heap[j] = heap[parent]!;
      j = parent;
    }
    heap[i] = item;
  }

  protected override _get(): T {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    const n = heap.length;
    if (n > 0) {
      // Sift the last item down from the root.
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && this.#compare(heap[right]!, heap[left]!) < 0 ? right : left;
        if (this.#compare(heap[child]!, last) >= 0) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }

  protected override _size(): number {
    return this.#heap.length;
  }
}

/**
 * A {@link Queue} that hands out the most recently put item first.
 *
 * @example
 * ```ts
 * const q = new LifoQueue<number>();
 * q.putNowait(3);
 * q.putNowait(2);
 * q.putNowait(1);
 * await q.get(); // 1
 * ```
 */
export class LifoQueue<T = unknown> extends Queue<T> {
  readonly #stack: T[] = [];

  protected override _put(item: T): void {
    this.#stack.push(item);
  }

  protected override _get(): T {
    return this.#stack.pop()!;
  }

  protected override _size(): number {
    return this.#stack.length;
  }
}
