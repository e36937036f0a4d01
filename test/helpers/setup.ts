// Preloaded into every test process (scripts/run-tests.mjs passes --import). Log records go
// to stderr as usual, but an error-level record that no ExpectLog swallowed fails the file:
// an unexpected error log is a failure, as in Tornado's own suite.
import { LEVELS, type LogRecord, setSinks, stderrSink } from "../../src/log.js";

const unexpected: LogRecord[] = [];

setSinks([
  {
    write(record) {
      stderrSink.write(record);
      if (record.levelNo >= LEVELS.error && process.env["TORNADO_TS_ALLOW_ERROR_LOGS"] !== "1") {
        unexpected.push(record);
        process.exitCode = 1;
      }
    },
  },
]);

process.on("exit", () => {
  if (unexpected.length > 0) {
    process.stderr.write(
      `\n${unexpected.length} unexpected error log record(s); the first: ${unexpected[0]!.message}\n`,
    );
    process.exitCode = 1;
  }
});
