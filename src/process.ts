/**
 * Utilities for working with multiple processes: Tornado's `tornado.process`.
 *
 * - {@link forkProcesses} starts worker processes through `node:cluster` and supervises them
 *   (a crashed worker is restarted under the same task id); {@link taskId} tells a worker
 *   which one it is; {@link cpuCount} how many CPUs there are.
 * - {@link Subprocess} runs a child process whose pipes can be {@link PipeIOStream}s
 *   ({@link Subprocess.STREAM}), with an exit callback and {@link Subprocess.waitForExit}.
 *
 * Errors: {@link ForkProcessesError}, {@link CalledProcessError}, {@link SubprocessError}.
 */

import {
  type ChildProcess,
  type IOType,
  type SpawnOptions,
  spawn,
  type StdioNull,
  type StdioPipe,
} from "node:child_process";
import cluster, { type Worker } from "node:cluster";
import { availableParallelism, constants as osConstants } from "node:os";
import type { Stream } from "node:stream";
import { PipeIOStream } from "./iostream.js";
import { IOLoop } from "./ioloop.js";
import { genLog } from "./log.js";

/** The number of CPUs the process may use (at least 1). */
export function cpuCount(): number {
  try {
    return Math.max(1, availableParallelism());
  } catch {
    return 1;
  }
}

// The task id travels to each worker in its environment: a cluster worker re-runs the main
// script from the top, it does not inherit the primary's memory as a fork(2) child would.
const TASK_ID_ENV = "TORNADO_TS_TASK_ID";

let currentTaskId: number | null = null;

/**
 * The task id of this process (0 to n-1) when it is a worker started by
 * {@link forkProcesses}; null in the primary or a process that was not forked.
 */
export function taskId(): number | null {
  if (currentTaskId === null && cluster.isWorker) {
    const env = process.env[TASK_ID_ENV];
    if (env !== undefined && /^\d+$/.test(env)) currentTaskId = Number(env);
  }
  return currentTaskId;
}

/** {@link forkProcesses} cannot go on: too many restarts, or it was called from the wrong place. */
export class ForkProcessesError extends Error {
  override name = "ForkProcessesError";
  /**
   * `ERR_TOO_MANY_RESTARTS`; `ERR_NOT_FORKED` in a cluster worker not started by
   * forkProcesses; `ERR_ALREADY_FORKED` for a second call in the primary.
   */
  readonly code: "ERR_TOO_MANY_RESTARTS" | "ERR_NOT_FORKED" | "ERR_ALREADY_FORKED";
  constructor(message: string, code: ForkProcessesError["code"]) {
    super(message);
    this.code = code;
  }
}

let forking = false;

/**
 * Starts `numProcesses` worker processes and supervises them, as Tornado's `fork_processes`.
 *
 * The same script runs in each worker (that is how `node:cluster` works): in a worker this
 * resolves at once with its task id (0 to n-1), so the code after `await forkProcesses(n)`
 * runs once per worker. In the primary the returned Promise never resolves: the primary
 * restarts a worker that was killed by a signal or exited with a non-zero status (same task
 * id), and exits with status 0 when every worker has exited cleanly. Servers that workers
 * start on the same port share one listening socket, distributed by the cluster module.
 *
 * @param numProcesses - workers to start; null, 0 or less start one per CPU ({@link cpuCount}).
 * @param maxRestarts - restarts allowed in total before giving up. @defaultValue 100
 * @returns (in a worker) its task id.
 * @throws (rejects, in the primary) {@link ForkProcessesError} `ERR_TOO_MANY_RESTARTS` when
 *   more than `maxRestarts` restarts were needed (the remaining workers are left running);
 *   `ERR_NOT_FORKED` in a cluster worker that this function did not start;
 *   `ERR_ALREADY_FORKED` if called twice in the primary.
 */
