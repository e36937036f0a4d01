// Differential test against Node's own parser (llhttp, reached through node:http): 10,000
// generated and mutated requests go to both servers. Where both accept, the parsed method,
// target, version, headers and body must agree. Where exactly one accepts, the case must fall
// in a category listed, with its reason, in test/fixtures/http-differential.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { genLog } from "../src/log.js";
import { ExpectLog } from "../src/testing.js";
import { generateRequests } from "./helpers/httpgen.js";
import { type EchoServer, startEchoServer } from "./helpers/httpserver.js";
import { fixture } from "./helpers/paths.js";
import { rawExchange } from "./helpers/rawhttp.js";

const COUNT = Number(process.env["DIFF_COUNT"] ?? 10_000);
const CONCURRENCY = 32;

interface Echo {
  method: string;
  uri: string;
  version: string;
  headers: Record<string, string>;
  body: string;
}

interface Outcome {
  /** Parsed requests answered 200, in order. */
  accepted: Echo[];
  /** Statuses of every response. */
  statuses: number[];
}

function parseResponses(data: Buffer): Outcome {
  const text = data.toString("latin1");
  const accepted: Echo[] = [];
  const statuses: number[] = [];
  let pos = 0;
  for (;;) {
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text.slice(pos));
    if (m === null) break;
    const status = Number(m[1]);
    statuses.push(status);
    const headEnd = text.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) break;
    const head = text.slice(pos, headEnd);
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    const length = cl ? Number(cl[1]) : 0;
    const body = text.slice(headEnd + 4, headEnd + 4 + length);
    if (status === 200) {
      try {
        accepted.push(JSON.parse(body) as Echo);
      } catch {
        accepted.push({
          method: "<unparseable>",
          uri: body.slice(0, 100),
          version: "",
          headers: {},
          body: "",
        });
      }
    }
    pos = headEnd + 4 + length;
  }
  return { accepted, statuses };
}

function nodeEcho(req: IncomingMessage, body: Buffer): Echo {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const key = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return {
    method: req.method!,
    uri: req.url!,
    version: `HTTP/${req.httpVersion}`,
    headers,
    body: body.toString("latin1"),
  };
}

const LLHTTP_METHODS = new Set(
  (
    "DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH SEARCH " +
    "UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY SUBSCRIBE " +
    "UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE QUERY"
  ).split(" "),
);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOST_OK = /^(?:[A-Za-z0-9\-._~!$&'()*+;=[\]:]|%[0-9A-Fa-f]{2})*$/;

interface Shape {
  text: string;
  firstLine: string;
  method: string;
  parts: string[];
  fields: [string, string][];
  version11: boolean;
}

function shape(bytes: Buffer): Shape {
  const text = bytes.toString("latin1");
  const headEnd = text.indexOf("\r\n\r\n");
  const head = headEnd >= 0 ? text.slice(0, headEnd) : text;
  const lines = head.split("\r\n");
  const firstLine = lines[0] ?? "";
  const parts = firstLine.split(" ");
  const fields: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0)
      fields.push([
        line.slice(0, i).toLowerCase(),
        line.slice(i + 1).replace(/^[ \t]+|[ \t]+$/g, ""),
      ]);
  }
  return {
    text,
    firstLine,
    method: parts[0] ?? "",
    parts,
    fields,
    version11: / HTTP\/1\.1$/.test(firstLine),
  };
}

const values = (s: Shape, name: string) => s.fields.filter(([n]) => n === name).map(([, v]) => v);

/**
 * Why the two parsers disagree: the first matching reason, each a precise property of the
 * request, or of the responses where the difference is in how the server answers.
 */
/** Where the first message in `s` ends if it is well framed, or -1. */
function firstMessageEnd(s: Shape): number {
  const headEnd = s.text.indexOf("\r\n\r\n");
  if (headEnd < 0) return -1;
  const cl = values(s, "content-length");
  if (values(s, "transfer-encoding").length > 0) {
    const last = s.text.indexOf("\r\n0\r\n\r\n", headEnd);
    return last < 0 ? -1 : last + 7;
  }
  if (cl.length > 0 && /^\d+$/.test(cl[0]!)) return headEnd + 4 + Number(cl[0]);
  return headEnd + 4;
}

