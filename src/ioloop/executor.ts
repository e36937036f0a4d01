/**
 * A pool of `node:worker_threads` workers that runs functions off the event loop: the
 * executor behind `IOLoop.runInExecutor` (Tornado's default `ThreadPoolExecutor`).
 *
 * Main exports (re-exported by `tornado-ts/ioloop`): {@link ThreadPoolExecutor},
 * {@link ExecutorError}, {@link moduleFunction}, {@link defaultMaxWorkers}.
 *
 * @remarks
 * A Python thread shares memory with the loop; a Node worker does not. So a task crosses the
 * thread boundary as data:
 * - **The function must be self-contained.** Its source text (`fn.toString()`) is sent and
 *   compiled in the worker, so it cannot use variables from its enclosing scope (closures),
 *   `this`, or imports of the calling module; it sees only its arguments and the worker's
 *   globals. Use `await import("node:crypto")` inside it for modules. Native and bound
 *   functions have no source and are refused with a `TypeError`. For anything bigger, export
 *   the function from a module and pass {@link moduleFunction}`({ module, exportName })`:
 *   the worker imports the module (once) and calls the export.
 * - **Arguments and results are structured-cloned** (copied): plain data, arrays, Maps, Sets,
 *   Dates, typed arrays, Buffers (received as `Uint8Array`). Functions, class instances'
 *   prototypes and sockets do not cross; a result that cannot be cloned fails the task.
 * - **Errors propagate** with their class (for built-in errors) or `name`, `message`, `stack`
 *   (the worker's), `code` and other cloneable fields, and `cause`.
 * - Each worker runs one task at a time (an `async` task holds its worker until it settles);
 *   extra tasks wait in FIFO order.
 */

import { availableParallelism } from "node:os";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";
import type { Executor } from "../concurrent.js";
import { appLog } from "../log.js";
import { invalidArgument } from "./common.js";
import { deserializeError, type ResultMessage, type TaskMessage } from "./protocol.js";

const WORKER_URL = new URL("./worker.js", import.meta.url);

/** Codes of {@link ExecutorError}. */
export type ExecutorErrorCode =
  "ERR_EXECUTOR_SHUTDOWN" | "ERR_EXECUTOR_TERMINATED" | "ERR_EXECUTOR_WORKER_EXITED";

/**
 * Raised by a {@link ThreadPoolExecutor}: work submitted after `shutdown()`
 * (`ERR_EXECUTOR_SHUTDOWN`), work dropped by `terminate()` (`ERR_EXECUTOR_TERMINATED`), or a
 * worker thread that died while running the task (`ERR_EXECUTOR_WORKER_EXITED`, with the
 * worker's uncaught error as `cause` when there was one).
 */
