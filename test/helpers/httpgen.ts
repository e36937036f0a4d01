// Generates HTTP/1.1 requests for the differential test: well-formed requests built from
// parts, then mutated at the byte and the header level. A seeded generator makes every run
// the same, so a disagreement found once is found again.
import { seededRandom } from "./random.js";

export interface Generated {
  bytes: Buffer;
  /** How the request was made: the base shape and the mutations applied. */
  recipe: string[];
}

// No HEAD: its response has no body, so there would be no echo to compare.
const METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
const TARGETS = [
  "/",
  "/a/b/c",
  "/search?q=tornado&page=2",
  "/%7Euser/file.txt",
  "/path;param?x=1&y=",
  "/a?x=%20%2F",
  "*",
  "http://127.0.0.1/abs",
  "/a/../b/./c",
  "/very/long/" + "x".repeat(200),
];
const HEADER_NAMES = [
  "Accept",
  "User-Agent",
  "X-Custom",
  "Accept-Language",
  "Cache-Control",
  "X-Forwarded-For",
  "Cookie",
  "If-None-Match",
  "x-lower",
  "X-Dash-Name_Underscore",
];
const HEADER_VALUES = [
  "*/*",
  "curl/8.0",
  "text/html, application/xhtml+xml;q=0.9",
  "en-US,en;q=0.5",
  "no-cache",
  "1.2.3.4, 5.6.7.8",
  "a=1; b=2",
  '"etag-value"',
  "",
  "value with  spaces",
  "tab\there",
];

/** Bytes mutations draw from: the ones parsers disagree about. */
const INTERESTING = [
  "\r",
  "\n",
  "\r\n",
  "\0",
  " ",
  "\t",
  ":",
  ",",
  ";",
  "=",
  "0",
  "1",
  "9",
  "a",
  "f",
  "x",
  "+",
  "-",
  "_",
  "\x7f",
  "\x80",
  "\xff",
  "\x0b",
  "\x0c",
  "/",
  "?",
  "#",
  "%",
  '"',
  "\\",
  "H",
  "T",
  "P",
];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** A well-formed request: method, target, 0–6 headers, and maybe a body (CL or chunked). */
function base(r: () => number): { text: string; recipe: string[] } {
  const method = pick(r, METHODS);
  const target =
    method === "OPTIONS" && r() < 0.5
      ? "*"
      : pick(
          r,
          TARGETS.filter((t) => t !== "*"),
        );
  const version = r() < 0.9 ? "HTTP/1.1" : "HTTP/1.0";
  const lines = [`${method} ${target} ${version}`];
  if (version === "HTTP/1.1" || r() < 0.5) lines.push("Host: 127.0.0.1");
  const n = Math.floor(r() * 7);
  for (let i = 0; i < n; i++) lines.push(`${pick(r, HEADER_NAMES)}: ${pick(r, HEADER_VALUES)}`);
  let body = "";
  const recipe = [`${method} ${version}`];
  const bodyKind = method === "GET" || method === "HEAD" ? r() < 0.1 : r() < 0.7;
  if (bodyKind) {
    const content = "x".repeat(Math.floor(r() * 40)) + (r() < 0.3 ? "\r\n\0\xff" : "");
    if (version === "HTTP/1.1" && r() < 0.4) {
      lines.push("Transfer-Encoding: chunked");
      const mid = Math.floor(content.length / 2);
      const parts = [content.slice(0, mid), content.slice(mid)].filter((p) => p.length > 0);
      body =
        parts
          .map((p) => `${p.length.toString(16)}${r() < 0.2 ? ";ext=1" : ""}\r\n${p}\r\n`)
          .join("") + "0\r\n\r\n";
      recipe.push("chunked");
    } else {
      lines.push(`Content-Length: ${Buffer.byteLength(content, "latin1")}`);
      body = content;
      recipe.push("content-length");
    }
  }
  return { text: `${lines.join("\r\n")}\r\n\r\n${body}`, recipe };
}

/** One mutation; returns the new text and a label. */
function mutate(r: () => number, text: string): [string, string] {
  const kind = Math.floor(r() * 10);
  const pos = Math.floor(r() * text.length);
  switch (kind) {
    case 0:
    case 1: {
      const b = pick(r, INTERESTING);
      return [text.slice(0, pos) + b + text.slice(pos), `insert ${JSON.stringify(b)}`];
    }
    case 2:
      return [text.slice(0, pos) + text.slice(pos + 1), "delete a byte"];
    case 3: {
      const b = pick(r, INTERESTING);
      return [text.slice(0, pos) + b + text.slice(pos + 1), `replace with ${JSON.stringify(b)}`];
    }
    case 4: {
      // Duplicate a header line.
      const lines = text.split("\r\n");
      const end = lines.indexOf("");
      if (end > 1) {
        const i = 1 + Math.floor(r() * (end - 1));
        lines.splice(i, 0, lines[i]!);
        return [lines.join("\r\n"), "duplicate a header line"];
      }
      return [text, "no-op"];
    }
    case 5: {
      // Add a framing header.
      const extra = pick(r, [
        "Content-Length: 5",
        "Content-Length: 0",
        "Content-Length: 3, 3",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip",
        "Content-Length:  7 ",
        "Host: other",
        "Expect: 100-continue",
        "Connection: close",
      ]);
      const i = text.indexOf("\r\n");
      return [
        text.slice(0, i + 2) + extra + "\r\n" + text.slice(i + 2),
        `add ${JSON.stringify(extra)}`,
      ];
    }
    case 6: {
      // Swap CRLF for LF somewhere.
      const idx: number[] = [];
      for (let i = text.indexOf("\r\n"); i >= 0; i = text.indexOf("\r\n", i + 2)) idx.push(i);
      if (idx.length === 0) return [text, "no-op"];
      const i = pick(r, idx);
      return [text.slice(0, i) + text.slice(i + 1), "CRLF to LF"];
    }
    case 7: {
      // Whitespace around a colon.
      const i = text.indexOf(":", text.indexOf("\r\n"));
      if (i < 0) return [text, "no-op"];
      const ws = pick(r, [" ", "\t", "  "]);
      return r() < 0.5
        ? [text.slice(0, i) + ws + text.slice(i), "whitespace before colon"]
        : [text.slice(0, i + 1) + ws + text.slice(i + 1), "extra whitespace after colon"];
    }
    case 8: {
      // Change case of a framing word.
      const from = pick(r, ["chunked", "Content-Length", "HTTP/1.1", "Host"]);
      const to = r() < 0.5 ? from.toUpperCase() : from.toLowerCase();
      return [text.replace(from, to), `case ${from} -> ${to}`];
    }
    default: {
      // Truncate.
      return [text.slice(0, pos), "truncate"];
    }
  }
}

/** `count` requests: a tenth unmutated, the rest with one to three mutations. */
export function generateRequests(count: number, seed = 20261121): Generated[] {
  const r = seededRandom(seed);
  const out: Generated[] = [];
  for (let i = 0; i < count; i++) {
    const { text, recipe } = base(r);
    let t = text;
    if (i % 10 !== 0) {
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) {
        const [next, label] = mutate(r, t);
        t = next;
        recipe.push(label);
      }
    }
    out.push({ bytes: Buffer.from(t, "latin1"), recipe });
  }
  return out;
}
