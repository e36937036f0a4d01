/**
 * The event loop: Tornado's `tornado.ioloop`, mapped onto Node's own loop.
 *
 * Node has one event loop per thread, so {@link IOLoop.current} returns one object per thread
 * that schedules on it: callbacks ({@link IOLoop.addCallback}) run in batches on
 * `setImmediate`, timeouts ({@link IOLoop.callLater}, {@link IOLoop.callAt},
 * {@link IOLoop.addTimeout}) from a heap served by one `setTimeout`. Times are milliseconds
 * on a monotonic clock ({@link IOLoop.time}), as are deadlines. {@link PeriodicCallback}
 * runs a function on a fixed schedule; {@link IOLoop.runInExecutor} runs one on a pool of
 * worker threads ({@link ThreadPoolExecutor}) so that CPU-bound work does not stall the loop.
 *
 * Node runs the loop by itself whenever there is work; {@link IOLoop.start} only holds the
 * process open until {@link IOLoop.stop}, as Tornado's blocking `start()` does, and
 * {@link IOLoop.runSync} runs an async `main` with an optional timeout.
 *
 * Threads: Tornado documents `add_callback` as the only thread-safe method of an `IOLoop`.
 * In Node, threads are `node:worker_threads` workers, each with its own event loop, its own
 * module instances and therefore its own `IOLoop.current()`; objects are never shared
 * between threads, so no method needs to be thread-safe and none is callable from another
 * thread. What Tornado code does with `add_callback` from a thread becomes message passing:
 * work sent with {@link IOLoop.runInExecutor} reports back through its Promise, which settles
 * on the calling thread's loop; a worker you create yourself posts messages to a port whose
 * listener (on the owning thread) calls `addCallback` or does the work directly.
 *
 * Main exports: {@link IOLoop}, {@link PeriodicCallback}, {@link TimeoutHandle},
 * {@link IOLoopError}, {@link ThreadPoolExecutor}, {@link ExecutorError},
 * {@link moduleFunction}.
 *
 * @remarks
 * Not carried over from Tornado: `add_handler`/`update_handler`/`remove_handler` (Node has
 * no public file-descriptor readiness API; use `net`, `iostream`), `configure`, `instance`,
 * `make_current`/`clear_current` (deprecated in Tornado), `add_callback_from_signal`
 * (use `process.on("SIGINT", ...)`: signal handlers already run on the loop).
 */

import { isMainThread } from "node:worker_threads";
import { type Executor, type Future, futureAddDoneCallback } from "./concurrent.js";
import {
  type Callback,
  checkFunction,
  checkTime,
  describe,
  describeValue,
  invalidArgument,
  isThenable,
  runCallback,
} from "./ioloop/common.js";
import { type ModuleFunctionSpec, moduleFunction, ThreadPoolExecutor } from "./ioloop/executor.js";
import { Timeout, type TimeoutHandle, TimerQueue } from "./ioloop/timers.js";
import { appLog } from "./log.js";
import { TimeoutError } from "./util.js";

export {
  defaultMaxWorkers,
  ExecutorError,
  type ExecutorErrorCode,
  type ModuleFunctionSpec,
  moduleFunction,
  ThreadPoolExecutor,
  type ThreadPoolExecutorOptions,
} from "./ioloop/executor.js";
export type { TimeoutHandle } from "./ioloop/timers.js";

/** Codes of {@link IOLoopError}. */
export type IOLoopErrorCode = "ERR_IOLOOP_RUNNING" | "ERR_IOLOOP_STOPPED" | "ERR_IOLOOP_CLOSED";

/**
 * Misuse of the loop's life cycle (Tornado raises `RuntimeError` for these):
 * `start()`/`runSync()` on a running loop (`ERR_IOLOOP_RUNNING`), `stop()` while `runSync`
 * waits (`ERR_IOLOOP_STOPPED`, "Event loop stopped before Future completed."), scheduling on
 * a closed loop (`ERR_IOLOOP_CLOSED`).
 */
