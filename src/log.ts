/**
 * Logging support: Tornado's `tornado.log`.
 *
 * Three loggers, as in Tornado: {@link accessLog} (`tornado.access`, one line per request),
 * {@link appLog} (`tornado.application`, errors from application code) and {@link genLog}
 * (`tornado.general`, everything else). Messages use `%s`-style placeholders, formatted only
 * when the record will be written. An `Error` passed after the placeholders' arguments is the
 * record's error (Tornado's `exc_info`): its stack is printed under the message.
 *
 * Records go to sinks ({@link LogSink}); the default sink writes Tornado's format to stderr.
 *
 * Main exports: {@link Logger}, {@link getLogger}, {@link accessLog}, {@link appLog},
 * {@link genLog}, {@link addSink}, {@link removeSink}, {@link setSinks}, {@link LogRecord}.
 */

import { format } from "node:util";

/** Level names, lowest first. */
export type LevelName = "debug" | "info" | "warning" | "error" | "critical";

/** Numeric levels, as in Python's `logging`. */
export const LEVELS: Readonly<Record<LevelName, number>> = Object.freeze({
  debug: 10,
  info: 20,
  warning: 30,
  error: 40,
  critical: 50,
});

/** Level number that disables a logger entirely. */
export const LEVEL_NONE = 100;

/** One log event, as handed to sinks. */
export interface LogRecord {
  /** Logger name, e.g. `tornado.access`. */
  readonly name: string;
  readonly level: LevelName;
  readonly levelNo: number;
  /** The message with its arguments substituted. */
  readonly message: string;
  /** The message template as given. */
  readonly template: string;
  /** The arguments given after the template (without the trailing error). */
  readonly args: readonly unknown[];
  /** The error attached to the record (Tornado's `exc_info`), if any. */
  readonly error: unknown;
  /** Wall-clock time of the event, ms since the epoch. */
  readonly time: number;
}

/** Where log records go: a formatter writing to stderr, a file, pino, console, a test capture. */
export interface LogSink {
  write(record: LogRecord): void;
}

const placeholderRe = /%[sdifjoOc%]/g;

function countPlaceholders(template: string): number {
  let n = 0;
  for (const m of template.matchAll(placeholderRe)) if (m[0] !== "%%") n++;
  return n;
}

/** Decides before the sinks whether a record is written; return false to drop it. */
export type LogFilter = (record: LogRecord) => boolean;

let sinks: LogSink[] = [];
let filters: LogFilter[] = [];
const loggers = new Map<string, Logger>();
let rootLevel: number = LEVELS.info;

/** A named logger. Get one with {@link getLogger}. */
export class Logger {
  readonly name: string;
  #level: number | undefined = undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** The effective level: this logger's own, else the global one ({@link setLevel}). */
  get level(): number {
    return this.#level ?? rootLevel;
  }

  /** Sets this logger's own level (`undefined` to follow the global level again). */
  setLevel(level: LevelName | number | undefined): void {
    this.#level = level === undefined ? undefined : toLevelNo(level);
  }

  /** True if a record at `level` would be written. Guard expensive arguments with it. */
  isEnabledFor(level: LevelName): boolean {
    return LEVELS[level] >= this.level && sinks.length > 0;
  }

  debug(template: string, ...args: unknown[]): void {
    this.log("debug", template, args);
  }

  info(template: string, ...args: unknown[]): void {
    this.log("info", template, args);
  }

  warning(template: string, ...args: unknown[]): void {
    this.log("warning", template, args);
  }

  error(template: string, ...args: unknown[]): void {
    this.log("error", template, args);
  }

  critical(template: string, ...args: unknown[]): void {
    this.log("critical", template, args);
  }

