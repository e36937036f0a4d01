/**
 * Formatting of log records: Tornado's {@link LogFormatter} (`[I 240101 12:00:00 web:2250] …`,
 * coloured on a terminal), {@link JSONFormatter}, and the date helpers. Re-exported by
 * `tornado-ts/log`.
 */

import { basename } from "node:path";
import { inspect } from "node:util";
import { LEVELS, type LogRecord, type LogRecordFormatter } from "./record.js";

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

/**
 * Python's `time.strftime` for the common directives (`%Y %y %m %d %H %M %S %j %a %b %p %%`,
 * and `%f` for microseconds), local time unless `utc`.
 */
export function strftime(pattern: string, time: number, utc = false): string {
  const d = new Date(time);
  const year = utc ? d.getUTCFullYear() : d.getFullYear();
  const month = utc ? d.getUTCMonth() : d.getMonth();
  const day = utc ? d.getUTCDate() : d.getDate();
  const hours = utc ? d.getUTCHours() : d.getHours();
  const weekday = utc ? d.getUTCDay() : d.getDay();
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  return pattern.replace(/%([a-zA-Z%])/g, (m, c: string) => {
    switch (c) {
      case "Y":
        return String(year);
      case "y":
        return pad2(year % 100);
      case "m":
        return pad2(month + 1);
      case "d":
        return pad2(day);
      case "H":
        return pad2(hours);
      case "I":
        return pad2(hours % 12 === 0 ? 12 : hours % 12);
      case "p":
        return hours < 12 ? "AM" : "PM";
      case "M":
        return pad2(utc ? d.getUTCMinutes() : d.getMinutes());
      case "S":
        return pad2(utc ? d.getUTCSeconds() : d.getSeconds());
      case "f":
        return String((utc ? d.getUTCMilliseconds() : d.getMilliseconds()) * 1000).padStart(6, "0");
      case "j": {
        const start = utc ? Date.UTC(year, 0, 1) : new Date(year, 0, 1).getTime();
        const today = utc ? Date.UTC(year, month, day) : new Date(year, month, day).getTime();
        return String(Math.round((today - start) / 86_400_000) + 1).padStart(3, "0");
      }
      case "a":
        return days[weekday]!;
      case "b":
        return months[month]!;
      case "%":
        return "%";
      default:
        return m;
    }
  });
}

/** The short module name of a record: its caller's file, else the logger name's last part. */
function moduleOf(record: LogRecord): string {
  return record.caller?.module ?? record.name.slice(record.name.lastIndexOf(".") + 1);
}

/** The error of a record as text: stack, `cause` chain and extra properties. */
function errorText(error: unknown): string {
  if (error instanceof Error) {
    return inspect(error, { colors: false, depth: 4, breakLength: Number.POSITIVE_INFINITY });
  }
  return typeof error === "string" ? error : inspect(error, { colors: false });
}

/** Appends the record's error under the message and indents continuation lines by 4. */
function withErrorAndIndent(head: string, record: LogRecord): string {
  let text = head;
  if (record.error !== undefined) text = `${text.trimEnd()}\n${errorText(record.error)}`;
  return text.includes("\n") ? text.replace(/\n/g, "\n    ") : text;
}

/**
 * Formats a record in Tornado's default format without colour: `[I 240101 12:00:00 web] message`
 * (`web:2250` when the record has its caller), error stack under it, extra lines indented 4.
 */
export function formatRecord(record: LogRecord): string {
  const where = record.caller ? `${moduleOf(record)}:${record.caller.line}` : moduleOf(record);
  const head = `[${record.level[0]!.toUpperCase()} ${formatLogTime(record.time)} ${where}] ${record.message}`;
  return withErrorAndIndent(head, record);
}

/** Terminal colour numbers by level number (ANSI: 1 red, 2 green, 3 yellow, 4 blue, 5 magenta). */
export const DEFAULT_COLORS: Readonly<Record<number, number>> = Object.freeze({
  [LEVELS.debug]: 4,
  [LEVELS.info]: 2,
  [LEVELS.warning]: 3,
  [LEVELS.error]: 1,
  [LEVELS.critical]: 5,
});

/** Tornado's `LogFormatter.DEFAULT_FORMAT`. */
export const DEFAULT_FORMAT =
  "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]%(end_color)s %(message)s";
/** Tornado's `LogFormatter.DEFAULT_DATE_FORMAT`. */
export const DEFAULT_DATE_FORMAT = "%y%m%d %H:%M:%S";

/** The fields a format string can name, as Python's `LogRecord` attributes. */
export interface LogFormatFields {
  name: string;
  levelname: string;
  levelno: number;
  message: string;
  asctime: string;
  module: string;
  lineno: number;
  pathname: string;
  filename: string;
  created: number;
  msecs: number;
  process: number;
  color: string;
  end_color: string;
}

/** Options for {@link LogFormatter}. */
export interface LogFormatterOptions {
  /**
   * A Python `%`-style format over {@link LogFormatFields} (`%(name)s`, `%(levelname)1.1s`,
   * `%(lineno)d`, …), or a function of those fields. @defaultValue {@link DEFAULT_FORMAT}
   */
  fmt?: string | ((fields: LogFormatFields) => string);
  /** `strftime` pattern for `%(asctime)s`. @defaultValue {@link DEFAULT_DATE_FORMAT} */
  datefmt?: string;
  /**
   * Colour the text between `%(color)s` and `%(end_color)s` by level. Applied only when
   * `stream` is a terminal with colours (`NO_COLOR`/`FORCE_COLOR` respected). @defaultValue true
   */
  color?: boolean;
  /** The stream whose terminal decides about colour. @defaultValue process.stderr */
  stream?: NodeJS.WritableStream;
  /** Colour number by level number. @defaultValue {@link DEFAULT_COLORS} */
  colors?: Readonly<Record<number, number>>;
}

