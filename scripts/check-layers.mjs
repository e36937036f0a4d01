#!/usr/bin/env node
// Layering check (docs/DESIGN: "A module may import only from its own layer or below").
// Reads every import specifier in src/, examples/ and bench/ and fails on one that goes up a
// layer, or on an app (examples, bench) that reaches into src/ instead of the public entry points.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const LAYERS = {
  util: 1,
  escape: 1,
  log: 1,
  concurrent: 1,
  ioloop: 2,
  gen: 2,
  locks: 2,
  queues: 2,
  iostream: 3,
  netutil: 3,
  tcpserver: 3,
  tcpclient: 3,
  process: 3,
  httputil: 4,
  http1connection: 4,
  httpserver: 4,
  httpclient: 4,
  simple_httpclient: 4,
  undici_httpclient: 4,
  routing: 5,
  template: 5,
  locale: 5,
  web: 5,
  websocket: 6,
  auth: 6,
  node: 6,
  options: 6,
  testing: 6,
  autoreload: 6,
  index: 7,
};
const NODE_ONLY_IN_ADAPTER = new Set([
  "node:http",
  "node:https",
  "node:http2",
  "http",
  "https",
  "http2",
]);

const root = resolve(new URL("..", import.meta.url).pathname);
const problems = [];

function walk(dir, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;

function specifiers(text) {
  const out = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** The module a file under src/ belongs to: src/web/handler.ts belongs to "web". */
function moduleOf(file) {
  const rel = relative(join(root, "src"), file).split(sep);
  return rel[0].replace(/\.(ts|js)$/, "");
}

for (const file of walk(join(root, "src"))) {
  const mod = moduleOf(file);
  const layer = LAYERS[mod];
  if (layer === undefined) {
    problems.push(
      `${relative(root, file)}: module "${mod}" has no layer in scripts/check-layers.mjs`,
    );
    continue;
  }
  for (const spec of specifiers(readFileSync(file, "utf8"))) {
    if (NODE_ONLY_IN_ADAPTER.has(spec) && mod !== "node") {
      problems.push(
        `${relative(root, file)}: imports ${spec}; only src/node.ts may use Node's HTTP stacks`,
      );
    }
    if (!spec.startsWith(".")) continue;
    const target = resolve(join(file, ".."), spec);
    if (!target.startsWith(join(root, "src") + sep)) {
      problems.push(`${relative(root, file)}: imports ${spec}, outside src/`);
      continue;
    }
    const targetMod = moduleOf(target);
    const targetLayer = LAYERS[targetMod];
    if (targetLayer === undefined) continue; // reported when that file itself is checked
    if (targetLayer > layer) {
      problems.push(
        `${relative(root, file)}: ${mod} (layer ${layer}) imports ${targetMod} (layer ${targetLayer})`,
      );
    }
  }
}

for (const app of ["examples", "bench"]) {
  for (const file of walk(join(root, app))) {
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(join(file, ".."), spec);
      if (
        target.startsWith(join(root, "src") + sep) ||
        target.startsWith(join(root, "dist") + sep)
      ) {
        problems.push(
          `${relative(root, file)}: imports ${spec}; apps use the public entry points (tornado-ts/...)`,
        );
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`layering check: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log("layering check: ok");
