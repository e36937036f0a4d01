/**
 * Logging support: Tornado's `tornado.log`.
 *
 * Three loggers, as in Tornado: {@link accessLog} (`tornado.access`, one line per request),
 * {@link appLog} (`tornado.application`, errors from application code) and {@link genLog}
 * (`tornado.general`, everything else). Messages use `%s`-style placeholders, formatted only
 * when the record will be written. An `Error` passed after the placeholders' arguments is the
 * record's error (Tornado's `exc_info`): its stack is printed under the message.
 *
 * Records go to sinks ({@link LogSink}): the default one writes Tornado's format to stderr;
 * {@link enablePrettyLogging} sets up Tornado's full format (`[I 240101 12:00:00 web:2250] …`,
 * coloured on a terminal) on stderr and in size- or time-rotated files, or one JSON object per
 * line. {@link consoleSink} and {@link pinoSink} hand records to a console or a pino logger.
 *
 * Main exports: {@link Logger}, {@link getLogger}, {@link accessLog}, {@link appLog},
 * {@link genLog}, {@link addSink}, {@link removeSink}, {@link setSinks}, {@link LogRecord},
 * {@link LogFormatter}, {@link JSONFormatter}, {@link StreamSink}, {@link FileSink},
 * {@link enablePrettyLogging}.
 */

import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import { FileSink, LoggingConfigError, type RotateWhen } from "./log/files.js";
import { formatRecord, JSONFormatter, LogFormatter } from "./log/format.js";
import {
  type CallerLocation,
  LEVEL_NONE,
  type LevelName,
  LEVELS,
  type LogFilter,
  type LogRecord,
  type LogRecordFormatter,
  type LogSink,
} from "./log/record.js";

export * from "./log/adapters.js";
export * from "./log/files.js";
export * from "./log/format.js";
export * from "./log/record.js";

const placeholderRe = /%[sdifjoOc%]/g;

function countPlaceholders(template: string): number {
  let n = 0;
  for (const m of template.matchAll(placeholderRe)) if (m[0] !== "%%") n++;
  return n;
}

let sinks: LogSink[] = [];
let filters: LogFilter[] = [];
const loggers = new Map<string, Logger>();
let rootLevel: number = LEVELS.info;
/** Whether any sink wants the caller's location (recomputed when the sinks change). */
let callerWanted = false;

function sinksChanged(): void {
  callerWanted = sinks.some((s) => s.wantsCaller === true);
}

// The caller is the first stack frame outside this file.
const THIS_FILE = import.meta.url;
const THIS_PATH = fileURLToPath(import.meta.url);
type CallSites = NodeJS.CallSite[];