export class IOLoopError extends Error {
  override name = "IOLoopError";
  readonly code: IOLoopErrorCode;
  constructor(code: IOLoopErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Past this many queue slots, the drained array is released instead of kept for reuse. */
const LARGE_QUEUE = 8192;

/** The shared, frozen argument list of callbacks added without arguments. */
const NO_ARGUMENTS: unknown[] = Object.freeze([]) as unknown as unknown[];

function sliceArguments(list: IArguments): unknown[] {
  return Array.prototype.slice.call(list, 1);
}

/** Keeps the process alive while a loop is started (a ref'ed timer that never fires). */
function noop(): void {}
const KEEP_ALIVE_INTERVAL = 2 ** 30;

let currentLoop: IOLoop | null = null;

/**
 * The loop that runs callbacks and timers for this thread.
 *
 * Get it with {@link IOLoop.current}. A second `new IOLoop()` is possible (as in Tornado),
 * and schedules on the same Node loop; it becomes current while it is started
 * ({@link IOLoop.start}, {@link IOLoop.runSync}) and can be {@link IOLoop.close}d on its own.
 *
 * Thread-safety: see the module summary. An `IOLoop` belongs to the thread that created it;
 * other threads reach it by message passing, never by sharing the object.
 *
 * @example
 * ```ts
 * const loop = IOLoop.current();
 * loop.addCallback(() => console.log("next turn"));
 * const handle = loop.callLater(1000, () => console.log("one second later"));
 * loop.removeTimeout(handle);
 * await loop.runSync(async () => main(), { timeout: 30_000 });
 * ```
 */
export class IOLoop {
  // The callback queue is one flat array of pairs [fn, args, fn, args, ...] and a size: no
  // per-callback object. Two arrays are swapped at each drain and reused; slots are cleared
  // one by one rather than with `length = 0`, which frees the backing store and made every
  // turn of a callback chain reallocate it (measured: ~12% of a chain's cost).
  #queue: unknown[] = [];
  #size = 0;
  #spare: unknown[] = [];
  #scheduled = false;
  readonly #drain: () => void;
  readonly #timers = new TimerQueue();
  #running = false;
  #closed = false;
  #stopRequested = false;
  #keepAlive: NodeJS.Timeout | null = null;
  #previousCurrent: IOLoop | null = null;
  /** Called by stop(): resolves start()'s Promise or rejects runSync()'s. */
  #onStop: (() => void) | null = null;
  #executor: Executor | null = null;
  #ownsExecutor = false;

  constructor() {
    this.#drain = this.#runCallbacks.bind(this);
  }

  /** The loop of the calling thread, created on first use. */
  static current(): IOLoop;
  /** With `instance` false: the current loop, or null if none was created yet. */
  static current(instance: false): IOLoop | null;
  static current(instance = true): IOLoop | null {
    if (currentLoop === null && instance) currentLoop = new IOLoop();
    return currentLoop;
  }

  /** True on the main thread's loop; false in a worker. */
  get isMainThread(): boolean {
    return isMainThread;
  }

  /**
   * Monotonic time in milliseconds (`performance.now()`: arbitrary origin, sub-ms precision,
   * unaffected by wall-clock changes). Deadlines everywhere are on this clock.
   * @remarks Tornado's `time()` is wall-clock seconds; a monotonic clock avoids the jumps
   *   that `PeriodicCallback` has to guard against.
   */
  time(): number {
    return performance.now();
  }

  /**
   * Calls `fn(...args)` on the next turn of the loop, after the callbacks added before it
   * (FIFO). Callbacks added while the queue is draining run on the turn after. Exceptions
   * (and rejections of a returned Promise) are logged as "Exception in callback", never
   * thrown to the caller. On a closed loop the callback is dropped silently, as in Tornado.
   * @throws TypeError if `fn` is not a function.
   */
  addCallback<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void;
  addCallback(fn: Callback): void {
    if (typeof fn !== "function") checkFunction(fn);
    if (this.#closed) return;
    const queue = this.#queue;
    const size = this.#size;
    queue[size] = fn;
    // `arguments` instead of a rest parameter: no array is allocated for the common
    // callback without arguments (measured: about 2x the burst throughput).
    // eslint-disable-next-line prefer-rest-params
    queue[size + 1] = arguments.length > 1 ? sliceArguments(arguments) : NO_ARGUMENTS;
    this.#size = size + 2;
    // One setImmediate per batch, not per callback: this is why addCallback outruns a bare
    // setImmediate per callback (bench/ioloop.mjs).
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  }

  /**
   * Same as {@link addCallback}: the callback runs on the next turn, detached from the
   * caller (its errors are logged, not propagated).
   * @throws TypeError if `fn` is not a function.
   */
  spawnCallback<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.addCallback(fn, ...args);
  }

  #runCallbacks(): void {
    // Only the callbacks present now run in this turn; ones added meanwhile go to the other
    // array and wait for the next turn (a callback re-adding itself cannot starve I/O).
    const queue = this.#queue;
    const length = this.#size;
    this.#queue = this.#spare;
    this.#size = 0;
    this.#scheduled = false;
    for (let i = 0; i < length; i += 2) {
      if (this.#closed) {
        queue.length = 0;
        break;
      }
      const fn = queue[i] as Callback;
      const args = queue[i + 1] as unknown[];
      queue[i] = undefined;
      queue[i + 1] = undefined;
      runCallback(fn, args);
    }
    // After a large burst, give the memory back rather than keep a huge empty array.
    if (length > LARGE_QUEUE) queue.length = 0;
    this.#spare = queue;
  }

  /**
   * Calls `fn(future)` on a later turn once `future` (a Future or Promise) is done, never
   * inline. For a Promise, `fn` receives a done Future mirroring it.
   * @throws TypeError if `fn` is not a function.
   */
  addFuture<T>(future: Future<T> | PromiseLike<T>, fn: (future: Future<T>) => unknown): void {
    checkFunction(fn);
    if (!isThenable(future)) throw invalidArgument("addFuture expects a Future or a Promise");
    futureAddDoneCallback(future, (done) => this.addCallback(fn, done));
  }

  /**
   * Calls `fn(...args)` after `delay` ms (negative counts as 0). The callback never runs
   * before `time() + delay`; errors are logged as for {@link addCallback}.
   * @returns a handle for {@link removeTimeout}.
   * @throws TypeError if `delay` is not a number or `fn` not a function; RangeError for NaN;
   *   {@link IOLoopError} `ERR_IOLOOP_CLOSED` on a closed loop.
   */
  callLater<A extends unknown[]>(
    delay: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    checkTime(delay, "delay");
    return this.#schedule(performance.now() + Math.max(0, delay), fn, args);
  }

  /**
   * Calls `fn(...args)` at `when`, a time on {@link time}'s clock (in the past: on the next
   * timer phase).
   * @returns a handle for {@link removeTimeout}.
   * @throws as {@link callLater}.
   */
  callAt<A extends unknown[]>(
    when: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    checkTime(when, "when");
    return this.#schedule(when, fn, args);
  }

  /**
   * Calls `fn(...args)` at a deadline: a number is a duration in ms from now (as
   * {@link callLater}); `{ deadline }` is absolute on {@link time}'s clock (as {@link callAt}).
   * @returns a handle for {@link removeTimeout}.
   * @throws as {@link callLater}; TypeError for another kind of deadline.
   * @remarks Tornado's `add_timeout` takes an absolute time or a `timedelta`; tornado-ts
   *   writes durations as numbers and absolute times as `{ deadline }` everywhere.
   */
  addTimeout<A extends unknown[]>(
    deadline: number | { deadline: number },
    fn: (...args: A) => unknown,
    ...args: A
  ): TimeoutHandle {
    if (typeof deadline === "number") return this.callLater(deadline, fn, ...args);
    if (deadline === null || typeof deadline !== "object") {
      throw invalidArgument(
        `deadline must be a number of ms or { deadline }, got ${describeValue(deadline)}`,
      );
    }
    return this.callAt(deadline.deadline, fn, ...args);
  }

  #schedule(deadline: number, fn: Callback, args: unknown[]): TimeoutHandle {
    checkFunction(fn);
    if (this.#closed) throw new IOLoopError("ERR_IOLOOP_CLOSED", "IOLoop is closed");
    return this.#timers.add(deadline, fn, args);
  }

  /**
   * Cancels a pending timeout. Safe to call after it fired, twice, or from another timeout's
   * callback due at the same moment (the removed one does not run).
   * @throws TypeError if `handle` did not come from `callLater`/`callAt`/`addTimeout`.
   */
  removeTimeout(handle: TimeoutHandle): void {
    if (!(handle instanceof Timeout)) {
      throw invalidArgument(`not a timeout handle: ${describeValue(handle)}`);
    }
    handle.queue?.remove(handle);
  }

  /**
   * Runs `fn(...args)` on `executor` and resolves with its result.
   * @param executor an {@link Executor}; `null` or `undefined` for the default one
   *   ({@link setDefaultExecutor}, else a {@link ThreadPoolExecutor} created on first use).
   * @param fn with a {@link ThreadPoolExecutor}: a self-contained function or a
   *   `{ module, exportName }` reference (see {@link ThreadPoolExecutor} for the limits).
   * @returns what the executor's `submit` returns: the result, or the task's error.
   * @throws TypeError for an invalid `fn` (see `ThreadPoolExecutor.submit`);
   *   {@link IOLoopError} `ERR_IOLOOP_CLOSED` on a closed loop.
   */
  runInExecutor<A extends unknown[], R>(
    executor: Executor | null | undefined,
    fn: ((...args: A) => R | PromiseLike<R>) | ModuleFunctionSpec,
    ...args: A
  ): Promise<Awaited<R>> {
    if (this.#closed) throw new IOLoopError("ERR_IOLOOP_CLOSED", "IOLoop is closed");
    const task =
      typeof fn === "function" ? fn : (moduleFunction(fn) as (...args: A) => PromiseLike<R>);
    if (executor === null || executor === undefined) {
      if (this.#executor === null) {
        this.#executor = new ThreadPoolExecutor();
        this.#ownsExecutor = true;
      }
      executor = this.#executor;
    }
    return executor.submit(task, ...args) as Promise<Awaited<R>>;
  }

  /**
   * Sets the executor {@link runInExecutor} uses when given `null`. The previous default is
   * not shut down (as in Tornado).
   * @throws TypeError if `executor` has no `submit` method.
   */
  setDefaultExecutor(executor: Executor): void {
    if (
      executor === null ||
      typeof executor !== "object" ||
      typeof executor.submit !== "function"
    ) {
      throw invalidArgument("setDefaultExecutor expects an Executor");
    }
    this.#executor = executor;
    this.#ownsExecutor = false;
  }

  #enter(onStop: () => void): void {
    this.#running = true;
    this.#onStop = onStop;
    this.#keepAlive = setInterval(noop, KEEP_ALIVE_INTERVAL);
    this.#previousCurrent = currentLoop;
    currentLoop = this;
  }

  #leave(): void {
    this.#running = false;
    this.#onStop = null;
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
    if (currentLoop === this) currentLoop = this.#previousCurrent;
    this.#previousCurrent = null;
  }

