import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { connect, createServer, type PeerCertificate, type TLSSocket } from "node:tls";
import { inspect } from "node:util";
import {
  encodeUsernamePassword,
  formatTimestamp,
  getContentRange,
  type HTTPConnection,
  HTTPHeaders,
  HTTPInputError,
  HTTPOutputError,
  HTTPServerRequest,
  isHTTPServerConnectionDelegate,
  isValidHostHeader,
  parseContentRange,
  parseCookie,
  parseRequestRange,
  qsParseKeepBlank,
  qsToQsl,
  RequestStartLine,
  splitHostAndPort,
  urlConcat,
} from "../../src/httputil.js";
import { fixture } from "../helpers/paths.js";
import { seededRandom } from "../helpers/random.js";

// --- urlConcat ------------------------------------------------------------------------------

test("urlConcat adds a query to a URL without one [test_url_concat_no_query_params]", () => {
  assert.equal(
    urlConcat("https://localhost/path", [
      ["y", "y"],
      ["z", "z"],
    ]),
    "https://localhost/path?y=y&z=z",
  );
});

test("urlConcat encodes argument values [test_url_concat_encode_args]", () => {
  assert.equal(
    urlConcat("https://localhost/path", [
      ["y", "/y"],
      ["z", "z"],
    ]),
    "https://localhost/path?y=%2Fy&z=z",
  );
  assert.equal(urlConcat("/p", { "a b": "c&d=é" }), "/p?a+b=c%26d%3D%C3%A9");
});

test("urlConcat handles a trailing ? [test_url_concat_trailing_q]", () => {
  assert.equal(
    urlConcat("https://localhost/path?", [
      ["y", "y"],
      ["z", "z"],
    ]),
    "https://localhost/path?y=y&z=z",
  );
});

test("urlConcat keeps a bare name as name= [test_url_concat_q_with_no_trailing_amp]", () => {
  assert.equal(
    urlConcat("https://localhost/path?x", [
      ["y", "y"],
      ["z", "z"],
    ]),
    "https://localhost/path?x=&y=y&z=z",
  );
});

test("urlConcat drops a trailing & [test_url_concat_trailing_amp]", () => {
  assert.equal(
    urlConcat("https://localhost/path?x&", [
      ["y", "y"],
      ["z", "z"],
    ]),
    "https://localhost/path?x=&y=y&z=z",
  );
});

test("urlConcat appends after existing parameters [test_url_concat_mult_params]", () => {
  assert.equal(
    urlConcat("https://localhost/path?a=1&b=2", [
      ["y", "y"],
      ["z", "z"],
    ]),
    "https://localhost/path?a=1&b=2&y=y&z=z",
  );
});

test("urlConcat with no arguments keeps the query [test_url_concat_no_params]", () => {
  assert.equal(urlConcat("https://localhost/path?r=1&t=2", []), "https://localhost/path?r=1&t=2");
});

test("urlConcat with null arguments returns the URL [test_url_concat_none_params]", () => {
  assert.equal(urlConcat("https://localhost/path?r=1&t=2", null), "https://localhost/path?r=1&t=2");
  assert.equal(urlConcat("https://x/?a=%zz b", undefined), "https://x/?a=%zz b");
});

test("urlConcat keeps the fragment last [test_url_concat_with_frag]", () => {
  assert.equal(
    urlConcat("https://localhost/path#tab", [["y", "y"]]),
    "https://localhost/path?y=y#tab",
  );
  assert.equal(urlConcat("/p?a=1#f?g", { b: "2" }), "/p?a=1&b=2#f?g");
});

test("urlConcat repeats names given as pairs [test_url_concat_multi_same_params]", () => {
  assert.equal(
    urlConcat("https://localhost/path", [
      ["y", "y1"],
      ["y", "y2"],
    ]),
    "https://localhost/path?y=y1&y=y2",
  );
});

test("urlConcat keeps repeated query names [test_url_concat_multi_same_query_params]", () => {
  assert.equal(
    urlConcat("https://localhost/path?r=1&r=2", [["y", "y"]]),
    "https://localhost/path?r=1&r=2&y=y",
  );
});

