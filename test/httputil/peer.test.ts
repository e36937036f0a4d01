// Differential tests: the same generated inputs through tornado-ts and Python Tornado (Debian's
// python3-tornado, run by test/fixtures/httputil_peer.py), results compared one by one.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import {
  type ArgumentMap,
  type FileMap,
  HTTPHeaders,
  parseCookie,
  parseHeader,
  parseMultipartFormData,
  parseRequestRange,
  splitHostAndPort,
  urlConcat,
} from "../../src/httputil.js";
import { fixture } from "../helpers/paths.js";
import { needPeer, pythonWithTornado } from "../helpers/peers.js";

type Case = { fn: string; args: unknown[] };
type Result = { ok: unknown } | { error: string };

function tag(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("base64") };
  if (Array.isArray(value)) return value.map(tag);
  return value;
}

function untag(value: unknown): unknown {
  if (value !== null && typeof value === "object") {
    if ("$bytes" in value) return Buffer.from((value as { $bytes: string }).$bytes, "base64");
    if (Array.isArray(value)) return value.map(untag);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, untag(v)]));
  }
  return value;
}

function runPeer(cases: Case[]): Result[] {
  const run = spawnSync(pythonWithTornado()!, [fixture("httputil_peer.py")], {
    input: JSON.stringify(cases.map((c) => ({ fn: c.fn, args: tag(c.args) }))),
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr.toString());
  return JSON.parse(run.stdout.toString()) as Result[];
}

// A small seeded PRNG (mulberry32), so a failure reproduces.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const join = (pieces: readonly string[], max: number): string => {
    let out = "";
    const n = Math.floor(rand() * (max + 1));
    for (let i = 0; i < n; i++) out += pick(pieces);
    return out;
  };
  return { rand, pick, join };
}

