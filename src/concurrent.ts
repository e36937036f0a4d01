/**
 * Utilities for working with `Future` objects: Tornado's `tornado.concurrent`.
 *
 * A {@link Future} is a Promise you can resolve from outside and cancel. It is awaitable
 * (it implements `PromiseLike`), so `await future` works anywhere a Promise does. Locks,
 * queues and the coroutine runner hand out Futures; application code mostly uses plain
 * Promises and `async` functions.
 *
 * Main exports: {@link Future}, {@link CancelledError}, {@link InvalidStateError},
 * {@link chainFuture}, {@link futureSetResultUnlessCancelled},
 * {@link futureSetExceptionUnlessCancelled}, {@link futureAddDoneCallback}, {@link isFuture},
 * {@link DummyExecutor}, {@link dummyExecutor}.
 */

import { appLog } from "./log.js";

/** Raised by `result()` (and by `await`) on a Future that was cancelled. */
export class CancelledError extends Error {
  override name = "CancelledError";
  readonly code = "ERR_CANCELLED";
  constructor(message = "Future was cancelled", options?: ErrorOptions) {
    super(message, options);
  }
}

/** Raised when a Future is used in a state that does not allow the call (set twice, read early). */
export class InvalidStateError extends Error {
  override name = "InvalidStateError";
  readonly code = "ERR_INVALID_STATE";
}

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;
const CANCELLED = 3;

/** A callback run when a Future completes; receives the Future itself. */
export type DoneCallback<T> = (future: Future<T>) => void;

