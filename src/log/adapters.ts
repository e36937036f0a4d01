/**
 * Sinks that hand records to other loggers: {@link consoleSink} (a console-shaped object) and
 * {@link pinoSink} (a pino-shaped logger). Re-exported by `tornado-ts/log`.
 */

import type { LogRecordFormatter, LogSink } from "./record.js";

/** What {@link consoleSink} needs: the methods of `console`. */
export interface ConsoleLike {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * A sink that hands records to a console-shaped object (`console`, a browser-like logger):
 * debug → `debug`, info → `info`, warning → `warn`, error and critical → `error`.
 * Without a formatter the arguments are `"logger: message"` and the error object (so the
 * console prints its stack); with one, the formatted text alone.
 */
export function consoleSink(
  target: ConsoleLike = console,
  options: { formatter?: LogRecordFormatter } = {},
): LogSink {
  const formatter = options.formatter;
  return {
    wantsCaller: formatter?.wantsCaller === true,
    write(record) {
      const method =
        record.level === "debug"
          ? "debug"
          : record.level === "info"
            ? "info"
            : record.level === "warning"
              ? "warn"
              : "error";
      if (formatter !== undefined) target[method](formatter.format(record));
      else if (record.error !== undefined) {
        target[method](`${record.name}: ${record.message}`, record.error);
      } else target[method](`${record.name}: ${record.message}`);
    },
  };
}

/** What {@link pinoSink} needs: pino's level methods, `(mergingObject, message)`. */
export interface PinoLike {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
  fatal?(object: object, message: string): void;
}

/**
 * A sink that hands records to a pino-shaped logger: `logger.info({logger, err}, message)`,
 * with warning → `warn` and critical → `fatal` (or `error` without it). `err` is the record's
 * error (pino's standard serializer prints it). Set the pino logger's own level low enough:
 * the level here is decided by our loggers first.
 */
export function pinoSink(target: PinoLike): LogSink {
  return {
    write(record) {
      const object: Record<string, unknown> = { logger: record.name };
      if (record.error !== undefined) object["err"] = record.error;
      switch (record.level) {
        case "debug":
          target.debug(object, record.message);
          break;
        case "info":
          target.info(object, record.message);
          break;
        case "warning":
          target.warn(object, record.message);
          break;
        case "error":
          target.error(object, record.message);
          break;
        default:
          if (target.fatal !== undefined) target.fatal(object, record.message);
          else target.error(object, record.message);
      }
    },
  };
}