export class ExecutorError extends Error {
  override name = "ExecutorError";
  readonly code: ExecutorErrorCode;
  constructor(code: ExecutorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Where a worker finds a function: a module and the name of one of its exports. */
export interface ModuleFunctionSpec {
  /**
   * The module: a `URL` (`new URL("./work.js", import.meta.url)`), a `file:` URL string, an
   * absolute path, or a bare package specifier (resolved as if imported from tornado-ts
   * itself). Relative paths are refused: the worker cannot know what they are relative to.
   */
  module: string | URL;
  /** @defaultValue `"default"` */
  exportName?: string;
}

const MODULE_SPEC = Symbol("tornado-ts.ioloop.moduleSpec");

interface ModuleReference {
  module: string;
  exportName: string;
}

function normaliseModule(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw invalidArgument("module must be a URL, an absolute path or a package name");
  }
  if (module.startsWith(".")) {
    throw invalidArgument(
      `relative module ${JSON.stringify(module)}: pass new URL(${JSON.stringify(module)}, import.meta.url)`,
    );
  }
  if (isAbsolute(module)) return pathToFileURL(module).href;
  return module;
}

/**
 * A function that calls the export `exportName` of `module`. In this thread it imports the
 * module and calls the export; a {@link ThreadPoolExecutor} sends only the reference, and its
 * worker imports the module itself. Use it for work that needs imports or is too big to be
 * self-contained.
 *
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for a relative or empty module specifier.
 * @example
 * ```ts
 * const hash = moduleFunction<[Uint8Array], string>({
 *   module: new URL("./hash.js", import.meta.url),
 *   exportName: "sha256",
 * });
 * const digest = await IOLoop.current().runInExecutor(null, hash, data);
 * ```
 */
export function moduleFunction<A extends unknown[] = unknown[], R = unknown>(
  spec: ModuleFunctionSpec,
): (...args: A) => Promise<Awaited<R>> {
  if (spec === null || typeof spec !== "object") {
    throw invalidArgument("moduleFunction expects { module, exportName }");
  }
  const reference: ModuleReference = {
    module: normaliseModule(spec.module),
    exportName: spec.exportName ?? "default",
  };
  if (typeof reference.exportName !== "string")
    throw invalidArgument("exportName must be a string");
  const fn = async (...args: A): Promise<Awaited<R>> => {
    const namespace = (await import(reference.module)) as Record<string, unknown>;
    const target = namespace[reference.exportName];
    if (typeof target !== "function") {
      throw new TypeError(
        `export ${JSON.stringify(reference.exportName)} of ${reference.module} is not a function`,
      );
    }
    return (await target(...args)) as Awaited<R>;
  };
  Object.defineProperty(fn, MODULE_SPEC, { value: reference });
  return fn;
}

/**
 * The default pool size: the number of CPUs (`os.availableParallelism()`), at least 2.
 *
 * Tornado sizes its thread pool at `cpu_count() * 5` because Python threads mostly wait on
 * blocking I/O. A Node worker is a whole V8 isolate (about 10 MB and tens of ms to start), and
 * Node already does its blocking I/O off the loop, so workers are for CPU-bound work and for
 * the rare blocking call: more workers than CPUs would only contend. At least 2 so that two
 * tasks that wait on each other can both run.
 */
export function defaultMaxWorkers(): number {
  return Math.max(2, availableParallelism());
}

/** Flags about the process's entry point, which a worker (started from a file) rejects. */
const ENTRY_FLAGS_WITH_VALUE = new Set(["-e", "--eval", "-p", "--print", "--input-type"]);
const ENTRY_FLAGS = new Set(["-i", "--interactive", "-c", "--check", "--test", "--watch"]);

/**
 * The process's `execArgv` without the flags that describe its own entry point (`-e`,
 * `--input-type`, `--test*`, `--watch*`): Node passes them on to workers by default, and a
 * worker started from a file fails on them (`ERR_INPUT_TYPE_NOT_ALLOWED`). Loaders,
 * conditions and V8 flags are kept.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split("=", 1)[0]!;
    if (ENTRY_FLAGS_WITH_VALUE.has(name)) {
      if (!arg.includes("=")) i++; // the value is the next argument
      continue;
    }
    if (ENTRY_FLAGS.has(name)) continue;
    if (name.startsWith("--test-") || name.startsWith("--watch-")) {
      const next = argv[i + 1];
      if (!arg.includes("=") && next !== undefined && !next.startsWith("-")) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Options for {@link ThreadPoolExecutor}. */
export interface ThreadPoolExecutorOptions {
  /** Most worker threads alive at once. @defaultValue {@link defaultMaxWorkers}() */
  maxWorkers?: number;
  /**
   * Passed to each `new Worker()`: `resourceLimits`, `env`, `name`, `stdout`/`stderr`,
   * `execArgv`. By default `execArgv` is the process's own minus its entry-point flags
   * (`-e`, `--input-type`, `--test*`, `--watch*`), so loaders such as `--import tsx` apply
   * to module tasks.
   */
  workerOptions?: Omit<WorkerOptions, "eval" | "workerData" | "transferList">;
}

interface Task {
  message: TaskMessage;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  task: Task | null;
  /** The worker's uncaught error, kept for its `exit` event. */
  error: unknown;
}

/**
 * An {@link Executor} that runs each task on one of a pool of worker threads, so CPU-bound or
 * blocking work does not stall the event loop.
 *
 * Workers start lazily, one per task while fewer than `maxWorkers` exist, and are kept for
 * later tasks. A worker running a task keeps the process alive (the task's Promise is still
 * pending); an idle worker is `unref()`ed, so a process (or a test file) exits normally with
 * an idle pool. {@link shutdown} lets queued work finish and stops the threads;
 * {@link terminate} stops them at once. See the module remarks for what a task may contain.
 *
 * @example
 * ```ts
 * const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const n = await pool.submit((limit: number) => {
 *   let primes = 0;
 *   for (let i = 2; i < limit; i++) {
 *     let prime = true;
 *     for (let d = 2; d * d <= i; d++) if (i % d === 0) { prime = false; break; }
 *     if (prime) primes++;
 *   }
 *   return primes;
 * }, 1_000_000);
 * await pool.shutdown();
 * ```
 */
export class ThreadPoolExecutor implements Executor {
  /** Most worker threads alive at once. */
  readonly maxWorkers: number;
  readonly #workerOptions: WorkerOptions;
  readonly #workers: PoolWorker[] = [];
  readonly #idle: PoolWorker[] = [];
  readonly #queue: Task[] = [];
  #nextId = 1;
  #shutdown = false;
  #finished: Promise<void> | null = null;
  #resolveFinished: (() => void) | null = null;

