import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  consoleSink,
  enablePrettyLogging,
  FileSink,
  getLevel,
  getSinks,
  JSONFormatter,
  LEVELS,
  LogFormatter,
  Logger,
  type LogRecord,
  LoggingConfigError,
  type LogSink,
  pinoSink,
  setLevel,
  setSinks,
  StreamSink,
  stderrSink,
  strftime,
} from "../src/log.js";

type TestContext = { after: (fn: () => void) => void };

/** Replaces the sinks for one test (so error records reach only the test's own sinks). */
function useSinks(t: TestContext, sinks: LogSink[]): void {
  const previous = setSinks(sinks);
  const level = getLevel();
  t.after(() => {
    setSinks(previous);
    setLevel(level);
  });
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "tornado-ts-log-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A sink that keeps records; `wantsCaller` as given. */
function capture(wantsCaller = false): LogSink & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { wantsCaller, records, write: (record) => records.push(record) };
}

/** A stream that looks like a colour terminal and keeps what is written. */
function fakeTerminal(): Writable & { isTTY: boolean; hasColors: () => boolean; text: string } {
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      stream.text += String(chunk);
      callback();
    },
  }) as Writable & { isTTY: boolean; hasColors: () => boolean; text: string };
  stream.isTTY = true;
  stream.hasColors = () => true;
  stream.text = "";
  return stream;
}

/** The line of the compiled test that contains `marker` (what the caller capture reports). */
function compiledLineOf(marker: string): number {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
  const index = lines.findIndex(
    (line) => line.includes(marker) && !line.includes("compiledLineOf"),
  );
  assert.ok(index >= 0, marker);
  return index + 1;
}

const PREFIX_RE = /^\x1b\[31m\[E \d{6} \d{2}:\d{2}:\d{2} log\.test:(\d+)\]\x1b\[0m (.*)$/s;

test("LogFormatter writes the coloured prefix with the caller's module:line [test_basic_logging]", (t) => {
  const terminal = fakeTerminal();
  useSinks(t, [new StreamSink(terminal)]);
  new Logger("LogFormatterTest").error("foo"); // marker-basic
  const match = PREFIX_RE.exec(terminal.text);
  assert.ok(match, JSON.stringify(terminal.text));
  assert.equal(Number(match[1]), compiledLineOf("marker-basic"));
  assert.equal(match[2], "foo\n");
});

test("non-ASCII messages are written as UTF-8 [test_unicode_logging]", (t) => {
  const dir = tempDir(t);
  const file = new FileSink(join(dir, "log.out"));
  t.after(() => file.close());
  useSinks(t, [file]);
  new Logger("LogFormatterTest").error("\u00e9");
  const text = readFileSync(join(dir, "log.out"), "utf8");
  assert.match(text, /^\[E \d{6} \d{2}:\d{2}:\d{2} log\.test:\d+\] \u00e9\n$/);
});

test("a UTF-8 Buffer argument is written as its text [test_utf8_logging]", (t) => {
  const records = capture();
  const terminal = fakeTerminal();
  useSinks(t, [records, new StreamSink(terminal, new LogFormatter({ color: false }))]);
  new Logger("LogFormatterTest").error("%s", Buffer.from("\u00e9"));
  assert.equal(records.records[0]!.message, "\u00e9");
  assert.match(terminal.text, /\] \u00e9\n$/);
});

test("a Buffer that is not UTF-8 cannot break the output [test_bytes_logging]", (t) => {
  const dir = tempDir(t);
  const file = new FileSink(join(dir, "log.out"));
  t.after(() => file.close());
  useSinks(t, [file]);
  const logger = new Logger("LogFormatterTest");
  logger.error("%s", Buffer.from([0xe9]));
  logger.error("raw", Buffer.from([0xe9]));
  const bytes = readFileSync(join(dir, "log.out"));
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  const lines = text.trimEnd().split("\n");
  assert.match(lines[0]!, /\] \ufffd$/);
  assert.match(lines[1]!, /\] raw <Buffer e9>$/);
});

test("an error's stack follows the message on indented lines, not escaped [test_bytes_exception_logging]", (t) => {
  const terminal = fakeTerminal();
  useSinks(t, [new StreamSink(terminal, new LogFormatter({ color: false }))]);
  const error = Object.assign(new Error("caught \u00e9 \\xe9"), { code: "E_TEST" });
  new Logger("LogFormatterTest").error("caught exception", error);
  const lines = terminal.text.trimEnd().split("\n");
  assert.match(lines[0]!, /\] caught exception$/);
  assert.equal(lines[1], "    Error: caught \u00e9 \\xe9");
  assert.ok(lines.length > 3);
  for (const line of lines.slice(1)) assert.ok(line.startsWith("    "), line);
  assert.ok(lines.some((line) => line.includes("code: 'E_TEST'")));
});

test("extra lines of a message are indented by 4 and colour stays off when not a terminal", (t) => {
  const stream = fakeTerminal();
  stream.isTTY = false;
  useSinks(t, [new StreamSink(stream)]);
  new Logger("x").warning("one\ntwo");
  assert.match(stream.text, /^\[W \d{6} \d{2}:\d{2}:\d{2} log\.test:\d+\] one\n {4}two\n$/);
});

