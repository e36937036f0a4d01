// Benchmarks are scripts, not timed tests: this only runs each one briefly (tiny counts) to
// prove it still works end to end and prints its ratios. Figures live in bench/RESULTS.md.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { needPeer } from "./helpers/peers.js";
import { repoRoot } from "./helpers/paths.js";

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "bench", args[0]!), ...args.slice(1)], {
      cwd: repoRoot,
      env: { ...process.env, BENCH_SMOKE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const SMOKES: [string, string[], string | false][] = [
  ["escape", ["escape.mjs", "1000"], false],
  ["httputil", ["httputil.mjs", "1000"], false],
  ["ioloop", ["ioloop.mjs", "20000"], false],
  ["iostream", ["iostream.mjs", "2000", "16"], false],
  ["locale", ["locale.mjs", "1000"], false],
  ["locks and queues", ["locks-queues.mjs", "1000"], false],
  ["tcpserver", ["tcpserver.mjs", "100", "8"], false],
  ["template", ["template.mjs", "0.05"], false],
  ["http", ["http.mjs", "--smoke"], needPeer("wrk")],
];

for (const [name, args, skip] of SMOKES) {
  test(`the ${name} benchmark runs and prints ratios`, { skip, timeout: 120_000 }, async () => {
    const { code, output } = await runBench(args);
    assert.equal(code, 0, output);
    assert.match(output, /ratio|\d\.\d+x/, output);
  });
}