const REASONS: [string, (s: Shape, ours: Outcome, node: Outcome) => boolean][] = [
  ["method-not-in-llhttp-table", (s) => TOKEN.test(s.method) && !LLHTTP_METHODS.has(s.method)],
  // node:http writes its 400 for a garbage follow-up request before the response to the valid
  // request ahead of it, which is then lost; we answer the valid one, then refuse the rest.
  [
    "node-drops-valid-response-before-garbage",
    (s, o, n) => {
      const end = firstMessageEnd(s);
      return o.accepted.length === 1 && n.accepted.length === 0 && end > 0 && end < s.text.length;
    },
  ],
  ["request-line-extra-whitespace", (s) => / {2}|\t|^ | $/.test(s.firstLine)],
  [
    "request-line-without-version",
    (s) => s.parts.length < 3 || !/^HTTP\/\d\.\d$/.test(s.parts.at(-1)!),
  ],
  ["bare-cr-or-lf", (s) => /(^|[^\r])\n|\r(?!\n)/.test(s.text.split("\r\n\r\n")[0]!)],
  ["duplicate-host", (s) => values(s, "host").length > 1],
  ["missing-host-on-1.1", (s) => s.version11 && values(s, "host").length === 0],
  ["invalid-host-value", (s) => values(s, "host").some((h) => !HOST_OK.test(h))],
  [
    "target-characters",
    (s) => /[\x80-\xff"\\{}|^`<>]/.test(s.parts[1]!) || !/^(\/|\*$|https?:\/\/)/i.test(s.parts[1]!),
  ],
  [
    "transfer-encoding-not-exactly-chunked",
    (s) => {
      const te = values(s, "transfer-encoding");
      return te.length > 1 || (te.length === 1 && te[0]!.toLowerCase() !== "chunked");
    },
  ],
  [
    "transfer-encoding-on-http-1.0",
    (s) => !s.version11 && values(s, "transfer-encoding").length > 0,
  ],
  [
    "duplicate-identical-content-length",
    (s) => {
      const cl = values(s, "content-length");
      return cl.length > 1 || cl.some((v) => v.includes(","));
    },
  ],
  ["expect-on-http-1.0", (s) => !s.version11 && values(s, "expect").length > 0],
  [
    "unknown-expectation",
    (s) => values(s, "expect").some((v) => v.toLowerCase() !== "100-continue"),
  ],
  ["field-value-characters", (s) => s.fields.some(([, v]) => /[\x00-\x08\x0a-\x1f\x7f]/.test(v))],
];

function classify(bytes: Buffer, ours: Outcome, node: Outcome): string {
  const s = shape(bytes);
  for (const [name, test] of REASONS) if (test(s, ours, node)) return name;
  return "unclassified";
}

let ours: EchoServer;
let node: Server;
let nodePort: number;

before(async () => {
  ours = await startEchoServer({ maxBodySize: 1 << 20 });
  node = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      const body = Buffer.from(JSON.stringify(nodeEcho(req, Buffer.concat(chunks))), "latin1");
      res.writeHead(200, { "Content-Length": body.length });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => node.listen(0, "127.0.0.1", resolve));
  nodePort = (node.address() as AddressInfo).port;
});

after(async () => {
  await ours.close();
  node.closeAllConnections();
  await new Promise((resolve) => node.close(resolve));
});

test("10,000 generated requests: our parser and llhttp agree, or differ for a listed reason", async () => {
  using _log = new ExpectLog(genLog, /./, { required: false });
  const allowed: Record<string, string> = JSON.parse(
    readFileSync(fixture("http-differential.json"), "utf8"),
  );
  const requests = generateRequests(COUNT);
  const counts = { bothAccept: 0, bothReject: 0, onlyOurs: 0, onlyNode: 0 };
  const categories = new Map<string, { count: number; examples: string[] }>();
  const mismatches: string[] = [];
  let next = 0;
  async function worker() {
    while (next < requests.length) {
      const { bytes } = requests[next++]!;
      const [a, b] = await Promise.all([
        rawExchange(ours.port, bytes, { halfClose: true, waitMs: 5000 }),
        rawExchange(nodePort, bytes, { halfClose: true, waitMs: 5000 }),
      ]);
      const o = parseResponses(a.data);
      const n = parseResponses(b.data);
      const common = Math.min(o.accepted.length, n.accepted.length);
      for (let i = 0; i < common; i++) {
        try {
          assert.deepEqual(o.accepted[i], n.accepted[i]);
        } catch {
          mismatches.push(
            `${JSON.stringify(bytes.toString("latin1"))}\n  ours: ${JSON.stringify(o.accepted[i])}\n  node: ${JSON.stringify(n.accepted[i])}`,
          );
        }
      }
      if (o.accepted.length === n.accepted.length) {
        if (o.accepted.length > 0) counts.bothAccept++;
        else counts.bothReject++;
        continue;
      }
      if (o.accepted.length > n.accepted.length) counts.onlyOurs++;
      else counts.onlyNode++;
      const category = `${o.accepted.length > n.accepted.length ? "ours" : "node"}-accepts:${classify(bytes, o, n)}`;
      const entry = categories.get(category) ?? { count: 0, examples: [] };
      entry.count++;
      if (entry.examples.length < Number(process.env["DIFF_EXAMPLES"] ?? 1)) {
        entry.examples.push(
          `${JSON.stringify(bytes.toString("latin1")).slice(0, 400)} ours=${o.statuses} node=${n.statuses}`,
        );
      }
      categories.set(category, entry);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const report = [...categories]
    .map(([c, e]) => `${c}: ${e.count}\n    ${e.examples.join("\n    ")}`)
    .join("\n");
  console.log(`differential: ${JSON.stringify(counts)}\n${report}`);
  assert.deepEqual(
    mismatches.slice(0, 5),
    [],
    `both accepted but parsed differently (${mismatches.length})`,
  );
  const unlisted = [...categories.keys()].filter((c) => !(c in allowed));
  assert.deepEqual(unlisted, [], `disagreements without a listed reason:\n${report}`);
  assert.ok(counts.bothAccept > COUNT / 10, "the generator must produce plenty of valid requests");
});
