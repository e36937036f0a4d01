#!/usr/bin/env node
// Runs every test/**/*.test.ts (compiled by `npm run build` into dist/) with node:test.
// Only compiled files that still have a source are run, so a deleted test never runs stale.
// Arguments narrow the run: `node scripts/run-tests.mjs escape ioloop` runs files whose path
// contains one of the words.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const filters = process.argv.slice(2);

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "fixtures") walk(path, out);
    } else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const files = walk(join(root, "test"))
  .map((src) => relative(root, src))
  .filter((rel) => filters.length === 0 || filters.some((f) => rel.includes(f)))
  .sort()
  .map((rel) => join(root, "dist", rel.replace(/\.ts$/, ".js")));

for (const file of files) {
  if (!existsSync(file)) {
    console.error(`missing compiled test ${file}: run npm run build`);
    process.exit(1);
  }
}
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  [
    "--import",
    join(root, "dist/test/helpers/setup.js"),
    "--test",
    "--test-reporter=spec",
    "--test-concurrency=2",
    "--test-timeout=120000",
    ...files,
  ],
  { stdio: "inherit", env: { ...process.env, TORNADO_TS_ROOT: root } },
);
process.exit(result.status ?? 1);