function captureCaller(): CallerLocation | undefined {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    // Structured frames instead of a formatted stack: no string parsing, and few frames.
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.stackTraceLimit = 12;
    Error.captureStackTrace(holder, captureCaller);
    const sites = holder.stack as CallSites | undefined;
    if (!Array.isArray(sites)) return undefined;
    for (const site of sites) {
      const file = site.getFileName();
      if (file === undefined || file === null || file === THIS_FILE || file === THIS_PATH) continue;
      const path = file.startsWith("file:") ? fileURLToPath(file) : file;
      const name = basename(path);
      const dot = name.lastIndexOf(".");
      return {
        file: path,
        module: dot > 0 ? name.slice(0, dot) : name,
        line: site.getLineNumber() ?? 0,
      };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

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

  /** Writes a record at debug level. */
  debug(template: string, ...args: unknown[]): void {
    this.log("debug", template, args);
  }

  /** Writes a record at info level. */
  info(template: string, ...args: unknown[]): void {
    this.log("info", template, args);
  }

  /** Writes a record at warning level. */
  warning(template: string, ...args: unknown[]): void {
    this.log("warning", template, args);
  }

  /** Writes a record at error level. */
  error(template: string, ...args: unknown[]): void {
    this.log("error", template, args);
  }

  /** Writes a record at critical level. */
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
    let message: string;
    try {
      message = args.length === 0 ? String(template) : format(template, ...args);
    } catch (formatError) {
      // An argument whose toString throws must not break the code that logs.
      message = `Bad message (${String(formatError)}): ${String(template)}`;
    }
    const record: LogRecord = {
      name: this.name,
      level,
      levelNo,
      message,
      template,
      args,
      error,
      time: Date.now(),
      caller: callerWanted ? captureCaller() : undefined,
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
  const n = LEVELS[String(level).toLowerCase() as LevelName];
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

/**
 * Sets the global level (loggers without their own level follow it). `"none"` silences.
 * @throws RangeError for an unknown level name.
 */
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
  sinksChanged();
}

/** Removes a sink added with {@link addSink}. */
export function removeSink(sink: LogSink): void {
  sinks = sinks.filter((s) => s !== sink);
  sinksChanged();
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
  sinksChanged();
  return previous;
}

/** The sinks in use. */
export function getSinks(): readonly LogSink[] {
  return sinks;
}

/** The default sink: Tornado's format (without colour or caller) on stderr. */
export const stderrSink: LogSink = {
  write(record) {
    process.stderr.write(`${formatRecord(record)}\n`);
  },
};

/** Writes each record, formatted, as one line to a stream (stderr, stdout, a socket). */
export class StreamSink implements LogSink {
  /** Where the lines go. */
  readonly stream: NodeJS.WritableStream;
  /** How records become lines. */
  readonly formatter: LogRecordFormatter;

  /**
   * @param stream - where lines go. @defaultValue process.stderr
   * @param formatter - @defaultValue a {@link LogFormatter} for `stream` (coloured on a terminal)
   */
  constructor(stream: NodeJS.WritableStream = process.stderr, formatter?: LogRecordFormatter) {
    this.stream = stream;
    this.formatter = formatter ?? new LogFormatter({ stream });
  }

  /** True when the formatter prints the caller's location. */
  get wantsCaller(): boolean {
    return this.formatter.wantsCaller === true;
  }

  /** Writes the formatted record and a newline. */
  write(record: LogRecord): void {
    this.stream.write(`${this.formatter.format(record)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// enablePrettyLogging

/**
 * Tornado's logging options (`--logging`, `--log_to_stderr`, `--log_file_prefix`, …), as
 * `tornado-ts/options` defines them.
 */
export interface PrettyLoggingOptions {
  /** Level for all loggers; `"none"` or null leaves logging alone. @defaultValue "info" */
  logging?: LevelName | "none" | null;
  /**
   * Log to stderr (coloured on a terminal). By default only when no file is set and no other
   * sink than the default one is installed. @defaultValue null
   */
  logToStderr?: boolean | null;
  /** Log to this file (rotated per `logRotateMode`). @defaultValue null */
  logFilePrefix?: string | null;
  /** Size rotation: bytes per file. @defaultValue 100000000 */
  logFileMaxSize?: number;
  /** Rotated files kept. @defaultValue 10 */
  logFileNumBackups?: number;
  /** Time rotation: the unit. @defaultValue "midnight" */
  logRotateWhen?: RotateWhen;
  /** Time rotation: units between rotations. @defaultValue 1 */
  logRotateInterval?: number;
  /** `"size"` or `"time"`. @defaultValue "size" */
  logRotateMode?: "size" | "time";
  /** Write JSON lines ({@link JSONFormatter}) instead of Tornado's format. @defaultValue false */
  logJson?: boolean;
}

/** The defaults of {@link PrettyLoggingOptions}, as Tornado's `define_logging_options` has them. */
export const PRETTY_LOGGING_DEFAULTS: Readonly<Required<PrettyLoggingOptions>> = Object.freeze({
  logging: "info",
  logToStderr: null,
  logFilePrefix: null,
  logFileMaxSize: 100_000_000,
  logFileNumBackups: 10,
  logRotateWhen: "midnight",
  logRotateInterval: 1,
  logRotateMode: "size",
  logJson: false,
});

/**
 * Turns on formatted logging as configured (Tornado's `enable_pretty_logging`; the options
 * module calls it after parsing the command line): sets the level, adds a rotating file sink
 * when `logFilePrefix` is set, and a stderr sink in Tornado's format (coloured on a terminal)
 * when asked to or when nothing else would log. The plain default stderr sink is replaced.
 *
 * @param options - see {@link PrettyLoggingOptions}; unset fields take the defaults.
 * @param logger - set this logger's level instead of the global one.
 * @returns the sinks added (close a {@link FileSink} with `close()` when done).
 * @throws LoggingConfigError (`ERR_LOGGING_CONFIG`) for a bad rotate mode or level.
 */
export function enablePrettyLogging(
  options: PrettyLoggingOptions = {},
  logger?: Logger,
): LogSink[] {
  const o = { ...PRETTY_LOGGING_DEFAULTS, ...withoutUndefined(options) };
  if (o.logging === null || String(o.logging).toLowerCase() === "none") return [];
  let levelNo: number;
  try {
    levelNo = toLevelNo(o.logging as LevelName);
  } catch (error) {
    throw new LoggingConfigError(`unknown log level: ${String(o.logging)}`, { cause: error });
  }
  if (o.logRotateMode !== "size" && o.logRotateMode !== "time") {
    throw new LoggingConfigError(
      `The value of log_rotate_mode option should be "size" or "time", not "${String(o.logRotateMode)}".`,
    );
  }
  if (logger !== undefined) logger.setLevel(levelNo);
  else rootLevel = levelNo;
  const added: LogSink[] = [];
  if (o.logFilePrefix) {
    const file = new FileSink(o.logFilePrefix, {
      formatter: o.logJson ? new JSONFormatter() : new LogFormatter({ color: false }),
      rotateMode: o.logRotateMode,
      maxBytes: o.logFileMaxSize,
      backupCount: o.logFileNumBackups,
      when: o.logRotateWhen,
      interval: o.logRotateInterval,
    });
    added.push(file);
  }
  const hadDefault = sinks.includes(stderrSink);
  const othersExist = sinks.some((s) => s !== stderrSink) || added.length > 0;
  // The plain default sink gives way to what is configured here.
  if (hadDefault) sinks = sinks.filter((s) => s !== stderrSink);
  if (o.logToStderr === true || (o.logToStderr === null && !othersExist)) {
    added.push(new StreamSink(process.stderr, o.logJson ? new JSONFormatter() : undefined));
  }
  sinks.push(...added);
  sinksChanged();
  return added;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

sinks.push(stderrSink);

/** Per-request lines: `200 GET / (127.0.0.1) 0.50ms`. */
export const accessLog: Logger = getLogger("tornado.access");
/** Errors from application code (handlers, callbacks). */
export const appLog: Logger = getLogger("tornado.application");
/** Everything else: connection errors, protocol problems. */
export const genLog: Logger = getLogger("tornado.general");