test("a custom format string and date format are applied as Python's % formatting", () => {
  const formatter = new LogFormatter({
    fmt: "%(name)s|%(levelname)-8s|%(levelname).1s|%(lineno)03d|%(asctime)s|%%|%(message)s",
    datefmt: "%Y-%m-%d",
    color: false,
  });
  const time = new Date(2024, 0, 2, 3, 4, 5).getTime();
  const record: LogRecord = {
    name: "tornado.access",
    level: "info",
    levelNo: LEVELS.info,
    message: "200 GET /",
    template: "200 GET /",
    args: [],
    error: undefined,
    time,
    caller: { file: "/x/web.js", module: "web", line: 7 },
  };
  assert.equal(formatter.format(record), "tornado.access|INFO    |I|007|2024-01-02|%|200 GET /");
  assert.equal(strftime("%y%m%d %H:%M:%S %j %f", time), "240102 03:04:05 002 000000");
  assert.equal(
    new LogFormatter({ fmt: (f) => `${f.levelname}:${f.module}`, color: false }).format(record),
    "INFO:web",
  );
});

test("the caller is captured only while a sink wants it", (t) => {
  const plain = capture(false);
  useSinks(t, [plain]);
  const logger = new Logger("caller");
  logger.info("without");
  assert.equal(plain.records[0]!.caller, undefined);
  const located = capture(true);
  setSinks([plain, located]);
  logger.info("with"); // marker-caller
  const caller = located.records[0]!.caller;
  assert.ok(caller);
  assert.equal(caller.module, "log.test");
  assert.equal(caller.line, compiledLineOf("marker-caller"));
  assert.equal(caller.file, fileURLToPath(import.meta.url));
});

test("JSONFormatter writes one JSON object per line", (t) => {
  const stream = fakeTerminal();
  useSinks(t, [new StreamSink(stream, new JSONFormatter())]);
  const logger = new Logger("tornado.general");
  logger.warning("two\nlines %d", 2);
  logger.error("failed", Object.assign(new TypeError("bad"), { code: "E_BAD" }));
  const lines = stream.text.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!);
  assert.equal(first.level, "warning");
  assert.equal(first.logger, "tornado.general");
  assert.equal(first.msg, "two\nlines 2");
  assert.equal(first.module, "log.test");
  assert.equal(typeof first.line, "number");
  assert.ok(!Number.isNaN(Date.parse(first.time)));
  const second = JSON.parse(lines[1]!);
  assert.equal(second.error.name, "TypeError");
  assert.equal(second.error.code, "E_BAD");
  assert.match(second.error.stack, /TypeError: bad/);
});

test("consoleSink and pinoSink hand records to a console-shaped and a pino-shaped logger", (t) => {
  const consoleCalls: [string, unknown[]][] = [];
  const fakeConsole = {
    debug: (...args: unknown[]) => consoleCalls.push(["debug", args]),
    info: (...args: unknown[]) => consoleCalls.push(["info", args]),
    warn: (...args: unknown[]) => consoleCalls.push(["warn", args]),
    error: (...args: unknown[]) => consoleCalls.push(["error", args]),
  };
  const pinoCalls: [string, object, string][] = [];
  const fakePino = {
    debug: (o: object, m: string) => pinoCalls.push(["debug", o, m]),
    info: (o: object, m: string) => pinoCalls.push(["info", o, m]),
    warn: (o: object, m: string) => pinoCalls.push(["warn", o, m]),
    error: (o: object, m: string) => pinoCalls.push(["error", o, m]),
    fatal: (o: object, m: string) => pinoCalls.push(["fatal", o, m]),
  };
  useSinks(t, [consoleSink(fakeConsole), pinoSink(fakePino)]);
  setLevel("debug");
  const logger = new Logger("tornado.application");
  const error = new Error("boom");
  logger.debug("d");
  logger.warning("w %s", "x");
  logger.error("e", error);
  logger.critical("c");
  assert.deepEqual(consoleCalls, [
    ["debug", ["tornado.application: d"]],
    ["warn", ["tornado.application: w x"]],
    ["error", ["tornado.application: e", error]],
    ["error", ["tornado.application: c"]],
  ]);
  assert.deepEqual(pinoCalls, [
    ["debug", { logger: "tornado.application" }, "d"],
    ["warn", { logger: "tornado.application" }, "w x"],
    ["error", { logger: "tornado.application", err: error }, "e"],
    ["fatal", { logger: "tornado.application" }, "c"],
  ]);
});

test("enablePrettyLogging writes to a log file [test_log_file]", (t) => {
  const dir = tempDir(t);
  useSinks(t, []);
  const added = enablePrettyLogging({ logFilePrefix: join(dir, "test_log") });
  t.after(() => added.forEach((s) => (s as FileSink).close?.()));
  assert.equal(added.length, 1);
  assert.ok(added[0] instanceof FileSink);
  assert.deepEqual(getSinks(), added);
  new Logger("pretty").error("hello");
  const files = readdirSync(dir).filter((name) => name.startsWith("test_log"));
  assert.deepEqual(files, ["test_log"]);
  assert.match(readFileSync(join(dir, "test_log"), "utf8"), /^\[E [^\]]*\] hello\n$/);
});