const FORMAT_RE = /%\((\w+)\)([-#0 +]*)(\d+)?(?:\.(\d+))?([sdifr])|%%/g;

function streamHasColors(stream: NodeJS.WritableStream | undefined): boolean {
  const tty = stream as
    (NodeJS.WritableStream & { isTTY?: boolean; hasColors?: () => boolean }) | undefined;
  if (tty?.isTTY !== true) return false;
  try {
    return typeof tty.hasColors === "function" ? tty.hasColors() : true;
  } catch {
    return false;
  }
}

/**
 * Tornado's log formatter: `[L yymmdd hh:mm:ss module:line] message`, the bracketed prefix
 * coloured by level on a colour terminal, the error's stack under the message, and every
 * extra line indented by 4 spaces.
 */
export class LogFormatter implements LogRecordFormatter {
  /** True when the format uses the caller's module, line or file. */
  readonly wantsCaller: boolean;
  readonly #fmt: string | ((fields: LogFormatFields) => string);
  readonly #datefmt: string;
  /** Escape sequence by level number; empty without colour. */
  readonly #colors = new Map<number, string>();
  readonly #normal: string;

  constructor(options: LogFormatterOptions = {}) {
    this.#fmt = options.fmt ?? DEFAULT_FORMAT;
    this.#datefmt = options.datefmt ?? DEFAULT_DATE_FORMAT;
    this.wantsCaller =
      typeof this.#fmt === "function" || /%\((module|lineno|pathname|filename)\)/.test(this.#fmt);
    const color = (options.color ?? true) && streamHasColors(options.stream ?? process.stderr);
    if (color) {
      for (const [levelNo, code] of Object.entries(options.colors ?? DEFAULT_COLORS)) {
        this.#colors.set(Number(levelNo), `\x1b[3${code}m`);
      }
      this.#normal = "\x1b[0m";
    } else {
      this.#normal = "";
    }
  }

  /** True when this formatter colours its output. */
  get colored(): boolean {
    return this.#colors.size > 0;
  }

  /** The fields of `record` that a format can name. */
  fields(record: LogRecord): LogFormatFields {
    const color = this.#colors.get(record.levelNo);
    const time = record.time;
    return {
      name: record.name,
      levelname: record.level.toUpperCase(),
      levelno: record.levelNo,
      message: record.message,
      asctime:
        this.#datefmt === DEFAULT_DATE_FORMAT ? formatLogTime(time) : strftime(this.#datefmt, time),
      module: moduleOf(record),
      lineno: record.caller?.line ?? 0,
      pathname: record.caller?.file ?? "",
      filename: record.caller ? basename(record.caller.file) : "",
      created: time / 1000,
      msecs: time % 1000,
      process: process.pid,
      color: color ?? "",
      end_color: color === undefined ? "" : this.#normal,
    };
  }

  /** The record as text (one or more lines, no final newline). */
  format(record: LogRecord): string {
    const fields = this.fields(record);
    const fmt = this.#fmt;
    const head = typeof fmt === "function" ? fmt(fields) : applyFormat(fmt, fields);
    return withErrorAndIndent(head, record);
  }
}

/** Python's `fmt % record.__dict__` for `%(name)[flags][width][.precision](s|d|i|f|r)`. */
function applyFormat(fmt: string, fields: LogFormatFields): string {
  const values = fields as unknown as Record<string, unknown>;
  return fmt.replace(
    FORMAT_RE,
    (
      match,
      key: string | undefined,
      flags: string,
      width?: string,
      precision?: string,
      type?: string,
    ) => {
      if (key === undefined) return "%";
      const value = values[key];
      if (value === undefined) return match;
      let text: string;
      if (type === "d" || type === "i") text = String(Math.trunc(Number(value)));
      else if (type === "f")
        text = Number(value).toFixed(precision === undefined ? 6 : Number(precision));
      else {
        text = type === "r" ? inspect(value) : String(value);
        if (precision !== undefined) text = text.slice(0, Number(precision));
      }
      if (width !== undefined) {
        const w = Number(width);
        text = flags.includes("-")
          ? text.padEnd(w)
          : text.padStart(w, flags.includes("0") && type !== "s" ? "0" : " ");
      }
      return text;
    },
  );
}

/**
 * One JSON object per record, on one line: `time` (ISO 8601), `level`, `logger`, `msg`, the
 * caller's `module` and `line` when known, and `error` (`name`, `message`, `code`, `stack`).
 */
export class JSONFormatter implements LogRecordFormatter {
  /** True when the caller's module and line are included. */
  readonly wantsCaller: boolean;

  /** @param options.caller - include the caller's module and line. @defaultValue true */
  constructor(options: { caller?: boolean } = {}) {
    this.wantsCaller = options.caller ?? true;
  }

  /** The record as one line of JSON. */
  format(record: LogRecord): string {
    const out: Record<string, unknown> = {
      time: new Date(record.time).toISOString(),
      level: record.level,
      logger: record.name,
      msg: record.message,
    };
    if (this.wantsCaller && record.caller) {
      out["module"] = record.caller.module;
      out["line"] = record.caller.line;
    }
    if (record.error !== undefined) {
      const e = record.error;
      out["error"] =
        e instanceof Error
          ? {
              name: e.name,
              message: e.message,
              code: (e as { code?: unknown }).code,
              stack: e.stack,
            }
          : { message: String(e) };
    }
    return JSON.stringify(out);
  }
}