export function forkProcesses(
  numProcesses: number | null = null,
  maxRestarts: number | null = 100,
): Promise<number> {
  if (cluster.isWorker) {
    const id = taskId();
    if (id === null) {
      return Promise.reject(
        new ForkProcessesError(
          "forkProcesses called in a cluster worker it did not start",
          "ERR_NOT_FORKED",
        ),
      );
    }
    return Promise.resolve(id);
  }
  if (forking) {
    return Promise.reject(
      new ForkProcessesError("forkProcesses already called in this process", "ERR_ALREADY_FORKED"),
    );
  }
  forking = true;
  const count =
    numProcesses === null || !Number.isFinite(numProcesses) || numProcesses <= 0
      ? cpuCount()
      : Math.floor(numProcesses);
  const restartLimit = maxRestarts ?? 100;
  genLog.info("Starting %d processes", count);
  return new Promise<number>((_resolve, reject) => {
    const children = new Map<number, number>(); // worker.id → task id
    let restarts = 0;
    const startChild = (id: number): void => {
      const worker = cluster.fork({ [TASK_ID_ENV]: String(id) });
      children.set(worker.id, id);
    };
    const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
      const id = children.get(worker.id);
      if (id === undefined) return;
      children.delete(worker.id);
      const pid = worker.process.pid;
      if (signal !== null && signal !== undefined) {
        genLog.warning("child %d (pid %d) killed by signal %s, restarting", id, pid, signal);
      } else if (code !== 0) {
        genLog.warning("child %d (pid %d) exited with status %d, restarting", id, pid, code);
      } else {
        genLog.info("child %d (pid %d) exited normally", id, pid);
        if (children.size === 0) {
          cluster.off("exit", onExit);
          process.exit(0);
        }
        return;
      }
      restarts++;
      if (restarts > restartLimit) {
        cluster.off("exit", onExit);
        reject(
          new ForkProcessesError("Too many child restarts, giving up", "ERR_TOO_MANY_RESTARTS"),
        );
        return;
      }
      startChild(id);
    };
    cluster.on("exit", onExit);
    for (let i = 0; i < count; i++) startChild(i);
  });
}

// ---------------------------------------------------------------------------------------------
// Subprocess

const STREAM: unique symbol = Symbol("Subprocess.STREAM");

/** One of a child's stdio: {@link Subprocess.STREAM}, or what `child_process.spawn` accepts. */
export type StdioSpec =
  typeof STREAM | IOType | StdioNull | StdioPipe | "ipc" | number | Stream | null | undefined;

/** Options for {@link Subprocess}: `spawn`'s, with stdin/stdout/stderr given one by one. */
export interface SubprocessOptions extends Omit<SpawnOptions, "stdio"> {
  /** @defaultValue "inherit" */
  stdin?: StdioSpec;
  /** @defaultValue "inherit" */
  stdout?: StdioSpec;
  /** @defaultValue "inherit" */
  stderr?: StdioSpec;
}

/** Options for {@link Subprocess.waitForExit}. */
export interface WaitForExitOptions {
  /** Reject with {@link CalledProcessError} on a non-zero exit status. @defaultValue true */
  raiseError?: boolean;
}

/** A child process exited with a non-zero status (Python's `subprocess.CalledProcessError`). */
export class CalledProcessError extends Error {
  override name = "CalledProcessError";
  readonly code = "ERR_CALLED_PROCESS";
  /** The exit status, or minus the signal number for a process killed by a signal. */
  readonly returncode: number;
  /** The command line. */
  readonly cmd: readonly string[];
  constructor(returncode: number, cmd: readonly string[]) {
    super(`Command ${JSON.stringify(cmd.join(" "))} returned non-zero exit status ${returncode}`);
    this.returncode = returncode;
    this.cmd = cmd;
  }
}

/** A child process could not be started (`cause`: `ENOENT`, `EACCES`, …). */
export class SubprocessError extends Error {
  override name = "SubprocessError";
  readonly code = "ERR_SPAWN";
  /** The command line. */
  readonly cmd: readonly string[];
  constructor(cmd: readonly string[], options?: ErrorOptions) {
    const reason = (options?.cause as NodeJS.ErrnoException | undefined)?.code;
    super(`Cannot run ${JSON.stringify(cmd[0])}${reason ? `: ${reason}` : ""}`, options);
    this.cmd = cmd;
  }
}

function toStdio(spec: StdioSpec): IOType | StdioNull | StdioPipe | "ipc" | number | Stream {
  if (spec === STREAM) return "pipe";
  if (spec === undefined) return "inherit";
  return spec;
}

/**
 * A child process, as Tornado's `Subprocess` (itself a wrapper of `subprocess.Popen`).
 *
 * Each of `stdin`, `stdout`, `stderr` given as {@link Subprocess.STREAM} becomes a
 * {@link PipeIOStream} on the same property; other values go to `child_process.spawn`
 * as they are (the Node stream is then on `proc`).
 *
 * @example
 * ```ts
 * const cat = new Subprocess(["cat"], { stdin: Subprocess.STREAM, stdout: Subprocess.STREAM });
 * await cat.stdin!.write("hello\n");
 * cat.stdin!.close();
 * const output = await cat.stdout!.readUntilClose();
 * const status = await cat.waitForExit();
 * ```
 */
export class Subprocess {
  /** Give it as stdin, stdout or stderr to get a {@link PipeIOStream} for that pipe. */
  static readonly STREAM: typeof STREAM = STREAM;