test("enablePrettyLogging writes to a time-rotated log file [test_log_file_with_timed_rotating]", (t) => {
  const dir = tempDir(t);
  useSinks(t, []);
  const added = enablePrettyLogging({
    logFilePrefix: join(dir, "test_log"),
    logRotateMode: "time",
  });
  t.after(() => added.forEach((s) => (s as FileSink).close?.()));
  new Logger("pretty").error("hello");
  assert.deepEqual(readdirSync(dir), ["test_log"]);
  assert.match(readFileSync(join(dir, "test_log"), "utf8"), /^\[E [^\]]*\] hello\n$/);
});

test("enablePrettyLogging rejects an unknown rotate mode [test_wrong_rotate_mode_value]", (t) => {
  useSinks(t, []);
  assert.throws(
    () =>
      enablePrettyLogging({ logFilePrefix: "some_path", logRotateMode: "wrong_mode" as "size" }),
    (e) => {
      assert.ok(e instanceof LoggingConfigError);
      assert.ok(e instanceof RangeError);
      assert.equal(e.code, "ERR_LOGGING_CONFIG");
      assert.match(e.message, /"size" or "time", not "wrong_mode"/);
      return true;
    },
  );
  assert.equal(existsSync("some_path"), false);
  assert.throws(() => enablePrettyLogging({ logging: "loud" as "info" }), LoggingConfigError);
});

test("enablePrettyLogging with logging none leaves everything alone; otherwise it sets the level", (t) => {
  useSinks(t, [stderrSink]);
  setLevel("warning");
  assert.deepEqual(enablePrettyLogging({ logging: "none" }), []);
  assert.deepEqual(enablePrettyLogging({ logging: null }), []);
  assert.equal(getLevel(), LEVELS.warning);
  assert.deepEqual(getSinks(), [stderrSink]);
  // Nothing else logs: the default sink gives way to Tornado's full format on stderr.
  const added = enablePrettyLogging({ logging: "debug" });
  assert.equal(getLevel(), LEVELS.debug);
  assert.equal(added.length, 1);
  assert.ok(added[0] instanceof StreamSink);
  assert.deepEqual(getSinks(), added);
  // Another sink exists: stderr only when asked.
  const other = capture();
  setSinks([other]);
  assert.deepEqual(enablePrettyLogging({}), []);
  assert.equal(enablePrettyLogging({ logToStderr: true }).length, 1);
  const logger = new Logger("own");
  enablePrettyLogging({ logging: "error", logToStderr: false }, logger);
  assert.equal(logger.level, LEVELS.error);
});

test("a size-rotated file keeps backupCount older files", (t) => {
  const dir = tempDir(t);
  const path = join(dir, "app.log");
  const sink = new FileSink(path, { maxBytes: 200, backupCount: 2 });
  t.after(() => sink.close());
  useSinks(t, [sink]);
  const logger = new Logger("size");
  for (let i = 0; i < 20; i++) logger.warning("line %d %s", i, "x".repeat(40));
  assert.deepEqual(readdirSync(dir).sort(), ["app.log", "app.log.1", "app.log.2"]);
  for (const name of ["app.log", "app.log.1", "app.log.2"]) {
    const size = readFileSync(join(dir, name)).length;
    assert.ok(size > 0 && size < 200, `${name}: ${size}`);
  }
  // The newest line is in the current file, older ones in .1 then .2.
  assert.match(readFileSync(path, "utf8"), /line 19 /);
  assert.doesNotMatch(readFileSync(join(dir, "app.log.2"), "utf8"), /line 19 /);
});

test("a time-rotated file rolls over when a record's time passes the interval", (t) => {
  const dir = tempDir(t);
  const path = join(dir, "app.log");
  const sink = new FileSink(path, {
    rotateMode: "time",
    when: "S",
    interval: 10,
    backupCount: 1,
    utc: true,
  });
  t.after(() => sink.close());
  const record = (time: number, message: string): LogRecord => ({
    name: "t",
    level: "info",
    levelNo: LEVELS.info,
    message,
    template: message,
    args: [],
    error: undefined,
    time,
  });
  const start = Date.now();
  sink.write(record(start, "first"));
  sink.write(record(start + 11_000, "second"));
  let names = readdirSync(dir).sort();
  assert.equal(names.length, 2);
  const rotated = names.find((n) => n !== "app.log")!;
  assert.match(rotated, /^app\.log\.\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}$/);
  assert.match(readFileSync(join(dir, rotated), "utf8"), /first/);
  assert.match(readFileSync(path, "utf8"), /second/);
  sink.write(record(start + 40_000, "third"));
  names = readdirSync(dir).sort();
  assert.equal(names.length, 2, names.join());
  assert.match(readFileSync(path, "utf8"), /third/);
  assert.throws(
    () => new FileSink(path, { rotateMode: "time", when: "X" as "S" }),
    LoggingConfigError,
  );
});
