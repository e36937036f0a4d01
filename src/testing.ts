/**
 * Support for tests: Tornado's `tornado.testing`.
 *
 * The helpers tornado-ts's own suite uses, for `node:test` (or any runner):
 * {@link bindUnusedPort}, {@link ExpectLog}, {@link getAsyncTestTimeout}.
 */

import { createServer, type Server } from "node:net";
import {
  addFilter,
  getLogger,
  type LevelName,
  type LogFilter,
  type Logger,
  type LogRecord,
  removeFilter,
} from "./log.js";

/** The default timeout for asynchronous tests, in ms: 5000, or `ASYNC_TEST_TIMEOUT` (seconds). */
export function getAsyncTestTimeout(): number {
  const env = process.env["ASYNC_TEST_TIMEOUT"];
  if (env !== undefined && env !== "") {
    const seconds = Number(env);
    if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  }
  return 5000;
}

/**
 * Binds a listening TCP server to an ephemeral port on `address` (default `127.0.0.1`).
 * @returns the listening server and its port; close the server when done.
 */
export async function bindUnusedPort(
  address = "127.0.0.1",
): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const info = server.address();
  if (info === null || typeof info === "string") throw new Error("unexpected server address");
  return { server, port: info.port };
}

/** Options for {@link ExpectLog}. */
export interface ExpectLogOptions {
  /** Fail on `close()` if no record matched. @defaultValue true */
  required?: boolean;
  /** Only records at this level match. */
  level?: LevelName;
}

/**
 * Swallows and counts log records of `logger` whose message matches `regex`, as Tornado's
 * `ExpectLog` context manager does. Use with `using` or call {@link ExpectLog.close}.
 *
 * @example
 * ```ts
 * using _ = new ExpectLog(appLog, /Uncaught exception/);
 * await fetchThatFails();
 * ```
 */
export class ExpectLog implements Disposable {
  readonly logger: Logger;
  readonly regex: RegExp;
  readonly required: boolean;
  readonly level: LevelName | undefined;
  /** How many records matched. */
  matched = 0;
  /** Records that matched, newest last. */
  readonly records: LogRecord[] = [];
  readonly #filter: LogFilter;
  #closed = false;

  constructor(logger: Logger | string, regex: RegExp | string, options: ExpectLogOptions = {}) {
    this.logger = typeof logger === "string" ? getLogger(logger) : logger;
    this.regex = typeof regex === "string" ? new RegExp(regex) : regex;
    this.required = options.required ?? true;
    this.level = options.level;
    this.#filter = (record) => !this.#capture(record);
    addFilter(this.#filter);
  }

  /** Swallows and counts a matching record; @returns true if it matched. */
  #capture(record: LogRecord): boolean {
    if (record.name !== this.logger.name) return false;
    if (this.level !== undefined && record.level !== this.level) return false;
    if (!this.regex.test(record.message)) return false;
    this.matched++;
    this.records.push(record);
    return true;
  }

  /**
   * Stops capturing.
   * @throws Error if `required` and nothing matched.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    removeFilter(this.#filter);
    if (this.required && this.matched === 0) {
      throw new Error(`did not get expected log message: ${this.regex}`);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
