/**
 * The event loop: Tornado's `tornado.ioloop`, mapped onto Node's own loop.
 *
 * Node has one event loop per thread, so {@link IOLoop.current} returns one object per thread
 * that schedules on it: callbacks on `setImmediate`, timers on `setTimeout`. Times are
 * milliseconds on a monotonic clock ({@link IOLoop.time}).
 *
 * Main exports: {@link IOLoop}, {@link TimeoutHandle}.
 */

import { isMainThread } from "node:worker_threads";
import { type Future, futureAddDoneCallback } from "./concurrent.js";
import { appLog } from "./log.js";
import { TimeoutError } from "./util.js";

type Callback = (...args: any[]) => unknown;

/** An opaque handle for a scheduled timeout, for {@link IOLoop.removeTimeout}. */
export interface TimeoutHandle {
  /** @internal */
  readonly timer: NodeJS.Timeout;
}

class Timeout implements TimeoutHandle {
  timer: NodeJS.Timeout;
  constructor(timer: NodeJS.Timeout) {
    this.timer = timer;
  }
}

let currentLoop: IOLoop | null = null;

/**
 * The loop that runs callbacks, timers and I/O for this thread.
 *
 * Tornado's "only `add_callback` is thread-safe" becomes: an `IOLoop` belongs to one thread
 * (the main thread or one worker). Other threads reach it by message passing, never by sharing
 * the object; see {@link IOLoop.runInExecutor}.
 */
export class IOLoop {
  #queue: Callback[] = [];
  #queueArgs: unknown[][] = [];
  #scheduled = false;
  #running = false;
  #keepAlive: NodeJS.Timeout | null = null;
  #stopResolve: (() => void) | null = null;
  readonly #drain: () => void;

  constructor() {
    this.#drain = this.#runCallbacks.bind(this);
  }

  /** The loop of the calling thread, created on first use. */
  static current(): IOLoop {
    if (currentLoop === null) currentLoop = new IOLoop();
    return currentLoop;
  }

  /** True on the main thread's loop; false in a worker. */
  get isMainThread(): boolean {
    return isMainThread;
  }

  /** Monotonic time in milliseconds (arbitrary origin). Deadlines are on this clock. */
  time(): number {
    return performance.now();
  }

  /** Calls `fn(...args)` on the next turn of the loop, after callbacks already added (FIFO). */
  addCallback<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.#queue.push(fn as Callback);
    this.#queueArgs.push(args);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  }

  /** Same as {@link addCallback}: the callback runs detached from the caller's context. */
  spawnCallback<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.addCallback(fn, ...args);
  }

  #runCallbacks(): void {
    // Only the callbacks present now run in this turn; ones added meanwhile wait for the next.
    const queue = this.#queue;
    const args = this.#queueArgs;
    this.#queue = [];
    this.#queueArgs = [];
    this.#scheduled = false;
    for (let i = 0; i < queue.length; i++) this.#runCallback(queue[i]!, args[i]!);
  }

  #runCallback(fn: Callback, args: unknown[]): void {
    try {
      const result = fn(...args);
      if (
        result !== null &&
        typeof result === "object" &&
        typeof (result as any).then === "function"
      ) {
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
          appLog.error("Exception in callback %s", describe(fn), error),
        );
      }
    } catch (error) {
      appLog.error("Exception in callback %s", describe(fn), error);
    }
  }

  /** Calls `fn(future)` on a later turn once `future` (a Future or Promise) is done. */
  addFuture<T>(future: Future<T> | PromiseLike<T>, fn: (future: Future<T>) => unknown): void {
    futureAddDoneCallback(future, (done) => this.addCallback(fn, done));
  }

  /** Calls `fn(...args)` after `delay` ms. @returns a handle for {@link removeTimeout}. */
  callLater<A extends unknown[]>(
    delay: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    const timer = setTimeout(() => this.#runCallback(fn as Callback, args), Math.max(0, delay));
    return new Timeout(timer);
  }

  /** Calls `fn(...args)` at `when`, a time on {@link time}'s clock. */
  callAt<A extends unknown[]>(
    when: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    return this.callLater(when - this.time(), fn, ...args);
  }

  /**
   * Calls `fn(...args)` at a deadline: `{ deadline }` is absolute on {@link time}'s clock,
   * a number is a duration in ms from now.
   */
  addTimeout<A extends unknown[]>(
    deadline: number | { deadline: number },
    fn: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    if (typeof deadline === "number") return this.callLater(deadline, fn, ...args);
    return this.callAt(deadline.deadline, fn, ...args);
  }

  /** Cancels a pending timeout; safe to call after it fired. */
  removeTimeout(handle: TimeoutHandle): void {
    clearTimeout(handle.timer);
  }

  /**
   * Keeps the process alive until {@link stop}. Node runs the loop by itself; `start` only
   * holds it open, as Tornado's `IOLoop.start()` blocks until stopped.
   * @returns a Promise resolved when the loop is stopped.
   */
  start(): Promise<void> {
    if (this.#running) throw new Error("IOLoop is already running");
    this.#running = true;
    this.#keepAlive = setInterval(() => {}, 1 << 30);
    return new Promise<void>((resolve) => {
      this.#stopResolve = resolve;
    });
  }

  /** Releases the hold taken by {@link start}. Pending callbacks still run. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
    const resolve = this.#stopResolve;
    this.#stopResolve = null;
    resolve?.();
  }

  /** True between {@link start} and {@link stop}. */
  running(): boolean {
    return this.#running;
  }

  /**
   * Runs `fn` and resolves with its result. With `timeout` (ms), rejects with
   * {@link TimeoutError} if `fn`'s Promise takes longer (the work itself is not stopped).
   */
  async runSync<T>(fn: () => T | PromiseLike<T>, options: { timeout?: number } = {}): Promise<T> {
    const work = Promise.resolve().then(fn);
    if (options.timeout === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`Operation timed out after ${options.timeout} ms`)),
        options.timeout,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function describe(fn: Callback): string {
  return fn.name ? `${fn.name}()` : "<anonymous function>";
}