  /**
   * Holds the process open until {@link stop}, as Tornado's blocking `start()` does (Node
   * runs callbacks, timers and I/O whether or not the loop is "started"). While started this
   * loop is {@link current}. If {@link stop} was called while the loop was not running, this
   * start returns after one turn (Tornado's rule).
   * @returns a Promise resolved when the loop is stopped.
   * @throws {@link IOLoopError} `ERR_IOLOOP_RUNNING` if already started (or in `runSync`),
   *   `ERR_IOLOOP_CLOSED` if closed.
   */
  start(): Promise<void> {
    if (this.#closed) throw new IOLoopError("ERR_IOLOOP_CLOSED", "IOLoop is closed");
    if (this.#running) throw new IOLoopError("ERR_IOLOOP_RUNNING", "IOLoop is already running");
    return new Promise<void>((resolve) => {
      this.#enter(resolve);
      if (this.#stopRequested) {
        this.#stopRequested = false;
        this.addCallback(() => this.stop());
      }
    });
  }

  /**
   * Ends {@link start} (its Promise resolves) or {@link runSync} (it rejects with
   * `ERR_IOLOOP_STOPPED` unless its work is done). Pending callbacks and timeouts are kept and
   * still run, since Node's loop goes on. Called while not running, it makes the next
   * {@link start} return after one turn.
   */
  stop(): void {
    if (!this.#running) {
      this.#stopRequested = true;
      return;
    }
    const onStop = this.#onStop;
    this.#leave();
    onStop?.();
  }

  /** True between {@link start} (or {@link runSync}) and {@link stop}. */
  running(): boolean {
    return this.#running;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts the loop, runs `fn` (on a microtask: never inline), and stops when the Promise
   * `fn` returns settles; resolves or rejects with it. `fn` must return a Promise (or any
   * thenable) or `undefined`.
   * @param options.timeout ms to wait for `fn`'s Promise; past it, runSync rejects with
   *   {@link TimeoutError} "Operation timed out after N ms" and cancels `fn`'s result if it is
   *   a {@link Future} (a plain Promise cannot be cancelled: its work goes on, unobserved).
   * @returns a Promise of `fn`'s result.
   * @throws (as a rejection) whatever `fn` throws or rejects with; TypeError if `fn` returns
   *   something else than `undefined` or a thenable (Tornado's `BadYieldError`);
   *   {@link IOLoopError} `ERR_IOLOOP_STOPPED` if {@link stop} is called first,
   *   `ERR_IOLOOP_RUNNING` if the loop is already started, `ERR_IOLOOP_CLOSED` if closed.
   * @throws TypeError (synchronously) if `fn` is not a function; RangeError for a negative,
   *   NaN or infinite timeout.
   */
  runSync<T = void>(
    fn: () => PromiseLike<T> | void,
    options: { timeout?: number } = {},
  ): Promise<T> {
    checkFunction(fn, "fn");
    const timeout = options.timeout;
    if (timeout !== undefined) {
      checkTime(timeout, "timeout");
      if (timeout < 0 || !Number.isFinite(timeout)) {
        throw new RangeError(`timeout must be a finite number of ms >= 0, got ${timeout}`);
      }
    }
    if (this.#closed) {
      return Promise.reject(new IOLoopError("ERR_IOLOOP_CLOSED", "IOLoop is closed"));
    }
    if (this.#running) {
      return Promise.reject(new IOLoopError("ERR_IOLOOP_RUNNING", "IOLoop is already running"));
    }
    this.#stopRequested = false;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: TimeoutHandle | null = null;
      let result: unknown;
      const finish = (ok: boolean, value: unknown): void => {
        if (settled) return;
        settled = true;
        if (timer !== null) this.removeTimeout(timer);
        if (this.#running) this.#leave();
        if (ok) resolve(value as T);
        else reject(value);
      };
      this.#enter(() =>
        finish(
          false,
          new IOLoopError("ERR_IOLOOP_STOPPED", "Event loop stopped before Future completed."),
        ),
      );
      // fn runs on a microtask, before any timer: the timeout cannot win a race against
      // fn's start under load (Tornado queues it with add_callback).
      queueMicrotask(() => {
        if (settled) return;
        try {
          result = fn();
        } catch (error) {
          finish(false, error);
          return;
        }
        if (result === undefined) finish(true, undefined);
        else if (isThenable(result)) {
          result.then(
            (value) => finish(true, value),
            (error: unknown) => finish(false, error),
          );
        } else {
          finish(
            false,
            invalidArgument(
              `runSync: fn returned ${describeValue(result)}; it must return a Promise or undefined`,
            ),
          );
        }
      });
      if (timeout !== undefined) {
        timer = this.callLater(timeout, () => {
          if (result !== null && typeof result === "object" && "cancel" in result) {
            // A Future (or anything with Future's cancel()): stop the work, as Tornado does.
            try {
              (result as Future<unknown>).cancel();
            } catch {
              // cancel() is best effort; the timeout is reported either way.
            }
          }
          finish(false, new TimeoutError(`Operation timed out after ${timeout} ms`));
        });
      }
    });
  }

  /**
   * Closes the loop: stops it if running, drops queued callbacks and pending timeouts, and
   * shuts down the default executor if this loop created it (running tasks finish, then the
   * threads exit). Afterwards `addCallback` is a no-op, scheduling a timeout throws, and
   * {@link IOLoop.current} makes a new loop if this one was current. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#running) this.stop();
    this.#closed = true;
    this.#timers.clear();
    this.#queue.length = 0;
    this.#size = 0;
    if (this.#ownsExecutor && this.#executor !== null) void this.#executor.shutdown(false);
    this.#executor = null;
    if (currentLoop === this) currentLoop = null;
  }
}

/**
 * Calls a function every `callbackTime` ms, start to start.
 *
 * The first call comes `callbackTime` ms after {@link PeriodicCallback.start}. The period is
 * measured from the start of one call to the start of the next; if a call runs long (or the
 * loop was blocked), the missed runs are skipped to get back onto the original schedule:
 * next = last + (⌊(now − last) / p⌋ + 1) · p. A callback that returns a Promise is awaited
 * before the next run is scheduled, so runs never overlap. Exceptions and rejections are
 * logged to `tornado.application` ("Exception in callback f()") and the schedule goes on.
 *
 * With `jitter`, each period is p · (1 + jitter · (r − 0.5)) for a random r in [0, 1): a
 * jitter of 0.1 spreads runs over ±5% of the period, keeping the average rate.
 *
 * The clock is {@link PeriodicCallback.now} (the loop's {@link IOLoop.time}), and randomness
 * {@link PeriodicCallback.random}; subclasses may override both (tests do).
 *
 * @example
 * ```ts
 * const pc = new PeriodicCallback(async () => {
 *   await flushMetrics();
 * }, 10_000, 0.1);
 * pc.start();
 * // later
 * pc.stop();
 * ```
 */
export class PeriodicCallback {
  /** The function called on each run. */
  readonly callback: () => unknown;
  /** The period, in ms. */
  readonly callbackTime: number;
  /** The jitter fraction, between 0 and 1. */
  readonly jitter: number;
  /** When the next run is due, on {@link now}'s clock (valid while running). */
  protected nextTimeout = 0;
  #loop: IOLoop | null = null;
  #running = false;
  #inFlight = false;
  #timeout: TimeoutHandle | null = null;
  readonly #run: () => void;
  readonly #afterRun: () => void;
  readonly #onError: (error: unknown) => void;

  /**
   * @param callback called with no arguments; may return a Promise, awaited before the next
   *   run is scheduled.
   * @param callbackTime the period in ms; must be positive and finite.
   * @param jitter fraction of the period to randomise, 0 to 1. @defaultValue 0
   * @throws TypeError if `callback` is not a function or a number argument is not a number;
   *   RangeError if `callbackTime` ≤ 0 (or not finite) or `jitter` is outside [0, 1].
   */
  constructor(callback: () => unknown, callbackTime: number, jitter = 0) {
    checkFunction(callback);
    checkTime(callbackTime, "callbackTime");
    if (!(callbackTime > 0) || !Number.isFinite(callbackTime)) {
      throw new RangeError(
        `Periodic callback must have a positive callbackTime, got ${callbackTime}`,
      );
    }
    if (typeof jitter !== "number") throw invalidArgument("jitter must be a number");
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`jitter must be between 0 and 1, got ${jitter}`);
    }
    this.callback = callback;
    this.callbackTime = callbackTime;
    this.jitter = jitter;
    this.#run = this.#runOnce.bind(this);
    this.#afterRun = this.#finishRun.bind(this);
    this.#onError = (error: unknown) => {
      this.#logError(error);
      this.#finishRun();
    };
  }

