#!/usr/bin/env node
// httputil parsing throughput: tornado-ts against Python Tornado (Debian's python3-tornado)
// on the same inputs, plus HTTPHeaders.parse against a minimal split-and-lowercase baseline
// (the least any header parser must do).
//
//   npm run build && node bench/httputil.mjs [iterations]
//
// Shapes, each timed as the median of several rounds:
// - headers: HTTPHeaders.parse of a 14-line browser request header block (~800 bytes);
// - start line: parseRequestStartLine("GET /path?query HTTP/1.1");
// - request: HTTPServerRequest built from that start line and headers (query parsed);
// - cookie: parseCookie of a 6-cookie header;
// - multipart: parseMultipartFormData of a 3-field form with one 1 KiB file.
// Ratios above 1 mean tornado-ts is faster. Python Tornado is skipped when not installed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  HTTPHeaders,
  HTTPServerRequest,
  parseCookie,
  parseMultipartFormData,
  parseRequestStartLine,
} from "tornado-ts/httputil";

const ITERATIONS = Math.min(
  Math.max(Number(process.argv[2] ?? 50_000) || 50_000, 1_000),
  1_000_000,
);
const ROUNDS = 5;

const HEADER_BLOCK =
  "Host: www.example.com\r\n" +
  "Connection: keep-alive\r\n" +
  "Cache-Control: max-age=0\r\n" +
  'sec-ch-ua: "Chromium";v="124", "Not-A.Brand";v="99"\r\n' +
  "sec-ch-ua-mobile: ?0\r\n" +
  "Upgrade-Insecure-Requests: 1\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n" +
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
  "Sec-Fetch-Site: none\r\n" +
  "Sec-Fetch-Mode: navigate\r\n" +
  "Accept-Encoding: gzip, deflate, br\r\n" +
  "Accept-Language: en-US,en;q=0.9,fr;q=0.8\r\n" +
  "Cookie: _ga=GA1.2.1234567890.1600000000; session=abc123def456; theme=dark; lang=en; _xsrf=2|abc|def|123; csrftoken=xyz\r\n" +
  'If-None-Match: "5f2b-abc"\r\n\r\n';
const START_LINE = "GET /path/to/page?id=42&sort=desc&q=hello+world HTTP/1.1";
const COOKIE =
  "_ga=GA1.2.1234567890.1600000000; session=abc123def456; theme=dark; lang=en; _xsrf=2|abc|def|123; csrftoken=xyz";
const FILE = "x".repeat(1024);
const MULTIPART =
  '--boundary\r\nContent-Disposition: form-data; name="title"\r\n\r\nHello\r\n' +
  '--boundary\r\nContent-Disposition: form-data; name="tags"\r\n\r\na,b,c\r\n' +
  `--boundary\r\nContent-Disposition: form-data; name="upload"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\n${FILE}\r\n` +
  "--boundary--\r\n";
const MULTIPART_BYTES = Buffer.from(MULTIPART);

function baseline(text) {
  // Split lines, cut at the colon, trim, lowercase the name into a Map: no validation at all.
  const map = new Map();
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    map.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return map;
}

const parsedHeaders = HTTPHeaders.parse(HEADER_BLOCK);
const startLine = parseRequestStartLine(START_LINE);

const SHAPES = {
  headers: () => HTTPHeaders.parse(HEADER_BLOCK),
  "headers (baseline)": () => baseline(HEADER_BLOCK),
  "start line": () => parseRequestStartLine(START_LINE),
  request: () => new HTTPServerRequest({ startLine, headers: parsedHeaders }),
  cookie: () => parseCookie(COOKIE),
  multipart: () => parseMultipartFormData("boundary", MULTIPART_BYTES, new Map(), new Map()),
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function rate(fn, n) {
  for (let i = 0; i < Math.min(n, 5_000); i++) fn(); // warm up
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rounds.push(n / seconds);
  }
  return median(rounds);
}

const PYTHON = `
import json, sys, time
from tornado import httputil
n = int(sys.argv[1]); rounds = int(sys.argv[2]); data = json.load(sys.stdin)
block, line, cookie, multipart = data["block"], data["line"], data["cookie"], data["multipart"].encode()
headers = httputil.HTTPHeaders.parse(block)
start = httputil.parse_request_start_line(line)
shapes = {
  "headers": lambda: httputil.HTTPHeaders.parse(block),
  "start line": lambda: httputil.parse_request_start_line(line),
  "request": lambda: httputil.HTTPServerRequest(start_line=start, headers=headers),
  "cookie": lambda: httputil.parse_cookie(cookie),
  "multipart": lambda: httputil.parse_multipart_form_data(b"boundary", multipart, {}, {}),
}
out = {}
for name, fn in shapes.items():
    k = max(n // 10, 1000)
    rates = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(k): fn()
        rates.append(k / (time.perf_counter() - t))
    out[name] = sorted(rates)[len(rates) // 2]
json.dump(out, sys.stdout)
`;

function pythonRates() {
  const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const run = spawnSync(python, ["-c", PYTHON, String(ITERATIONS), String(ROUNDS)], {
    input: JSON.stringify({
      block: HEADER_BLOCK,
      line: START_LINE,
      cookie: COOKIE,
      multipart: MULTIPART,
    }),
    timeout: 300_000,
  });
  if (run.status !== 0) {
    console.log(`(Python Tornado skipped: ${run.stderr.toString().trim().split("\n").pop()})`);
    return null;
  }
  return JSON.parse(run.stdout.toString());
}

const ours = {};
for (const [name, fn] of Object.entries(SHAPES)) ours[name] = rate(fn, ITERATIONS);
const python = pythonRates();

console.log(`httputil, ${ITERATIONS} iterations × ${ROUNDS} rounds (median ops/s)`);
console.log(
  `${"shape".padEnd(20)}${"tornado-ts".padStart(14)}${"Python Tornado".padStart(16)}${"ratio".padStart(8)}`,
);
for (const name of Object.keys(SHAPES)) {
  const py = python?.[name];
  const ratio =
    name === "headers (baseline)" ? ours.headers / ours[name] : py ? ours[name] / py : null;
  console.log(
    `${name.padEnd(20)}${Math.round(ours[name]).toLocaleString("en").padStart(14)}` +
      `${py ? Math.round(py).toLocaleString("en") : "-"}`.padStart(16) +
      `${ratio === null ? "-" : ratio.toFixed(2)}`.padStart(8),
  );
}
console.log(
  "ratio: tornado-ts ÷ Python Tornado; for the baseline row, HTTPHeaders.parse ÷ baseline.",
);