/**
 * A resolvable, cancellable, awaitable result.
 *
 * Callbacks added with {@link Future.addDoneCallback} run on a later microtask, never inline
 * (as asyncio's do); {@link futureAddDoneCallback} runs them inline when already done.
 *
 * A failed Future that nobody awaits does not raise an unhandled rejection: the underlying
 * Promise is created only when someone calls `then`.
 *
 * @example
 * ```ts
 * const f = new Future<number>();
 * setTimeout(() => f.setResult(42), 10);
 * console.log(await f); // 42
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  #state = PENDING;
  #value: T | undefined = undefined;
  #error: unknown = undefined;
  #callbacks: DoneCallback<T>[] | null = null;
  #promise: Promise<T> | null = null;
  #resolve: ((value: T) => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;

  get [Symbol.toStringTag](): string {
    return "Future";
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#getPromise().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#getPromise().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#getPromise().finally(onFinally);
  }

  /** The Promise view of this Future (created on first use). */
  asPromise(): Promise<T> {
    return this.#getPromise();
  }

  #getPromise(): Promise<T> {
    if (this.#promise === null) {
      if (this.#state === RESOLVED) this.#promise = Promise.resolve(this.#value as T);
      else if (this.#state !== PENDING) this.#promise = Promise.reject(this.#error);
      else {
        this.#promise = new Promise<T>((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
      }
    }
    return this.#promise;
  }

  /** True once the Future has a result, an exception, or was cancelled. */
  done(): boolean {
    return this.#state !== PENDING;
  }

  /** True if the Future was cancelled. */
  cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /**
   * The result of a done Future.
   * @throws the Future's exception; {@link CancelledError} if cancelled;
   *   {@link InvalidStateError} if not done.
   */
  result(): T {
    if (this.#state === RESOLVED) return this.#value as T;
    if (this.#state === PENDING) throw new InvalidStateError("Result is not ready.");
    throw this.#error;
  }

  /**
   * The exception of a done Future, or `undefined` if it succeeded.
   * @throws {@link CancelledError} if cancelled; {@link InvalidStateError} if not done.
   */
  exception(): unknown {
    if (this.#state === PENDING) throw new InvalidStateError("Exception is not set.");
    if (this.#state === CANCELLED) throw this.#error;
    return this.#state === REJECTED ? this.#error : undefined;
  }

  /**
   * Completes the Future with a value.
   * @throws {@link InvalidStateError} if already done.
   */
  setResult(value: T): void {
    if (this.#state !== PENDING) throw new InvalidStateError(`Future already ${this.#describe()}`);
    this.#state = RESOLVED;
    this.#value = value;
    if (this.#resolve !== null) this.#resolve(value);
    this.#finish();
  }

  /**
   * Completes the Future with an error.
   * @throws {@link InvalidStateError} if already done.
   */
  setException(error: unknown): void {
    if (this.#state !== PENDING) throw new InvalidStateError(`Future already ${this.#describe()}`);
    this.#state = REJECTED;
    this.#error = error;
    if (this.#reject !== null) this.#reject(error);
    this.#finish();
  }

  /**
   * Cancels a pending Future: it fails with {@link CancelledError}.
   * @returns false if the Future was already done.
   */
  cancel(message?: string): boolean {
    if (this.#state !== PENDING) return false;
    this.#state = CANCELLED;
    this.#error = new CancelledError(message);
    if (this.#reject !== null) this.#reject(this.#error);
    this.#finish();
    return true;
  }

  /** Runs `callback(this)` once done, on a later microtask (even if already done). */
  addDoneCallback(callback: DoneCallback<T>): void {
    if (this.#state !== PENDING) {
      queueMicrotask(() => runDoneCallback(callback, this));
      return;
    }
    if (this.#callbacks === null) this.#callbacks = [callback];
    else this.#callbacks.push(callback);
  }

  /** Removes a callback added with {@link addDoneCallback}. @returns how many were removed. */
  removeDoneCallback(callback: DoneCallback<T>): number {
    if (this.#callbacks === null) return 0;
    const before = this.#callbacks.length;
    this.#callbacks = this.#callbacks.filter((cb) => cb !== callback);
    return before - this.#callbacks.length;
  }

  #describe(): string {
    return this.#state === RESOLVED
      ? "resolved"
      : this.#state === REJECTED
        ? "failed"
        : "cancelled";
  }

  #finish(): void {
    const callbacks = this.#callbacks;
    if (callbacks === null) return;
    this.#callbacks = null;
    queueMicrotask(() => {
      for (const cb of callbacks) runDoneCallback(cb, this);
    });
  }
}

function runDoneCallback<T>(callback: DoneCallback<T>, future: Future<T>): void {
  try {
    callback(future);
  } catch (error) {
    appLog.error("Exception in callback %s for %s", callback.name || "<anonymous>", future, error);
  }
}

/** True if `value` is a {@link Future}. */
export function isFuture(value: unknown): value is Future<unknown> {
  return value instanceof Future;
}

/**
 * Copies the outcome of `a` onto `b` when `a` completes, unless `b` is done by then
 * (for example, cancelled).
 */
export function chainFuture<T>(a: Future<T> | PromiseLike<T>, b: Future<T>): void {
  if (a instanceof Future) {
    futureAddDoneCallback(a, (done) => {
      if (b.done()) return;
      if (done.cancelled()) b.cancel();
      else {
        const error = done.exception();
        if (error !== undefined) b.setException(error);
        else b.setResult(done.result());
      }
    });
    return;
  }
  a.then(
    (value) => {
      if (!b.done()) b.setResult(value);
    },
    (error: unknown) => {
      if (!b.done()) b.setException(error);
    },
  );
}

/** Sets `future`'s result unless it was cancelled (a cancelled Future is left alone). */
export function futureSetResultUnlessCancelled<T>(future: Future<T>, value: T): void {
  if (!future.cancelled()) future.setResult(value);
}

/**
 * Sets `future`'s exception unless it was cancelled; then the error is logged instead,
 * so that it is not lost.
 */
export function futureSetExceptionUnlessCancelled<T>(future: Future<T>, error: unknown): void {
  if (!future.cancelled()) future.setException(error);
  else appLog.error("Exception after Future was cancelled", error);
}

/**
 * Runs `callback(future)` when `future` is done: inline if it already is (unlike
 * {@link Future.addDoneCallback}). Plain Promises are accepted too; the callback then
 * receives a done Future mirroring the Promise.
 */
export function futureAddDoneCallback<T>(
  future: Future<T> | PromiseLike<T>,
  callback: DoneCallback<T>,
): void {
  if (future instanceof Future) {
    if (future.done()) callback(future);
    else future.addDoneCallback(callback);
    return;
  }
  const mirror = new Future<T>();
  future.then(
    (value) => {
      mirror.setResult(value);
      callback(mirror);
    },
    (error: unknown) => {
      mirror.setException(error);
      callback(mirror);
    },
  );
}

/** Something that runs functions and returns their results as Promises (see `IOLoop.runInExecutor`). */
export interface Executor {
  submit<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Promise<R>;
  shutdown(wait?: boolean): Promise<void> | void;
}

/** An {@link Executor} that runs each function inline, on the calling turn of the loop. */
export class DummyExecutor implements Executor {
  submit<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Promise<R> {
    try {
      return Promise.resolve(fn(...args));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  shutdown(): void {}
}

/** The shared {@link DummyExecutor}. */
export const dummyExecutor: DummyExecutor = new DummyExecutor();