  /** @throws RangeError if `maxWorkers` is not a positive integer. */
  constructor(options: ThreadPoolExecutorOptions = {}) {
    const maxWorkers = options.maxWorkers ?? defaultMaxWorkers();
    if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
      throw new RangeError(`maxWorkers must be a positive integer, got ${String(maxWorkers)}`);
    }
    this.maxWorkers = maxWorkers;
    this.#workerOptions = { execArgv: workerExecArgv(), ...options.workerOptions };
  }

  /** Worker threads alive now (busy or idle). */
  get workerCount(): number {
    return this.#workers.length;
  }

  /** Tasks waiting for a free worker. */
  get pendingCount(): number {
    return this.#queue.length;
  }

  /** True once {@link shutdown} or {@link terminate} was called. */
  get isShutdown(): boolean {
    return this.#shutdown;
  }

  /**
   * Runs `fn(...args)` on a worker thread.
   * @param fn a self-contained function (its source is sent) or a {@link moduleFunction}.
   * @param args structured-cloned to the worker.
   * @returns a Promise of the (structured-cloned) result; it rejects with the task's error,
   *   with `DataCloneError` if an argument or the result cannot be cloned, or with
   *   {@link ExecutorError} (`ERR_EXECUTOR_SHUTDOWN` after shutdown,
   *   `ERR_EXECUTOR_WORKER_EXITED` if the thread dies, `ERR_EXECUTOR_TERMINATED`).
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) if `fn` is not a function, or is native or
   *   bound (no source to send).
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Promise<R> {
    if (typeof fn !== "function") throw invalidArgument("executor task must be a function");
    const message: TaskMessage = { id: 0, args };
    const reference = (fn as unknown as { [MODULE_SPEC]?: ModuleReference })[MODULE_SPEC];
    if (reference !== undefined) {
      message.module = reference.module;
      message.exportName = reference.exportName;
    } else {
      const source = Function.prototype.toString.call(fn);
      if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
        throw invalidArgument(
          `cannot run ${fn.name || "a function"} in a worker: native and bound functions have no source`,
        );
      }
      message.source = source;
    }
    if (this.#shutdown) {
      return Promise.reject(
        new ExecutorError("ERR_EXECUTOR_SHUTDOWN", "cannot schedule new work after shutdown"),
      );
    }
    message.id = this.#nextId++;
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      this.#pump();
    });
  }

  /**
   * Stops accepting work; queued and running tasks still finish, then the threads exit.
   * @param wait if true (default) the Promise resolves once every thread has exited; if
   *   false it resolves at once and the pool winds down by itself.
   */
  shutdown(wait = true): Promise<void> {
    this.#shutdown = true;
    if (this.#finished === null) {
      this.#finished = new Promise<void>((resolve) => {
        this.#resolveFinished = resolve;
      });
    }
    this.#maybeFinish();
    return wait ? this.#finished : Promise.resolve();
  }

  /**
   * Stops every thread now. Queued and running tasks reject with {@link ExecutorError}
   * `ERR_EXECUTOR_TERMINATED` (a running task is interrupted mid-way).
   * @returns a Promise resolved once the threads have exited.
   */
  async terminate(): Promise<void> {
    this.#shutdown = true;
    const error = () => new ExecutorError("ERR_EXECUTOR_TERMINATED", "executor was terminated");
    for (const task of this.#queue.splice(0)) task.reject(error());
    const workers = this.#workers.splice(0);
    this.#idle.length = 0;
    for (const entry of workers) {
      const task = entry.task;
      entry.task = null;
      task?.reject(error());
    }
    await Promise.all(workers.map((entry) => entry.worker.terminate()));
    this.#resolveFinished?.();
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let entry = this.#idle.pop();
      if (entry === undefined) {
        if (this.#workers.length >= this.maxWorkers) return;
        const task = this.#queue[0]!;
        try {
          entry = this.#spawn();
        } catch (error) {
          // The thread could not start (bad execArgv, resource limits): fail this task
          // rather than leave it queued forever.
          this.#queue.shift();
          task.reject(error);
          continue;
        }
      }
      this.#dispatch(entry, this.#queue.shift()!);
    }
  }

  #dispatch(entry: PoolWorker, task: Task): void {
    try {
      entry.worker.postMessage(task.message);
    } catch (error) {
      // An argument could not be cloned: only this task fails; the worker stays idle.
      task.reject(error);
      entry.worker.unref();
      this.#idle.push(entry);
      return;
    }
    entry.task = task;
    entry.worker.ref();
  }

  #spawn(): PoolWorker {
    const worker = new Worker(WORKER_URL, this.#workerOptions);
    const entry: PoolWorker = { worker, task: null, error: undefined };
    worker.on("message", (message: ResultMessage) => this.#onResult(entry, message));
    worker.on("error", (error: unknown) => {
      entry.error = error;
    });
    worker.on("exit", (code: number) => this.#onExit(entry, code));
    this.#workers.push(entry);
    return entry;
  }

  #onResult(entry: PoolWorker, message: ResultMessage): void {
    const task = entry.task;
    if (task === null || task.message.id !== message.id) return;
    entry.task = null;
    if (message.ok) task.resolve(message.value);
    else task.reject(deserializeError(message.error!));
    this.#idle.push(entry);
    this.#pump();
    // Idle now: let the process exit if nothing else is going on.
    if (entry.task === null) entry.worker.unref();
    this.#maybeFinish();
  }

  #onExit(entry: PoolWorker, code: number): void {
    const index = this.#workers.indexOf(entry);
    if (index < 0) return; // removed by terminate() or shutdown
    this.#workers.splice(index, 1);
    const idleIndex = this.#idle.indexOf(entry);
    if (idleIndex >= 0) this.#idle.splice(idleIndex, 1);
    const task = entry.task;
    entry.task = null;
    const cause = entry.error;
    if (task !== null) {
      task.reject(
        new ExecutorError(
          "ERR_EXECUTOR_WORKER_EXITED",
          `executor worker thread exited (code ${code}) while running a task`,
          cause === undefined ? undefined : { cause },
        ),
      );
    } else if (cause !== undefined) {
      appLog.error("Executor worker thread died with an uncaught error", cause);
    }
    this.#pump();
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (!this.#shutdown || this.#resolveFinished === null) return;
    if (this.#queue.length > 0 || this.#workers.some((entry) => entry.task !== null)) return;
    const workers = this.#workers.splice(0);
    this.#idle.length = 0;
    const resolve = this.#resolveFinished;
    this.#resolveFinished = null;
    Promise.all(workers.map((entry) => entry.worker.terminate())).then(
      () => resolve(),
      () => resolve(),
    );
  }
}