test("urlConcat takes an object [test_url_concat_dict_params]", () => {
  assert.equal(urlConcat("https://localhost/path", { y: "y" }), "https://localhost/path?y=y");
  assert.equal(urlConcat("/p", { n: 5 }), "/p?n=5");
  assert.throws(() => urlConcat("/p", "a=b" as never), TypeError);
});

test("qsToQsl turns parsed arguments back into pairs [test_parsing]", () => {
  const qs = qsParseKeepBlank("a=1&b=2&a=3");
  const qsl = [...qsToQsl(qs)].map(([k, v]) => [k, v.toString()]);
  assert.deepEqual(qsl, [
    ["a", "1"],
    ["a", "3"],
    ["b", "2"],
  ]);
  assert.deepEqual(
    [...qsToQsl({ x: ["1", "2"] })],
    [
      ["x", "1"],
      ["x", "2"],
    ],
  );
});

test("qsParseKeepBlank keeps blank values and byte-exact values", () => {
  const qs = qsParseKeepBlank("a=&b&c=%FF%00&d=x+y&&");
  assert.deepEqual([...qs.keys()], ["a", "b", "c", "d"]);
  assert.deepEqual(qs.get("a"), [Buffer.alloc(0)]);
  assert.deepEqual(qs.get("b"), [Buffer.alloc(0)]);
  assert.deepEqual(qs.get("c"), [Buffer.from([0xff, 0])]);
  assert.deepEqual(qs.get("d"), [Buffer.from("x y")]);
});

// --- formatTimestamp -------------------------------------------------------------------------

const TIMESTAMP = 1359312200.503611;
const EXPECTED = "Sun, 27 Jan 2013 18:43:20 GMT";

test("formatTimestamp takes float seconds [test_unix_time_float]", () => {
  assert.equal(formatTimestamp(TIMESTAMP, "s"), EXPECTED);
});

test("formatTimestamp takes integer seconds [test_unix_time_int]", () => {
  assert.equal(formatTimestamp(Math.trunc(TIMESTAMP), "s"), EXPECTED);
});

test("formatTimestamp takes milliseconds by default [test_utc_naive_datetime]", () => {
  assert.equal(formatTimestamp(TIMESTAMP * 1000), EXPECTED);
  assert.equal(formatTimestamp(0), "Thu, 01 Jan 1970 00:00:00 GMT");
});

test("formatTimestamp takes a Date [test_utc_aware_datetime]", () => {
  assert.equal(formatTimestamp(new Date(TIMESTAMP * 1000)), EXPECTED);
  assert.equal(formatTimestamp(new Date("2013-01-27T18:43:20.503Z")), EXPECTED);
});

test("formatTimestamp prints a time given in another zone in GMT [test_other_aware_datetime]", () => {
  assert.equal(formatTimestamp(new Date("2013-01-27T14:43:20.5-04:00")), EXPECTED);
});

test("formatTimestamp refuses other types and invalid times", () => {
  assert.throws(() => formatTimestamp("2013" as never), TypeError);
  assert.throws(() => formatTimestamp(Number.NaN), RangeError);
  assert.throws(() => formatTimestamp(0, "minutes" as never), RangeError);
  assert.throws(() => formatTimestamp(new Date("nonsense")), RangeError);
});

// --- HTTPServerRequest -----------------------------------------------------------------------

function request(
  line: [string, string, string],
  headers?: Record<string, string | string[]>,
  extra: { body?: Buffer; connection?: HTTPConnection } = {},
): HTTPServerRequest {
  return new HTTPServerRequest({
    startLine: new RequestStartLine(...line),
    headers: headers ? new HTTPHeaders(headers) : undefined,
    ...extra,
  });
}

test("a request needs only a start line [test_default_constructor]", () => {
  const r = new HTTPServerRequest({ startLine: new RequestStartLine("GET", "/", "HTTP/1.0") });
  assert.equal(r.method, "GET");
  assert.equal(r.uri, "/");
  assert.equal(r.host, "127.0.0.1");
  assert.equal(r.hostName, "127.0.0.1");
  assert.equal(r.protocol, "http");
  assert.equal(r.remoteIp, null);
  assert.equal(r.connection, null);
  assert.equal(r.fullUrl(), "http://127.0.0.1/");
  assert.throws(() => new HTTPServerRequest({} as never), TypeError);
});

