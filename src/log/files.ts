/**
 * {@link FileSink}: log files rotated by size or by time, as Python's `RotatingFileHandler` and
 * `TimedRotatingFileHandler`. Re-exported by `tornado-ts/log`.
 */

import {
  closeSync,
  fstatSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { LogFormatter, strftime } from "./format.js";
import type { LogRecord, LogRecordFormatter, LogSink } from "./record.js";

/** When a {@link FileSink} in time mode rotates: Python's `TimedRotatingFileHandler` `when`. */
export type RotateWhen =
  "S" | "M" | "H" | "D" | "midnight" | "W0" | "W1" | "W2" | "W3" | "W4" | "W5" | "W6";

/** Options for {@link FileSink}. */
export interface FileSinkOptions {
  /** @defaultValue a {@link LogFormatter} without colour */
  formatter?: LogRecordFormatter;
  /** `"size"` rotates past `maxBytes`, `"time"` on the `when` schedule. @defaultValue "size" */
  rotateMode?: "size" | "time";
  /** Size mode: rotate before a line would take the file to this many bytes; 0 never. @defaultValue 0 */
  maxBytes?: number;
  /** Rotated files kept (`log.1` … `log.N`, or dated names); 0 keeps none. @defaultValue 0 */
  backupCount?: number;
  /** Time mode: the unit (seconds, minutes, hours, days, midnight, weekday). @defaultValue "midnight" */
  when?: RotateWhen;
  /** Time mode: how many units between rotations. @defaultValue 1 */
  interval?: number;
  /** Time mode: use UTC rather than local time for schedules and names. @defaultValue false */
  utc?: boolean;
}

const SECOND = 1000;
const DAY = 86_400_000;

/** A configuration error in logging options (Python raises `ValueError`). */
export class LoggingConfigError extends RangeError {
  override name = "LoggingConfigError";
  readonly code = "ERR_LOGGING_CONFIG";
}

/**
 * Appends formatted records to a file, rotating it by size (Python's `RotatingFileHandler`:
 * `log` → `log.1` → … → `log.N`) or by time (`TimedRotatingFileHandler`: `log` →
 * `log.2024-01-01`). Writes are synchronous, as Python's are: a line is on disk (in the OS
 * cache) when the logging call returns, and ordering is never lost.
 *
 * Time rotation is decided by each record's `time`.
 */
export class FileSink implements LogSink {
  /** The current log file (rotated files get suffixes). */
  readonly path: string;
  /** How records become lines. */
  readonly formatter: LogRecordFormatter;
  readonly #mode: "size" | "time";
  readonly #maxBytes: number;
  readonly #backupCount: number;
  readonly #when: RotateWhen;
  readonly #intervalMs: number;
  readonly #interval: number;
  readonly #utc: boolean;
  #fd: number | null;
  #size: number;
  #rolloverAt: number;

  /**
   * Opens (creates) `path` for appending.
   * @throws LoggingConfigError for a bad `rotateMode`, `when`, size or count.
   * @throws Error from the file system when the file cannot be opened.
   */
  constructor(path: string, options: FileSinkOptions = {}) {
    this.path = path;
    this.formatter = options.formatter ?? new LogFormatter({ color: false });
    const mode = options.rotateMode ?? "size";
    if (mode !== "size" && mode !== "time") {
      throw new LoggingConfigError(
        `The value of log_rotate_mode option should be "size" or "time", not "${String(mode)}".`,
      );
    }
    this.#mode = mode;
    this.#maxBytes = nonNegative("maxBytes", options.maxBytes ?? 0);
    this.#backupCount = nonNegative("backupCount", options.backupCount ?? 0);
    this.#when = options.when ?? "midnight";
    this.#interval = options.interval ?? 1;
    if (!Number.isInteger(this.#interval) || this.#interval < 1) {
      throw new LoggingConfigError(`interval must be a positive integer: ${this.#interval}`);
    }
    const unit = { S: SECOND, M: 60 * SECOND, H: 3600 * SECOND, D: DAY }[this.#when as "S"];
    const weekly = /^W[0-6]$/.test(this.#when);
    if (unit === undefined && this.#when !== "midnight" && !weekly) {
      throw new LoggingConfigError(`Invalid rollover interval specified: ${this.#when}`);
    }
    this.#intervalMs = (unit ?? (weekly ? 7 * DAY : DAY)) * this.#interval;
    this.#utc = options.utc ?? false;
    this.#fd = openSync(path, "a");
    this.#size = fstatSync(this.#fd).size;
    const started = mode === "time" ? fileTimeOrNow(path) : Date.now();
    this.#rolloverAt = mode === "time" ? this.#computeRollover(started) : Number.POSITIVE_INFINITY;
  }

  /** True when the formatter prints the caller's location. */
  get wantsCaller(): boolean {
    return this.formatter.wantsCaller === true;
  }

  /** Writes one record (rotating first if it is due). Does nothing once closed. */
  write(record: LogRecord): void {
    if (this.#fd === null) return;
    const line = Buffer.from(`${this.formatter.format(record)}\n`, "utf8");
    if (this.#mode === "size") {
      if (this.#maxBytes > 0 && this.#size > 0 && this.#size + line.length >= this.#maxBytes) {
        this.#rotateBySize();
      }
    } else if (record.time >= this.#rolloverAt) {
      this.#rotateByTime(record.time);
    }
    writeSync(this.#fd!, line);
    this.#size += line.length;
  }

  /** Closes the file; later records are dropped. */
  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }

  #reopen(): void {
    closeSync(this.#fd!);
    this.#fd = openSync(this.path, "w");
    this.#size = 0;
  }

  #rotateBySize(): void {
    if (this.#backupCount > 0) {
      for (let i = this.#backupCount - 1; i >= 1; i--) {
        renameIfExists(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
      rmSync(`${this.path}.1`, { force: true });
      renameIfExists(this.path, `${this.path}.1`);
    }
    this.#reopen();
  }

  #suffixPattern(): string {
    switch (this.#when) {
      case "S":
        return "%Y-%m-%d_%H-%M-%S";
      case "M":
        return "%Y-%m-%d_%H-%M";
      case "H":
        return "%Y-%m-%d_%H";
      default:
        return "%Y-%m-%d";
    }
  }

  #rotateByTime(now: number): void {
    // The rotated file is named after the start of the period it covers.
    const start = this.#rolloverAt - this.#intervalMs;
    const target = `${this.path}.${strftime(this.#suffixPattern(), start, this.#utc)}`;
    rmSync(target, { force: true });
    renameIfExists(this.path, target);
    this.#deleteOldTimedFiles();
    this.#reopen();
    let next = this.#computeRollover(now);
    while (next <= now) next += this.#intervalMs;
    this.#rolloverAt = next;
  }

  #deleteOldTimedFiles(): void {
    if (this.#backupCount <= 0) return;
    const directory = dirname(this.path);
    const prefix = `${basename(this.path)}.`;
    const suffixRe = /^\d{4}-\d{2}-\d{2}(_\d{2}(-\d{2}){0,2})?$/;
    const rotated = readdirSync(directory)
      .filter((name) => name.startsWith(prefix) && suffixRe.test(name.slice(prefix.length)))
      .sort();
    for (const name of rotated.slice(0, Math.max(0, rotated.length - this.#backupCount))) {
      rmSync(join(directory, name), { force: true });
    }
  }

  /** The next rotation time after `time`, as Python computes it. */
  #computeRollover(time: number): number {
    const when = this.#when;
    if (when !== "midnight" && !when.startsWith("W")) return time + this.#intervalMs;
    const d = new Date(time);
    const nextMidnight = this.#utc
      ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
      : new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
    // As in Python, the interval does not stretch midnight and weekday schedules.
    if (when === "midnight") return nextMidnight;
    // Python numbers weekdays from Monday = 0; JavaScript from Sunday = 0.
    const today = ((this.#utc ? d.getUTCDay() : d.getDay()) + 6) % 7;
    const wanted = Number(when.slice(1));
    if (today === wanted) return nextMidnight;
    const daysToWait = today < wanted ? wanted - today : 6 - today + wanted + 1;
    return nextMidnight + daysToWait * DAY;
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new LoggingConfigError(`${name} must be a non-negative integer: ${value}`);
  }
  return value;
}

function renameIfExists(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
}

function fileTimeOrNow(path: string): number {
  try {
    const stat = statSync(path);
    return stat.size > 0 ? stat.mtimeMs : Date.now();
  } catch {
    return Date.now();
  }
}