function sortedEntries(record: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const peer = { skip: needPeer("python3-tornado") };

test("parseHeader matches Python Tornado's _parse_header on generated input", peer, () => {
  const { pick, join } = generator(1);
  const pieces = [
    "; ",
    ";",
    "name",
    "filename",
    "filename*",
    "title*0*",
    "title*1",
    "title*0",
    "title*2*",
    "=",
    '"',
    "\\",
    "'",
    "utf-8''",
    "UTF-8'en'",
    "iso-8859-1''",
    "bogus''",
    "%C3%A1",
    "%E9",
    "%zz",
    "a",
    "b c",
    " ",
    "\t",
    "é",
    "测",
    "<x>",
    ";;",
    "*",
    "Name",
  ];
  const lines: string[] = [];
  for (let i = 0; i < 4000; i++) {
    lines.push(pick(["form-data", "text/html", "", "attachment", '"q;x"']) + join(pieces, 14));
  }
  const results = runPeer(lines.map((line) => ({ fn: "parse_header", args: [line] })));
  let compared = 0;
  lines.forEach((line, i) => {
    const expected = results[i]!;
    if ("error" in expected) {
      assert.throws(
        () => parseHeader(line),
        Error,
        `${JSON.stringify(line)}: Python raised ${expected.error}`,
      );
      return;
    }
    const [key, params] = expected.ok as [string, Record<string, string>];
    const [ourKey, ourParams] = parseHeader(line);
    assert.equal(ourKey, key, JSON.stringify(line));
    assert.deepEqual(sortedEntries({ ...ourParams }), sortedEntries(params), JSON.stringify(line));
    compared++;
  });
  assert.ok(compared > 3500);
});

test("parseCookie matches Python Tornado's parse_cookie on generated input", peer, () => {
  const { join } = generator(2);
  const pieces = [
    " ",
    ";",
    "=",
    '"',
    "\\",
    "a",
    "b",
    "0",
    "1",
    "3",
    "7",
    "\\0",
    "\\12",
    "\\377",
    "\\400",
    "\n",
    "\r",
    "é",
    "\x85",
    "\xa0",
    "\u2028",
    "\ufeff",
    "\x1c",
    "\t",
    "\\\\",
    '\\"',
    "😀",
  ];
  const cookies: string[] = [];
  for (let i = 0; i < 4000; i++) cookies.push(join(pieces, 16));
  const results = runPeer(cookies.map((c) => ({ fn: "parse_cookie", args: [c] })));
  cookies.forEach((cookie, i) => {
    const expected = results[i]! as { ok: Record<string, string> };
    assert.deepEqual(
      sortedEntries({ ...parseCookie(cookie) }),
      sortedEntries(expected.ok),
      JSON.stringify(cookie),
    );
  });
});

test("urlConcat matches Python Tornado's url_concat on generated input", peer, () => {
  const { pick, join, rand } = generator(3);
  const urls = [
    "http://h/p",
    "http://h/p?",
    "http://h/p?a=1&b",
    "/x#f",
    "/x?q=%41+b#frag",
    "/x?&&",
    "/x?a=%zz",
    "/x?a=%C3%A9&b=%FF",
    "https://h:8/a;p?x=1#",
    "/y?=v&k=",
  ];
  const pieces = [
    " ",
    "/",
    "&",
    "=",
    "é",
    "~",
    "!",
    "*",
    "'",
    "(",
    "+",
    "%",
    "a",
    "Z",
    "9",
    "_",
    ".",
    "-",
    "测",
    "#",
    "?",
  ];
  const cases: Array<[string, Array<[string, string]>]> = [];
  for (let i = 0; i < 1500; i++) {
    const args: Array<[string, string]> = [];
    const n = Math.floor(rand() * 4);
    for (let j = 0; j < n; j++) args.push([join(pieces, 5), join(pieces, 5)]);
    cases.push([pick(urls), args]);
  }
  const results = runPeer(cases.map(([url, args]) => ({ fn: "url_concat", args: [url, args] })));
  cases.forEach(([url, args], i) => {
    const expected = results[i]! as { ok: string };
    assert.equal(urlConcat(url, args), expected.ok, JSON.stringify([url, args]));
  });
});

test(
  "parseRequestRange and splitHostAndPort agree with Python Tornado where they accept",
  peer,
  () => {
    const { join, pick } = generator(4);
    const ranges: string[] = [];
    for (let i = 0; i < 2000; i++)
      ranges.push(
        pick(["bytes", "bytes ", " bytes", "byte", "", "items"]) +
          pick(["=", "=", "=", " = ", ""]) +
          pick(["", "0", "12", " 3", "x", "+1"]) +
          pick(["-", "-", "", "--", ","]) +
          pick(["", "0", "5", "12 ", " 7"]) +
          pick(["", "", ",1-2", "-"]),
      );
    const hosts: string[] = [];
    for (let i = 0; i < 1000; i++)
      hosts.push(join(["a", ":", "1", "80", "[", "]", "é", ".", "0"], 7));
    const results = runPeer([
      ...ranges.map((r) => ({ fn: "parse_request_range", args: [r] })),
      ...hosts.map((h) => ({ fn: "split_host_and_port", args: [h] })),
    ]);
    let accepted = 0;
    ranges.forEach((range, i) => {
      const ours = parseRequestRange(range);
      // Ours is stricter (only digits); whatever it accepts, Python reads the same way.
      if (ours !== null) {
        accepted++;
        assert.deepEqual(ours, (results[i] as { ok: unknown }).ok, JSON.stringify(range));
      }
    });
    assert.ok(accepted > 100);
    hosts.forEach((host, i) => {
      assert.deepEqual(
        splitHostAndPort(host),
        (results[ranges.length + i] as { ok: unknown }).ok,
        JSON.stringify(host),
      );
    });
  },
);

test("HTTPHeaders.parse reads what Python Tornado reads, whenever it accepts", peer, () => {
  const { rand, pick } = generator(5);
  const lines = [
    "Foo: bar",
    "foo: baz",
    "X-A:  v  ",
    "Set-Cookie: a=b; c",
    " cont",
    "\tcont2",
    "A:",
    "B: é",
    "C: y\x85x",
    "content-TYPE: text/html",
    "D:\tx\ty",
    "E: a,b",
  ];
  const blocks: string[] = [];
  for (let i = 0; i < 2000; i++) {
    let block = pick(lines.filter((l) => !l.startsWith(" ") && !l.startsWith("\t")));
    const n = Math.floor(rand() * 7);
    for (let j = 0; j < n; j++) block += pick(["\r\n", "\n"]) + pick(lines);
    blocks.push(block + pick(["", "\r\n", "\n", "\r\n\r\n"]));
  }
  const results = runPeer(blocks.map((b) => ({ fn: "headers_parse", args: [b] })));
  blocks.forEach((block, i) => {
    const expected = (results[i] as { ok: unknown }).ok;
    assert.deepEqual([...HTTPHeaders.parse(block).getAll()], expected, JSON.stringify(block));
  });
});

test("parseMultipartFormData reads generated forms as Python Tornado does", peer, () => {
  const { join, rand } = generator(6);
  const namePieces = ["a", "b", ";", '\\"', "\\\\", " ", "é", "测", "x.txt", "=", "'"];
  const cases: Array<[string, Buffer]> = [];
  for (let i = 0; i < 500; i++) {
    const boundary = `----b${i}`;
    const parts: Buffer[] = [];
    const n = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < n; j++) {
      const name = `n${join(namePieces, 4)}`;
      const file = rand() < 0.5 ? `; filename="f${join(namePieces, 5)}"` : "";
      const type = rand() < 0.3 ? "\r\nContent-Type: text/plain; charset=utf-8" : "";
      const body = Buffer.from(
        Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 256)),
      );
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file}${type}\r\n\r\n`,
        ),
        body,
        Buffer.from("\r\n"),
      );
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    cases.push([boundary, Buffer.concat(parts)]);
  }
  const results = runPeer(
    cases.map(([b, data]) => ({ fn: "multipart", args: [Buffer.from(b), data] })),
  );
  cases.forEach(([boundary, data], i) => {
    const expected = results[i]!;
    const args: ArgumentMap = new Map();
    const files: FileMap = new Map();
    if ("error" in expected) {
      assert.throws(
        () => parseMultipartFormData(boundary, data, args, files),
        Error,
        `Python raised ${expected.error} for ${JSON.stringify(data.toString("latin1"))}`,
      );
      return;
    }
    parseMultipartFormData(boundary, data, args, files);
    const ok = untag(expected.ok) as {
      args: Record<string, Buffer[]>;
      files: Record<string, Array<[string, Buffer, string]>>;
    };
    assert.deepEqual(Object.fromEntries(args), ok.args);
    assert.deepEqual(
      Object.fromEntries(
        [...files].map(([k, fs]) => [k, fs.map((f) => [f.filename, f.body, f.contentType])]),
      ),
      ok.files,
    );
  });
});