test("the body defaults to an empty Buffer [test_body_is_a_byte_string]", () => {
  const r = request(["GET", "/", "HTTP/1.0"]);
  assert.ok(Buffer.isBuffer(r.body));
  assert.equal(r.body.length, 0);
});

test("the printed form of a request omits its headers [test_repr_does_not_contain_headers]", () => {
  const r = request(["GET", "/", "HTTP/1.0"], { Canary: ["Coal Mine"] });
  assert.ok(!String(r).includes("Canary"));
  assert.ok(!inspect(r).includes("Canary"));
  assert.equal(
    String(r),
    'HTTPServerRequest(protocol="http", host="127.0.0.1", method="GET", uri="/", version="HTTP/1.0", remoteIp=null)',
  );
});

test("an HTTP/1.1 request needs a valid, single Host", () => {
  const bad: Array<[Record<string, string | string[]> | undefined, RegExp]> = [
    [undefined, /Missing Host header/],
    [{ Host: "foo bar" }, /Invalid Host header/],
    [{ Host: "a/b" }, /Invalid Host header/],
    [{ Host: "a%zz" }, /Invalid Host header/],
    [{ Host: ["a.com", "b.com"] }, /Multiple host headers/],
    [{ Host: "a.com,b.com" }, /Multiple host headers/],
  ];
  for (const [headers, pattern] of bad) {
    assert.throws(
      () => request(["GET", "/", "HTTP/1.1"], headers),
      (error: unknown) => error instanceof HTTPInputError && pattern.test(error.message),
    );
  }
  const r = request(["GET", "/", "HTTP/1.1"], { Host: "Example.COM:8080" });
  assert.equal(r.host, "Example.COM:8080");
  assert.equal(r.hostName, "example.com");
  assert.equal(request(["GET", "/", "HTTP/1.1"], { Host: "[::1]:80" }).hostName, "[::1]");
  assert.equal(request(["GET", "/", "HTTP/1.1"], { Host: "" }).host, "");
});

test("a request over a connection that checks Host itself does not check it again", () => {
  const connection = (checksHost: boolean): HTTPConnection => ({
    writeHeaders: () => Promise.resolve(),
    write: () => Promise.resolve(),
    finish: () => {},
    checksHost,
  });
  // What such a connection passes on was checked already; the request takes it as it is.
  const r = request(["GET", "/", "HTTP/1.1"], { Host: "a b" }, { connection: connection(true) });
  assert.equal(r.host, "a b");
  // Any other connection's request checks it.
  assert.throws(
    () => request(["GET", "/", "HTTP/1.1"], { Host: "a b" }, { connection: connection(false) }),
    /Invalid Host header/,
  );
});

test("isValidHostHeader accepts host[:port] and refuses the rest", () => {
  for (const host of ["example.com", "Example.COM:8080", "[::1]:80", "a%20b", "%aF", ""]) {
    assert.equal(isValidHostHeader(host), true, host);
  }
  for (const host of ["foo bar", "a/b", "a%zz", "a%2", "%", "a.com,b.com", "h\u00e9", "x\r\n"]) {
    assert.equal(isValidHostHeader(host), false, host);
  }
});

test("isValidHostHeader agrees with RFC 3986's host[:port] pattern on generated values", () => {
  // The definition the table-driven check implements, and the comma it refuses on top.
  const definition = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=[\]:]|%[0-9A-Fa-f]{2})*$/;
  const random = seededRandom(7);
  const alphabet = "aZ09-._~!$&'()*+,;=[]:%fFgG /@?#\\\u0000\u007f\u00e9\u0100";
  for (let i = 0; i < 20000; i++) {
    let host = "";
    const length = Math.floor(random() * 8);
    for (let j = 0; j < length; j++) host += alphabet[Math.floor(random() * alphabet.length)];
    const expected = definition.test(host) && !host.includes(",");
    assert.equal(isValidHostHeader(host), expected, JSON.stringify(host));
  }
});