  /** The Node child process. */
  readonly proc: ChildProcess;
  /** The command line. */
  readonly args: readonly string[];
  /** A stream writing to the child's stdin, with `stdin: Subprocess.STREAM`. */
  readonly stdin: PipeIOStream | null;
  /** A stream reading the child's stdout, with `stdout: Subprocess.STREAM`. */
  readonly stdout: PipeIOStream | null;
  /** A stream reading the child's stderr, with `stderr: Subprocess.STREAM`. */
  readonly stderr: PipeIOStream | null;
  /** The exit status once known: minus the signal number if killed by a signal. */
  returncode: number | null;
  #spawnError: SubprocessError | null;
  #exitCallback: ((returncode: number) => unknown) | null;
  #waiters: { resolve: (code: number) => void; reject: (error: Error) => void; raise: boolean }[];

  /**
   * Starts `args[0]` with arguments `args.slice(1)`.
   * @throws TypeError for an empty or non-string `args`.
   */
  constructor(args: readonly string[], options: SubprocessOptions = {}) {
    if (!Array.isArray(args) || args.length === 0 || args.some((a) => typeof a !== "string")) {
      throw new TypeError("Subprocess needs a non-empty array of strings");
    }
    const { stdin, stdout, stderr, ...spawnOptions } = options;
    this.args = Object.freeze([...args]);
    this.returncode = null;
    this.#spawnError = null;
    this.#exitCallback = null;
    this.#waiters = [];
    this.proc = spawn(args[0]!, args.slice(1), {
      ...spawnOptions,
      stdio: [toStdio(stdin), toStdio(stdout), toStdio(stderr)],
    });
    this.stdin = stdin === STREAM && this.proc.stdin ? new PipeIOStream(this.proc.stdin) : null;
    this.stdout = stdout === STREAM && this.proc.stdout ? new PipeIOStream(this.proc.stdout) : null;
    this.stderr = stderr === STREAM && this.proc.stderr ? new PipeIOStream(this.proc.stderr) : null;
    this.proc.once("error", (error) => this.#onSpawnError(error));
    this.proc.once("exit", (code, signal) => this.#onExit(code, signal));
  }

  /** The child's process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /**
   * Runs `callback(returncode)` once the process exits (on a later turn of the loop; soon if
   * it already has). Replaces an earlier callback; independent of {@link waitForExit}.
   * Not called if the process could not be started.
   */
  setExitCallback(callback: ((returncode: number) => unknown) | null): void {
    this.#exitCallback = callback;
    if (callback !== null && this.returncode !== null) this.#runExitCallback();
  }

  /**
   * Waits for the process to exit.
   * @returns the exit status (minus the signal number if killed by a signal).
   * @throws (rejects) {@link CalledProcessError} for a non-zero status unless
   *   `raiseError: false`; {@link SubprocessError} if the process could not be started.
   */
  waitForExit(options: WaitForExitOptions = {}): Promise<number> {
    const raise = options.raiseError ?? true;
    if (this.#spawnError !== null) return Promise.reject(this.#spawnError);
    if (this.returncode !== null) return this.#settle(this.returncode, raise);
    return new Promise<number>((resolve, reject) => {
      this.#waiters.push({ resolve, reject, raise });
    });
  }

  #settle(returncode: number, raise: boolean): Promise<number> {
    if (raise && returncode !== 0) {
      return Promise.reject(new CalledProcessError(returncode, this.args));
    }
    return Promise.resolve(returncode);
  }

  #onSpawnError(error: Error): void {
    // 'error' also reports a failed kill() or send(); only a failure to start matters here.
    if (this.proc.pid !== undefined || this.returncode !== null) return;
    this.#spawnError = new SubprocessError(this.args, { cause: error });
    for (const stream of [this.stdin, this.stdout, this.stderr]) stream?.close();
    const waiters = this.#waiters.splice(0);
    for (const waiter of waiters) waiter.reject(this.#spawnError);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const returncode = code ?? (signal !== null ? -(osConstants.signals[signal] ?? 0) || -1 : -1);
    this.returncode = returncode;
    const waiters = this.#waiters.splice(0);
    for (const waiter of waiters) {
      if (waiter.raise && returncode !== 0) {
        waiter.reject(new CalledProcessError(returncode, this.args));
      } else waiter.resolve(returncode);
    }
    if (this.#exitCallback !== null) this.#runExitCallback();
  }

  #runExitCallback(): void {
    const callback = this.#exitCallback;
    const returncode = this.returncode;
    this.#exitCallback = null;
    if (callback === null || returncode === null) return;
    IOLoop.current().addCallback(callback, returncode);
  }
}
