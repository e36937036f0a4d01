/**
 * The data types of tornado-ts's logging: levels, {@link LogRecord}, {@link LogSink},
 * {@link LogRecordFormatter}. Re-exported by `tornado-ts/log`.
 */

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

/** Where a log call was made: Python's `%(module)s` and `%(lineno)d`. */
export interface CallerLocation {
  /** The file, as a path (or URL for non-file modules). */
  readonly file: string;
  /** The file's name without directory and extension: `web` for `dist/src/web.js`. */
  readonly module: string;
  /** Line number (1-based) in the running JavaScript. */
  readonly line: number;
}

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
  /** The calling code, present when a sink asked for it ({@link LogSink.wantsCaller}). */
  readonly caller?: CallerLocation;
}

/** Where log records go: a formatter writing to stderr, a file, pino, console, a test capture. */
export interface LogSink {
  write(record: LogRecord): void;
  /**
   * True if this sink prints the calling code's location. The logger then captures it (a
   * stack trace per record, a few microseconds), only while such a sink is installed.
   */
  readonly wantsCaller?: boolean;
}

/** Turns a record into text: {@link LogFormatter}, {@link JSONFormatter}, or your own. */
export interface LogRecordFormatter {
  format(record: LogRecord): string;
  /** True if the output uses the caller's location. */
  readonly wantsCaller?: boolean;
}

/** Decides before the sinks whether a record is written; return false to drop it. */
export type LogFilter = (record: LogRecord) => boolean;