test("path, query and arguments come from the uri", () => {
  const r = request(["GET", "/p/a%20th?a=1&b=&a=2&c", "HTTP/1.1"], { Host: "h" });
  assert.equal(r.path, "/p/a%20th");
  assert.equal(r.query, "a=1&b=&a=2&c");
  assert.deepEqual(r.arguments.get("a"), [Buffer.from("1"), Buffer.from("2")]);
  assert.deepEqual(r.arguments.get("b"), [Buffer.alloc(0)]);
  assert.deepEqual(r.arguments.get("c"), [Buffer.alloc(0)]);
  assert.deepEqual(r.queryArguments, r.arguments);
  assert.notEqual(r.queryArguments.get("a"), r.arguments.get("a"));
  assert.equal(r.bodyArguments.size, 0);
  assert.equal(r.fullUrl(), "http://h/p/a%20th?a=1&b=&a=2&c");
  const noQuery = request(["GET", "/x", "HTTP/1.1"], { Host: "h" });
  assert.equal(noQuery.query, "");
  assert.equal(noQuery.arguments.size, 0);
});

test("parseBody merges body arguments into arguments and files", () => {
  const r = request(
    ["POST", "/?a=q", "HTTP/1.1"],
    { Host: "h", "Content-Type": "application/x-www-form-urlencoded" },
    {
      body: Buffer.from("a=b1&c=d"),
    },
  );
  r.parseBody();
  assert.deepEqual(r.arguments.get("a"), [Buffer.from("q"), Buffer.from("b1")]);
  assert.deepEqual(r.bodyArguments.get("a"), [Buffer.from("b1")]);
  assert.deepEqual(r.queryArguments.get("a"), [Buffer.from("q")]);
  assert.deepEqual(r.arguments.get("c"), [Buffer.from("d")]);
  const bad = request(
    ["POST", "/", "HTTP/1.1"],
    { Host: "h", "Content-Type": "multipart/form-data; boundary=x" },
    {
      body: Buffer.from("junk"),
    },
  );
  assert.throws(() => bad.parseBody(), HTTPInputError);
});

test("parseBody merges into arguments whether arguments was looked at before or after", () => {
  const make = () =>
    request(
      ["POST", "/?a=q", "HTTP/1.1"],
      { Host: "h", "Content-Type": "application/x-www-form-urlencoded" },
      { body: Buffer.from("a=b1") },
    );
  const seenFirst = make();
  assert.deepEqual(seenFirst.arguments.get("a"), [Buffer.from("q")]);
  seenFirst.parseBody();
  assert.deepEqual(seenFirst.arguments.get("a"), [Buffer.from("q"), Buffer.from("b1")]);
  const parsedFirst = make();
  parsedFirst.parseBody();
  assert.deepEqual(parsedFirst.arguments.get("a"), [Buffer.from("q"), Buffer.from("b1")]);
  // A request without a body parses nothing and keeps its maps empty.
  const empty = request(["GET", "/?x=1", "HTTP/1.1"], { Host: "h" });
  empty.parseBody();
  assert.equal(empty.bodyArguments.size, 0);
  assert.equal(empty.files.size, 0);
  assert.deepEqual([...empty.arguments.keys()], ["x"]);
});

test("a path set before the query is first read stays, and the query still comes from the uri", () => {
  const r = request(["GET", "/a?b=1", "HTTP/1.1"], { Host: "x" });
  r.path = "/set";
  assert.equal(r.query, "b=1");
  assert.equal(r.path, "/set");
  const q = request(["GET", "/a?b=1", "HTTP/1.1"], { Host: "x" });
  q.query = "c=2";
  assert.equal(q.path, "/a");
  assert.equal(q.query, "c=2");
});

