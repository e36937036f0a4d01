#!/usr/bin/env node
// tornado.escape throughput: tornado-ts against Python Tornado (Debian's python3-tornado) on the
// same inputs, and jsonEncode against JSON.stringify (which writes different, compact JSON: the
// floor for any encoder).
//
//   npm run build && node bench/escape.mjs [iterations]
//
// Shapes, each timed as the median of several rounds:
// - xhtml_escape of a 200-character text with markup, xhtml_unescape of its escaped form;
// - url_escape / url_unescape of a query value with spaces, slashes and UTF-8;
// - parse_qs_bytes of an 8-field query string;
// - json_encode of a small object and of 100 records; json_decode of the 100 records;
// - linkify of a paragraph with two URLs.
// Python's escape functions run as in Tornado 6.4+ (html.escape/html.unescape).
// Ratios above 1 mean tornado-ts is faster. Python Tornado is skipped when not installed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  jsonDecode,
  jsonEncode,
  linkify,
  parseQsBytes,
  urlEscape,
  urlUnescape,
  xhtmlEscape,
  xhtmlUnescape,
} from "tornado-ts/escape";

const ITERATIONS = Math.min(
  Math.max(Number(process.argv[2] ?? 20_000) || 20_000, 1_000),
  1_000_000,
);
const ROUNDS = 5;

const TEXT = `<p class="note">Tom & Jerry's "show" > all</p> `.repeat(4);
const ESCAPED = xhtmlEscape(TEXT) + " &eacute;&#233;&#xe9;&nbsp;&notit;";
const URL_VALUE = "caf\u00e9 / menu?items=2&q=hello world";
const URL_ESCAPED = urlEscape(URL_VALUE);
const QUERY = "id=42&sort=desc&q=hello+world&page=3&lang=fr&tag=a&tag=b&token=abc%2Fdef%3D";
const SMALL = { message: "Hello, World!" };
const RECORDS = {
  users: Array.from({ length: 100 }, (_, i) => ({
    id: i,
    name: `user ${i}`,
    email: `u${i}@example.com`,
    score: i * 1.5,
    tags: ["a", "b"],
    active: i % 2 === 0,
  })),
};
const RECORDS_JSON = jsonEncode(RECORDS);
const PARAGRAPH =
  "Read the docs at http://www.tornadoweb.org/en/stable/ (or www.example.com/path?x=1&y=2) before asking.";

const SHAPES = [
  ["xhtml_escape", () => xhtmlEscape(TEXT)],
  ["xhtml_unescape", () => xhtmlUnescape(ESCAPED)],
  ["url_escape", () => urlEscape(URL_VALUE)],
  ["url_unescape", () => urlUnescape(URL_ESCAPED)],
  ["parse_qs_bytes", () => parseQsBytes(QUERY)],
  ["json_encode small", () => jsonEncode(SMALL)],
  ["json_encode 100 records", () => jsonEncode(RECORDS)],
  ["json_decode 100 records", () => jsonDecode(RECORDS_JSON)],
  ["linkify", () => linkify(PARAGRAPH)],
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Operations per second of fn, median of ROUNDS rounds after a warm-up. */
function opsPerSecond(fn, iterations) {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn();
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const ns = Number(process.hrtime.bigint() - start);
    rates.push(iterations / (ns / 1e9));
  }
  return median(rates);
}

const PYTHON = `
import html, json, sys, timeit
import tornado.escape as e
data = json.load(sys.stdin)
iterations = data["iterations"]
shapes = {
    "xhtml_escape": lambda: html.escape(data["text"]),
    "xhtml_unescape": lambda: html.unescape(data["escaped"]),
    "url_escape": lambda: e.url_escape(data["url_value"]),
    "url_unescape": lambda: e.url_unescape(data["url_escaped"]),
    "parse_qs_bytes": lambda: e.parse_qs_bytes(data["query"]),
    "json_encode small": lambda: e.json_encode(data["small"]),
    "json_encode 100 records": lambda: e.json_encode(data["records"]),
    "json_decode 100 records": lambda: e.json_decode(data["records_json"]),
    "linkify": lambda: e.linkify(data["paragraph"]),
}
out = {}
for name, fn in shapes.items():
    rates = sorted(iterations / t for t in timeit.repeat(fn, number=iterations, repeat=${ROUNDS}))
    out[name] = rates[len(rates) // 2]
json.dump(out, sys.stdout)
`;

function pythonRates() {
  const python = ["/usr/bin/python3", "python3"].find(
    (p) =>
      (p.startsWith("/") ? existsSync(p) : true) &&
      spawnSync(p, ["-c", "import tornado"]).status === 0,
  );
  if (python === undefined) return null;
  const input = JSON.stringify({
    iterations: Math.max(Math.floor(ITERATIONS / 10), 200),
    text: TEXT,
    escaped: ESCAPED,
    url_value: URL_VALUE,
    url_escaped: URL_ESCAPED,
    query: QUERY,
    small: SMALL,
    records: RECORDS,
    records_json: RECORDS_JSON,
    paragraph: PARAGRAPH,
  });
  const run = spawnSync(python, ["-c", PYTHON], { input, timeout: 300_000, maxBuffer: 1 << 20 });
  if (run.status !== 0) {
    console.error(`python failed: ${run.stderr}`);
    return null;
  }
  return JSON.parse(run.stdout.toString());
}

const py = pythonRates();
const format = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`);
console.log(`tornado.escape, ops/s (median of ${ROUNDS} rounds, ${ITERATIONS} iterations)`);
console.log(
  `${"shape".padEnd(26)}${"tornado-ts".padStart(12)}${"Python".padStart(12)}${"ratio".padStart(9)}`,
);
for (const [name, fn] of SHAPES) {
  const ours = opsPerSecond(fn, name.includes("100") ? Math.ceil(ITERATIONS / 20) : ITERATIONS);
  const theirs = py?.[name];
  const ratio = theirs ? `${(ours / theirs).toFixed(1)}x` : "-";
  console.log(
    `${name.padEnd(26)}${format(ours).padStart(12)}${(theirs ? format(theirs) : "-").padStart(12)}${ratio.padStart(9)}`,
  );
}
const stringify = opsPerSecond(() => JSON.stringify(RECORDS), Math.ceil(ITERATIONS / 20));
const encode = opsPerSecond(() => jsonEncode(RECORDS), Math.ceil(ITERATIONS / 20));
console.log(
  `jsonEncode / JSON.stringify on 100 records: ${(encode / stringify).toFixed(2)} (1.00 = as fast as the compact native encoder)`,
);