  /** Writes a record at `level`; an `Error` after the placeholders' arguments is attached. */
  log(level: LevelName, template: string, args: unknown[]): void {
    const levelNo = LEVELS[level];
    if (levelNo < this.level || sinks.length === 0) return;
    let error: unknown;
    if (args.length > 0) {
      const last = args[args.length - 1];
      if (last instanceof Error && countPlaceholders(template) < args.length) {
        error = last;
        args = args.slice(0, -1);
      }
    }
    const message = args.length === 0 ? template : format(template, ...args);
    const record: LogRecord = {
      name: this.name,
      level,
      levelNo,
      message,
      template,
      args,
      error,
      time: Date.now(),
    };
    for (const filter of filters) if (!filter(record)) return;
    for (const sink of sinks) {
      try {
        sink.write(record);
      } catch {
        // A broken sink must not break the code that logs.
      }
    }
  }
}

function toLevelNo(level: LevelName | number): number {
  if (typeof level === "number") return level;
  const n = LEVELS[level];
  if (n === undefined) throw new RangeError(`unknown log level: ${String(level)}`);
  return n;
}

/** The logger named `name`, created on first use. */
export function getLogger(name: string): Logger {
  let logger = loggers.get(name);
  if (logger === undefined) {
    logger = new Logger(name);
    loggers.set(name, logger);
  }
  return logger;
}

/** Sets the global level (loggers without their own level follow it). `"none"` silences. */
export function setLevel(level: LevelName | "none" | number): void {
  rootLevel = level === "none" ? LEVEL_NONE : toLevelNo(level);
}

/** The global level number. */
export function getLevel(): number {
  return rootLevel;
}

/** Adds a sink; records go to every sink in the order added. */
export function addSink(sink: LogSink): void {
  sinks.push(sink);
}

/** Removes a sink added with {@link addSink}. */
export function removeSink(sink: LogSink): void {
  sinks = sinks.filter((s) => s !== sink);
}

/** Adds a filter run before the sinks (test captures such as `ExpectLog` use this). */
export function addFilter(filter: LogFilter): void {
  filters.push(filter);
}

/** Removes a filter added with {@link addFilter}. */
export function removeFilter(filter: LogFilter): void {
  filters = filters.filter((f) => f !== filter);
}

/** Replaces all sinks; returns the previous list (to restore later). */
export function setSinks(next: LogSink[]): LogSink[] {
  const previous = sinks;
  sinks = [...next];
  return previous;
}

/** The sinks in use. */
export function getSinks(): readonly LogSink[] {
  return sinks;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Tornado's date format `%y%m%d %H:%M:%S`, local time. */
export function formatLogTime(time: number): string {
  const d = new Date(time);
  return (
    pad2(d.getFullYear() % 100) +
    pad2(d.getMonth() + 1) +
    pad2(d.getDate()) +
    " " +
    pad2(d.getHours()) +
    ":" +
    pad2(d.getMinutes()) +
    ":" +
    pad2(d.getSeconds())
  );
}

/** Formats a record as Tornado does: `[I 240101 12:00:00 web] message`, error stack indented. */
export function formatRecord(record: LogRecord): string {
  const short = record.name.slice(record.name.lastIndexOf(".") + 1);
  let text = `[${record.level[0]!.toUpperCase()} ${formatLogTime(record.time)} ${short}] ${record.message}`;
  if (record.error !== undefined) {
    const error = record.error;
    const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    text += `\n${detail}`;
  }
  return text.includes("\n") ? text.replace(/\n/g, "\n    ") : text;
}

/** The default sink: Tornado's format on stderr. */
export const stderrSink: LogSink = {
  write(record) {
    process.stderr.write(`${formatRecord(record)}\n`);
  },
};

sinks.push(stderrSink);

/** Per-request lines: `200 GET / (127.0.0.1) 0.50ms`. */
export const accessLog: Logger = getLogger("tornado.access");
/** Errors from application code (handlers, callbacks). */
export const appLog: Logger = getLogger("tornado.application");
/** Everything else: connection errors, protocol problems. */
export const genLog: Logger = getLogger("tornado.general");