test("path and query keep the uri the request was built with; fields can be set", () => {
  const r = request(["GET", "/a?b=1", "HTTP/1.1"], { Host: "Example.com:81" });
  r.uri = "/changed?z=9";
  assert.equal(r.path, "/a");
  assert.equal(r.query, "b=1");
  r.path = "/set";
  r.hostName = "other";
  r.files = new Map([["f", []]]);
  assert.equal(r.path, "/set");
  assert.equal(r.hostName, "other");
  assert.equal(r.files.size, 1);
  // Host names are computed per request even when the Host repeats or changes.
  assert.equal(request(["GET", "/", "HTTP/1.1"], { Host: "A.example:1" }).hostName, "a.example");
  assert.equal(request(["GET", "/", "HTTP/1.1"], { Host: "B.example" }).hostName, "b.example");
  assert.equal(request(["GET", "/", "HTTP/1.1"], { Host: "A.example:1" }).hostName, "a.example");
});

test("remoteIp and protocol come from the connection context", async () => {
  const writes: string[] = [];
  const connection: HTTPConnection = {
    context: { remoteIp: "10.0.0.1", protocol: "https" },
    async writeHeaders(startLine) {
      writes.push(String(startLine));
    },
    async write(chunk) {
      writes.push(chunk.toString());
    },
    finish() {
      writes.push("finish");
    },
  };
  const r = request(["GET", "/x", "HTTP/1.1"], { Host: "h" }, { connection });
  assert.equal(r.remoteIp, "10.0.0.1");
  assert.equal(r.protocol, "https");
  assert.equal(r.fullUrl(), "https://h/x");
  assert.equal(r.connection, connection);
  assert.equal(r.getSslCertificate(), null);
});

test("cookies are parsed lazily, dropping names a cookie jar refuses", () => {
  const r = request(["GET", "/", "HTTP/1.1"], {
    Host: "h",
    Cookie: 'a=1; b="x\\"y"; path=/; bad name=2; =nameless; c=[3]',
  });
  assert.deepEqual(
    [...r.cookies],
    [
      ["a", "1"],
      ["b", 'x"y'],
      ["c", "[3]"],
    ],
  );
  assert.equal(r.cookies, r.cookies);
  assert.equal(request(["GET", "/", "HTTP/1.1"], { Host: "h" }).cookies.size, 0);
});