  /**
   * Starts the schedule on the current thread's {@link IOLoop}: the first run is one period
   * from now. Calling it while running does nothing.
   */
  start(): void {
    if (this.#running) return;
    this.#loop = IOLoop.current();
    this.#running = true;
    this.nextTimeout = this.now();
    // A run still in flight from before a stop() will schedule the next one when it ends.
    if (!this.#inFlight) this.#scheduleNext();
  }

  /** Stops the schedule; a run in progress finishes but no further run is scheduled. */
  stop(): void {
    this.#running = false;
    if (this.#timeout !== null) {
      this.#loop?.removeTimeout(this.#timeout);
      this.#timeout = null;
    }
  }

  /** True between {@link start} and {@link stop}. */
  isRunning(): boolean {
    return this.#running;
  }

  /** The clock, in ms: the loop's {@link IOLoop.time}. Override to test the schedule. */
  protected now(): number {
    return (this.#loop ?? IOLoop.current()).time();
  }

  /** A random number in [0, 1) for jitter: `Math.random()`. Override to test jitter. */
  protected random(): number {
    return Math.random();
  }

  /**
   * Advances {@link nextTimeout} past `currentTime` on the original schedule (skipping
   * missed runs), or by one period if the clock went backwards.
   */
  protected updateNext(currentTime: number): void {
    let period = this.callbackTime;
    if (this.jitter !== 0) period *= 1 + this.jitter * (this.random() - 0.5);
    if (this.nextTimeout <= currentTime) {
      this.nextTimeout += (Math.floor((currentTime - this.nextTimeout) / period) + 1) * period;
    } else {
      // The clock moved backwards (possible only with an overridden now()): advance by one
      // period rather than recompute the same time again.
      this.nextTimeout += period;
    }
  }

  #scheduleNext(): void {
    if (!this.#running) return;
    const now = this.now();
    this.updateNext(now);
    if (this.#timeout !== null) this.#loop!.removeTimeout(this.#timeout);
    // A delay from now() rather than an absolute deadline, so an overridden clock works.
    this.#timeout = this.#loop!.callLater(this.nextTimeout - now, this.#run);
  }

  #runOnce(): void {
    this.#timeout = null;
    if (!this.#running) return;
    this.#inFlight = true;
    let result: unknown;
    try {
      result = this.callback();
    } catch (error) {
      this.#logError(error);
      this.#finishRun();
      return;
    }
    if (isThenable(result)) result.then(this.#afterRun, this.#onError);
    else this.#finishRun();
  }

  #finishRun(): void {
    this.#inFlight = false;
    this.#scheduleNext();
  }

  #logError(error: unknown): void {
    appLog.error("Exception in callback %s", describe(this.callback), error);
  }
}