test("requestTime counts milliseconds until markFinished", async () => {
  const r = request(["GET", "/", "HTTP/1.0"]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  r.markFinished();
  const elapsed = r.requestTime();
  assert.ok(elapsed >= 15 && elapsed < 5000, `${elapsed}`);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(r.requestTime(), elapsed);
});

test("isHTTPServerConnectionDelegate recognises objects with startRequest", () => {
  assert.equal(isHTTPServerConnectionDelegate({ startRequest() {}, onClose() {} }), true);
  assert.equal(
    isHTTPServerConnectionDelegate(() => {}),
    false,
  );
  assert.equal(isHTTPServerConnectionDelegate(null), false);
});

test("the error classes carry a name, a stable code and a cause", () => {
  const cause = new Error("inner");
  const input = new HTTPInputError("bad", { cause });
  assert.equal(input.name, "HTTPInputError");
  assert.equal(input.code, "ERR_HTTP_INPUT");
  assert.equal(input.status, 400);
  assert.equal(input.cause, cause);
  const output = new HTTPOutputError("too much");
  assert.equal(output.name, "HTTPOutputError");
  assert.equal(output.code, "ERR_HTTP_OUTPUT");
  assert.ok(output instanceof Error);
});

// --- parseCookie -----------------------------------------------------------------------------

function plain(record: Record<string, string>): Record<string, string> {
  return { ...record };
}

test("parseCookie handles the standard library's cases [test_python_cookies]", () => {
  assert.deepEqual(plain(parseCookie("chips=ahoy; vienna=finger")), {
    chips: "ahoy",
    vienna: "finger",
  });
  // Every semicolon delimits, even inside quotes.
  assert.deepEqual(plain(parseCookie('keebler="E=mc2; L=\\"Loves\\"; fudge=\\012;"')), {
    keebler: '"E=mc2',
    L: '\\"Loves\\"',
    fudge: "\\012",
    "": '"',
  });
  assert.deepEqual(plain(parseCookie("keebler=E=mc2")), { keebler: "E=mc2" });
  assert.deepEqual(plain(parseCookie("key:term=value:term")), { "key:term": "value:term" });
  assert.deepEqual(plain(parseCookie("a=b; c=[; d=r; f=h")), { a: "b", c: "[", d: "r", f: "h" });
});

test("parseCookie keeps RFC 6265 attributes and the last duplicate [test_cookie_edgecases]", () => {
  assert.deepEqual(plain(parseCookie("a=b; Domain=example.com")), {
    a: "b",
    Domain: "example.com",
  });
  assert.deepEqual(plain(parseCookie("a=b; h=i; a=c")), { a: "c", h: "i" });
});

test("parseCookie accepts what browsers send [test_invalid_cookies]", () => {
  assert.ok("django_language" in parseCookie("abc=def; unnamed; django_language=en"));
  assert.deepEqual(plain(parseCookie('a=b; "; c=d')), { a: "b", "": '"', c: "d" });
  assert.deepEqual(plain(parseCookie("a b c=d e = f; gh=i")), { "a b c": "d e = f", gh: "i" });
  assert.deepEqual(plain(parseCookie('a   b,c<>@:/[]?{}=d  "  =e,f g')), {
    "a   b,c<>@:/[]?{}": 'd  "  =e,f g',
  });
  assert.deepEqual(plain(parseCookie("saint=André Bessette")), { saint: "André Bessette" });
  assert.deepEqual(plain(parseCookie("  =  b  ;  ;  =  ;   c  =  ;  ")), { "": "b", c: "" });
  assert.deepEqual(plain(parseCookie("")), {});
  assert.equal(parseCookie("__proto__=x")["__proto__"], "x");
  assert.equal(Object.getPrototypeOf(parseCookie("a=b")), null);
});

test("parseCookie unquotes like Python's http.cookies [test_unquote]", () => {
  const cases: Array<[string, string]> = [
    ['a="b=\\""', 'b="'],
    ['a="b=\\\\"', "b=\\"],
    ['a="b=\\="', "b=="],
    ['a="b=\\n"', "b=n"],
    ['a="b=\\042"', 'b="'],
    ['a="b=\\134"', "b=\\"],
    ['a="b=\\377"', "b=\xff"],
    ['a="b=\\400"', "b=400"],
    ['a="b=\\42"', "b=42"],
    ['a="b=\\\\042"', "b=\\042"],
    ['a="b=\\\\134"', "b=\\134"],
    ['a="b=\\\\\\""', 'b=\\"'],
    ['a="b=\\\\\\042"', 'b=\\"'],
    ['a="b=\\134\\""', 'b=\\"'],
    ['a="b=\\134\\042"', 'b=\\"'],
  ];
  for (const [encoded, decoded] of cases) assert.equal(parseCookie(encoded)["a"], decoded, encoded);
});

test("parseCookie is linear on long escaped values [test_unquote_large]", () => {
  const n = 100_000;
  for (const encoded of ["\\\\", "\\134"]) {
    const start = performance.now();
    const value = parseCookie(`a="b=${encoded.repeat(n)}"`)["a"]!;
    assert.equal(value.slice(0, 3), "b=\\");
    assert.equal(value.slice(-3), "\\\\\\");
    assert.equal(value.length, n + 2);
    assert.ok(performance.now() - start < 3000);
  }
});

test("a hostile 1 MB Cookie header parses in linear time (CVE-2024-52804)", () => {
  const shapes = [
    `a="${"\\".repeat(1 << 20)}"`,
    ";".repeat(1 << 20),
    `${"x;".repeat(1 << 19)}=`,
    "=".repeat(1 << 20),
    `${'a=\\\\\\"; '.repeat(1 << 17)}`,
    `"${" ".repeat(1 << 20)}`,
  ];
  for (const header of shapes) {
    assert.ok(header.length >= 1 << 20);
    const start = performance.now();
    parseCookie(header);
    const elapsed = performance.now() - start;
    // Well under 100 ms on an idle machine; a quadratic parser would take hours. The margin
    // absorbs a CPU shared with other test processes.
    assert.ok(elapsed < 3000, `${elapsed} ms for ${JSON.stringify(header.slice(0, 12))}…`);
  }
});

// --- small helpers ---------------------------------------------------------------------------

test("splitHostAndPort splits at the last :digits", () => {
  assert.deepEqual(splitHostAndPort("example.com:8080"), ["example.com", 8080]);
  assert.deepEqual(splitHostAndPort("example.com"), ["example.com", null]);
  assert.deepEqual(splitHostAndPort("[::1]:80"), ["[::1]", 80]);
  assert.deepEqual(splitHostAndPort("[::1]"), ["[::1]", null]);
  assert.deepEqual(splitHostAndPort("host:"), ["host:", null]);
  assert.deepEqual(splitHostAndPort(":80"), [":80", null]);
});

test("encodeUsernamePassword joins NFC-normalised UTF-8 with a colon", () => {
  assert.deepEqual(encodeUsernamePassword("user", "pass"), Buffer.from("user:pass"));
  // "é" as e + combining acute becomes U+00E9.
  assert.deepEqual(encodeUsernamePassword("e\u0301", "p:w"), Buffer.from("\u00e9:p:w", "utf8"));
  assert.deepEqual(encodeUsernamePassword(Buffer.from([0xff]), ""), Buffer.from([0xff, 0x3a]));
});

test("parseRequestRange reads one byte range as slice indexes", () => {
  assert.deepEqual(parseRequestRange("bytes=1-2"), [1, 3]);
  assert.deepEqual(parseRequestRange("bytes=6-"), [6, null]);
  assert.deepEqual(parseRequestRange("bytes=-6"), [-6, null]);
  assert.deepEqual(parseRequestRange("bytes=-0"), [null, 0]);
  assert.deepEqual(parseRequestRange("bytes=0-0"), [0, 1]);
  assert.deepEqual(parseRequestRange("bytes="), [null, null]);
  assert.deepEqual(parseRequestRange(" bytes = 1 - 2 "), [1, 3]);
  for (const bad of [
    "foo=42",
    "bytes=1-2,6-10",
    "bytes=+1-2",
    "bytes=0x1-",
    "bytes=1_0-",
    "bytes=99999999999999999999-",
    "bytes=--5",
    "bytes=a-b",
  ]) {
    assert.equal(parseRequestRange(bad), null, bad);
  }
});

test("getContentRange and parseContentRange write and read Content-Range", () => {
  assert.equal(getContentRange(null, 1, 4), "bytes 0-0/4");
  assert.equal(getContentRange(1, 3, 4), "bytes 1-2/4");
  assert.equal(getContentRange(null, null, 4), "bytes 0-3/4");
  assert.deepEqual(parseContentRange("bytes 1-2/4"), { start: 1, end: 3, total: 4 });
  assert.deepEqual(parseContentRange("bytes 0-99/*"), { start: 0, end: 100, total: null });
  assert.deepEqual(parseContentRange("bytes */1234"), { start: null, end: null, total: 1234 });
  for (const bad of [
    "bytes 5-2/10",
    "bytes */*",
    "items 1-2/4",
    "bytes 1-/4",
    "bytes 1-2/99999999999999999999",
  ]) {
    assert.equal(parseContentRange(bad), null, bad);
  }
});

test("getSslCertificate returns the client's certificate over a real TLS connection", async (t) => {
  const cert = readFileSync(fixture("test.crt"));
  const key = readFileSync(fixture("test.key"));
  const accepted = new Promise<TLSSocket>((resolve) => {
    const server = createServer(
      { cert, key, requestCert: true, rejectUnauthorized: false },
      resolve,
    );
    t.after(() => server.close());
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      const client = connect({ port, host: "127.0.0.1", cert, key, rejectUnauthorized: false });
      t.after(() => client.destroy());
    });
  });
  const socket = await accepted;
  t.after(() => socket.destroy());
  const connection = {
    stream: { socket },
    context: { remoteIp: "127.0.0.1", protocol: "https" },
    writeHeaders: async () => {},
    write: async () => {},
    finish() {},
  };
  const r = request(["GET", "/", "HTTP/1.1"], { Host: "h" }, { connection });
  const parsed = r.getSslCertificate() as PeerCertificate;
  assert.equal(parsed.subject.CN, "localhost");
  const der = r.getSslCertificate(true) as Buffer;
  assert.ok(Buffer.isBuffer(der));
  assert.deepEqual(der, new X509Certificate(cert).raw);
});
