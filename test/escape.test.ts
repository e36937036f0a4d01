import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import {
  JSONDecodeError,
  JSONEncodeError,
  jsonDecode,
  jsonEncode,
  type LinkifyOptions,
  linkify,
  parseQsBytes,
  QueryStringError,
  recursiveUnicode,
  squeeze,
  toUnicode,
  UnicodeError,
  urlEscape,
  urlUnescape,
  utf8,
  xhtmlEscape,
  xhtmlUnescape,
} from "../src/escape.js";
import { HTML5_ENTITIES } from "../src/escape/entities.js";
import { fixture } from "./helpers/paths.js";
import { needPeer, pythonWithTornado } from "./helpers/peers.js";

const b = (text: string, encoding: BufferEncoding = "utf8") => Buffer.from(text, encoding);

// ---------------------------------------------------------------------------------------------
// Tornado's own cases

const internalOrExternal = (href: string) =>
  href.startsWith("http://www.internal-link.com")
    ? 'class="internal"'
    : '    rel="nofollow" class="external"  ';

/** Tornado's linkify cases: input, options, expected HTML. */
const LINKIFY_CASES: [string, LinkifyOptions, string][] = [
  ["hello http://world.com/!", {}, 'hello <a href="http://world.com/">http://world.com/</a>!'],
  [
    "hello http://world.com/with?param=true&stuff=yes",
    {},
    'hello <a href="http://world.com/with?param=true&amp;stuff=yes">http://world.com/with?param=true&amp;stuff=yes</a>',
  ],
  [
    `http://url.com/w(${"a".repeat(45)}`,
    {},
    `<a href="http://url.com/w">http://url.com/w</a>(${"a".repeat(45)}`,
  ],
  [
    `http://url.com/withmany${".".repeat(39)}`,
    {},
    `<a href="http://url.com/withmany">http://url.com/withmany</a>${".".repeat(39)}`,
  ],
  [
    `http://url.com/withmany${"(".repeat(34)}a)`,
    {},
    `<a href="http://url.com/withmany">http://url.com/withmany</a>${"(".repeat(34)}a)`,
  ],
  [
    "http://foo.com/blah_blah",
    {},
    '<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>',
  ],
  [
    "http://foo.com/blah_blah/",
    {},
    '<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>',
  ],
  [
    "(Something like http://foo.com/blah_blah)",
    {},
    '(Something like <a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>)',
  ],
  [
    "http://foo.com/blah_blah_(wikipedia)",
    {},
    '<a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>',
  ],
  [
    "http://foo.com/blah_(blah)_(wikipedia)_blah",
    {},
    '<a href="http://foo.com/blah_(blah)_(wikipedia)_blah">http://foo.com/blah_(blah)_(wikipedia)_blah</a>',
  ],
  [
    "(Something like http://foo.com/blah_blah_(wikipedia))",
    {},
    '(Something like <a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>)',
  ],
  [
    "http://foo.com/blah_blah.",
    {},
    '<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>.',
  ],
  [
    "http://foo.com/blah_blah/.",
    {},
    '<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>.',
  ],
  [
    "<http://foo.com/blah_blah>",
    {},
    '&lt;<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>&gt;',
  ],
  [
    "<http://foo.com/blah_blah/>",
    {},
    '&lt;<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>&gt;',
  ],
  [
    "http://foo.com/blah_blah,",
    {},
    '<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>,',
  ],
  [
    "http://www.example.com/wpstyle/?p=364.",
    {},
    '<a href="http://www.example.com/wpstyle/?p=364">http://www.example.com/wpstyle/?p=364</a>.',
  ],
  [
    "rdar://1234",
    { permittedProtocols: ["http", "rdar"] },
    '<a href="rdar://1234">rdar://1234</a>',
  ],
  ["rdar:/1234", { permittedProtocols: ["rdar"] }, '<a href="rdar:/1234">rdar:/1234</a>'],
  [
    "http://userid:password@example.com:8080",
    {},
    '<a href="http://userid:password@example.com:8080">http://userid:password@example.com:8080</a>',
  ],
  [
    "http://userid@example.com",
    {},
    '<a href="http://userid@example.com">http://userid@example.com</a>',
  ],
  [
    "http://userid@example.com:8080",
    {},
    '<a href="http://userid@example.com:8080">http://userid@example.com:8080</a>',
  ],
  [
    "http://userid:password@example.com",
    {},
    '<a href="http://userid:password@example.com">http://userid:password@example.com</a>',
  ],
  [
    "message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e",
    { permittedProtocols: ["http", "message"] },
    '<a href="message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e">' +
      "message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e</a>",
  ],
  ["http://\u27a1.ws/\u4a39", {}, '<a href="http://\u27a1.ws/\u4a39">http://\u27a1.ws/\u4a39</a>'],
  [
    "<tag>http://example.com</tag>",
    {},
    '&lt;tag&gt;<a href="http://example.com">http://example.com</a>&lt;/tag&gt;',
  ],
  [
    "Just a www.example.com link.",
    {},
    'Just a <a href="http://www.example.com">www.example.com</a> link.',
  ],
  ["Just a www.example.com link.", { requireProtocol: true }, "Just a www.example.com link."],
  [
    "A http://reallylong.com/link/that/exceedsthelenglimit.html",
    { requireProtocol: true, shorten: true },
    'A <a href="http://reallylong.com/link/that/exceedsthelenglimit.html"' +
      ' title="http://reallylong.com/link/that/exceedsthelenglimit.html">http://reallylong.com/link...</a>',
  ],
  [
    "A http://reallylongdomainnamethatwillbetoolong.com/hi!",
    { shorten: true },
    'A <a href="http://reallylongdomainnamethatwillbetoolong.com/hi"' +
      ' title="http://reallylongdomainnamethatwillbetoolong.com/hi">http://reallylongdomainnametha...</a>!',
  ],
  [
    "A file:///passwords.txt and http://web.com link",
    {},
    'A file:///passwords.txt and <a href="http://web.com">http://web.com</a> link',
  ],
  [
    "A file:///passwords.txt and http://web.com link",
    { permittedProtocols: ["file"] },
    'A <a href="file:///passwords.txt">file:///passwords.txt</a> and http://web.com link',
  ],
  [
    "www.external-link.com",
    { extraParams: 'rel="nofollow" class="external"' },
    '<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>',
  ],
  [
    "www.external-link.com and www.internal-link.com/blogs extra",
    { extraParams: internalOrExternal },
    '<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>' +
      ' and <a href="http://www.internal-link.com/blogs" class="internal">www.internal-link.com/blogs</a> extra',
  ],
  [
    "www.external-link.com",
    { extraParams: () => '    rel="nofollow" class="external"  ' },
    '<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>',
  ],
];

test("linkify turns URLs into links, with Tornado's options [test_linkify]", () => {
  for (const [text, options, expected] of LINKIFY_CASES) {
    assert.equal(linkify(text, options), expected, text);
  }
  assert.equal(linkify(b("see www.a.com")), 'see <a href="http://www.a.com">www.a.com</a>');
});

test("xhtmlEscape escapes the five characters and xhtmlUnescape reverses it [test_xhtml_escape]", () => {
  const cases: [string | Buffer, string][] = [
    ["<foo>", "&lt;foo&gt;"],
    [b("<foo>"), "&lt;foo&gt;"],
    ["<>&\"'", "&lt;&gt;&amp;&quot;&#x27;"],
    ["&amp;", "&amp;amp;"],
    ["<\u00e9>", "&lt;\u00e9&gt;"],
    [b("<\u00e9>"), "&lt;\u00e9&gt;"],
  ];
  for (const [raw, escaped] of cases) {
    assert.equal(xhtmlEscape(raw), escaped);
    assert.equal(xhtmlUnescape(escaped), toUnicode(raw));
    assert.equal(xhtmlUnescape(b(escaped)), toUnicode(raw));
  }
  assert.equal(typeof xhtmlEscape("foo"), "string");
});

test("xhtmlUnescape decodes decimal and hex references and leaves invalid ones [test_xhtml_unescape_numeric]", () => {
  const cases: [string, string][] = [
    ["foo&#32;bar", "foo bar"],
    ["foo&#x20;bar", "foo bar"],
    ["foo&#X20;bar", "foo bar"],
    ["foo&#xabc;bar", "foo\u0abcbar"],
    ["foo&#xyz;bar", "foo&#xyz;bar"],
    ["foo&#;bar", "foo&#;bar"],
    ["foo&#x;bar", "foo&#x;bar"],
  ];
  for (const [escaped, text] of cases) assert.equal(xhtmlUnescape(escaped), text);
});

test("xhtmlUnescape follows HTML5: named table, legacy names, invalid code points", () => {
  assert.equal(xhtmlUnescape("&Afr;&ngE;&amp&ampx&notit;"), "\u{1d504}\u2267\u0338&&x\u00acit;");
  assert.equal(
    xhtmlUnescape("&#0;&#13;&#x80;&#xd800;&#x110000;&#1;&#xFFFE;"),
    "\ufffd\r\u20ac\ufffd\ufffd",
  );
  assert.equal(xhtmlUnescape("&nosuchname; & &;"), "&nosuchname; & &;");
  assert.equal(xhtmlUnescape(`&#${"0".repeat(50)}65;`), "A");
});

test("urlEscape encodes bytes as they are and strings as UTF-8 [test_url_escape_unicode]", () => {
  assert.equal(urlEscape(b("\u00e9")), "%C3%A9");
  assert.equal(urlEscape(b("\u00e9", "latin1")), "%E9");
  assert.equal(urlEscape("\u00e9"), "%C3%A9");
});

test("urlUnescape decodes as UTF-8, latin1 or to bytes, from strings and bytes [test_url_unescape_unicode]", () => {
  for (const input of ["%C3%A9", b("%C3%A9")]) {
    assert.equal(urlUnescape(input, { encoding: "utf8" }), "\u00e9");
    assert.equal(urlUnescape(input, { encoding: "latin1" }), "\u00c3\u00a9");
    assert.deepEqual(urlUnescape(input, { encoding: null }), b("\u00e9"));
  }
});

test("plus selects quote_plus or quote semantics both ways [test_url_escape_quote_plus]", () => {
  const text = "+ #%";
  assert.equal(urlEscape(text), "%2B+%23%25");
  assert.equal(urlEscape(text, { plus: false }), "%2B%20%23%25");
  assert.equal(urlUnescape("%2B+%23%25"), text);
  assert.equal(urlUnescape("%2B%20%23%25", { plus: false }), text);
  assert.deepEqual(urlUnescape("%2B+%23%25", { encoding: null }), b(text));
  assert.deepEqual(urlUnescape("%2B%20%23%25", { encoding: null, plus: false }), b(text));
  assert.equal(urlEscape("a b/c"), "a+b%2Fc");
  assert.equal(urlEscape("a b/c", { plus: false }), "a%20b/c");
});

test("escape functions return strings for string input [test_escape_return_types]", () => {
  assert.equal(typeof xhtmlEscape("foo"), "string");
  assert.equal(typeof urlEscape(b("foo")), "string");
  assert.equal(typeof linkify(b("foo")), "string");
});

test("jsonDecode accepts strings and UTF-8 bytes [test_json_decode]", () => {
  assert.equal(jsonDecode(b('"foo"')), "foo");
  assert.equal(jsonDecode('"foo"'), "foo");
  assert.equal(jsonDecode(b('"\u00e9"')), "\u00e9");
});

test("jsonEncode output decodes back to the same value [test_json_encode]", () => {
  assert.equal(jsonDecode(jsonEncode("\u00e9")), "\u00e9");
  assert.equal(jsonEncode("\u00e9"), '"\\u00e9"');
  const value = { a: [1, 2.5, "x</script>"], b: { c: null, d: true } };
  assert.deepEqual(jsonDecode(jsonEncode(value)), value);
  assert.equal(jsonEncode(value), '{"a": [1, 2.5, "x<\\/script>"], "b": {"c": null, "d": true}}');
});

test("squeeze collapses whitespace runs to one space [test_squeeze]", () => {
  assert.equal(squeeze("sequences     of    whitespace   chars"), "sequences of whitespace chars");
  assert.equal(squeeze("\u3000 a\x1f\x00b \u0085"), "a b");
});

test("recursiveUnicode converts bytes inside objects, arrays and maps [test_recursive_unicode]", () => {
  assert.deepEqual(recursiveUnicode({ foo: b("bar") }), { foo: "bar" });
  assert.deepEqual(recursiveUnicode([b("foo"), b("bar")]), ["foo", "bar"]);
  assert.deepEqual(recursiveUnicode(new Map([[b("k"), [b("v")]]])), new Map([["k", ["v"]]]));
  assert.equal(recursiveUnicode(b("foo")), "foo");
  assert.equal(recursiveUnicode(7), 7);
});

test("utf8 and toUnicode convert between strings and bytes; null passes", () => {
  assert.deepEqual(utf8("\u00e9"), b("\u00e9"));
  const buffer = b("x");
  assert.equal(utf8(buffer), buffer);
  assert.equal(utf8(null), null);
  assert.equal(toUnicode(null), null);
  assert.equal(toUnicode("s"), "s");
  assert.equal(toUnicode(new Uint8Array([0xc3, 0xa9])), "\u00e9");
  assert.deepEqual(utf8(new Uint8Array([1, 2])), Buffer.from([1, 2]));
});

test("bad inputs throw typed errors", () => {
  assert.throws(() => utf8(12 as unknown as string), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_TYPE",
  });
  assert.throws(() => toUnicode({} as unknown as string), { code: "ERR_INVALID_ARG_TYPE" });
  assert.throws(
    () => toUnicode(b("\xff", "latin1")),
    (e) => {
      assert.ok(e instanceof UnicodeError);
      assert.ok(e instanceof TypeError);
      assert.equal(e.code, "ERR_INVALID_UTF8");
      return true;
    },
  );
  assert.throws(() => utf8("\ud800"), { name: "UnicodeError", code: "ERR_UNPAIRED_SURROGATE" });
  assert.throws(() => urlEscape("a\udc00"), { code: "ERR_UNPAIRED_SURROGATE" });
  assert.throws(() => xhtmlEscape(b("\xe9", "latin1")), UnicodeError);
  assert.throws(
    () => jsonDecode("{bad"),
    (e) => {
      assert.ok(e instanceof JSONDecodeError);
      assert.ok(e instanceof SyntaxError);
      assert.equal(e.code, "ERR_JSON_DECODE");
      assert.ok(e.cause instanceof SyntaxError);
      return true;
    },
  );
  const circular: Record<string, unknown> = {};
  circular["self"] = circular;
  assert.throws(() => jsonEncode(circular), { name: "JSONEncodeError", code: "ERR_JSON_ENCODE" });
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 50; i++) deep = deep["next"] = {};
  deep["next"] = root;
  assert.throws(() => jsonEncode(root), { name: "JSONEncodeError", message: /Circular/ });
  delete deep["next"];
  const shared = { s: 1 };
  assert.equal(jsonEncode([shared, shared]), '[{"s": 1}, {"s": 1}]');
  assert.throws(() => jsonEncode(undefined), JSONEncodeError);
  assert.throws(() => jsonEncode(Symbol("s")), JSONEncodeError);
  assert.throws(
    () => parseQsBytes("a=1&b", { strictParsing: true }),
    (e) => {
      assert.ok(e instanceof QueryStringError);
      assert.equal(e.code, "ERR_BAD_QUERY_FIELD");
      return true;
    },
  );
  assert.throws(() => parseQsBytes("a=\u0100"), { code: "ERR_NOT_LATIN1" });
  assert.throws(() => urlUnescape("x", { encoding: "utf16le" as "latin1" }), {
    name: "RangeError",
    code: "ERR_UNKNOWN_ENCODING",
  });
  assert.throws(() => squeeze(5 as unknown as string), TypeError);
});

test("jsonEncode writes Python's numbers, NaN and non-ASCII escapes; jsonDecode reads them", () => {
  assert.equal(
    jsonEncode([1e16, 1e-5, 0.1, 2 ** 53, -1.5e300, 1e21]),
    "[1e+16, 1e-05, 0.1, 9007199254740992.0, -1.5e+300, 1e+21]",
  );
  assert.equal(
    jsonEncode([Number.NaN, Number.POSITIVE_INFINITY, -0, 12n]),
    "[NaN, Infinity, 0, 12]",
  );
  assert.equal(jsonEncode("\x7f\u{1f600}\ud800"), '"\\u007f\\ud83d\\ude00\\ud800"');
  assert.equal(
    jsonEncode(
      new Map<unknown, unknown>([
        [1, "a"],
        ["b", undefined],
      ]),
    ),
    '{"1": "a"}',
  );
  assert.equal(
    jsonEncode({ d: new Date(0), f: () => 1, u: undefined }),
    '{"d": "1970-01-01T00:00:00.000Z"}',
  );
  assert.deepEqual(jsonDecode('[NaN, -Infinity, "NaN", {"Infinity": Infinity}]'), [
    Number.NaN,
    Number.NEGATIVE_INFINITY,
    "NaN",
    { Infinity: Number.POSITIVE_INFINITY },
  ]);
  assert.deepEqual(jsonDecode(Buffer.from('\ufeff[1, "\u00e9"]', "utf16le")), [1, "\u00e9"]);
});

test("parseQsBytes returns latin1 names and byte values", () => {
  const parsed = parseQsBytes("a=1&a=%FF+2&b=&c&%41=x");
  assert.deepEqual(Object.keys(parsed), ["a", "A"]);
  assert.deepEqual(parsed["a"], [b("1"), Buffer.from([0xff, 0x20, 0x32])]);
  const blanks = parseQsBytes(b("b=&c"), { keepBlankValues: true });
  assert.deepEqual({ ...blanks }, { b: [b("")], c: [b("")] });
  assert.equal(Object.getPrototypeOf(parseQsBytes("__proto__=1")), null);
});

test("linkify stays fast on the inputs that made Gruber's regex exponential", () => {
  const started = performance.now();
  linkify(`http://url.com/w(${"a".repeat(20_000)}`);
  linkify(`http://url.com/withmany${".".repeat(20_000)}`);
  linkify(`http://${"a&amp;".repeat(5_000)}!`);
  assert.ok(performance.now() - started < 2_000);
});

// ---------------------------------------------------------------------------------------------
// The corpus: the same inputs through Python Tornado and through us.

type Tagged = unknown;
interface Case {
  fn: string;
  args: Tagged[];
  kwargs?: Record<string, Tagged>;
}

function tag(value: unknown): Tagged {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("base64") };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $float: "nan" };
    if (value === Number.POSITIVE_INFINITY) return { $float: "inf" };
    if (value === Number.NEGATIVE_INFINITY) return { $float: "-inf" };
    return Number.isSafeInteger(value) ? value : { $float: String(value) };
  }
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === "object") {
    const out: Record<string, Tagged> = {};
    for (const [k, v] of Object.entries(value)) out[k] = tag(v);
    return out;
  }
  return value;
}

/** Tagged Python results back to values comparable with ours. */
function untagResult(value: Tagged): unknown {
  if (Array.isArray(value)) return value.map(untagResult);
  if (value !== null && typeof value === "object") {
    const object = value as Record<string, Tagged>;
    if (typeof object["$bytes"] === "string") return Buffer.from(object["$bytes"], "base64");
    if (typeof object["$float"] === "string") {
      const f = object["$float"];
      return f === "nan"
        ? Number.NaN
        : f === "inf"
          ? Number.POSITIVE_INFINITY
          : Number.NEGATIVE_INFINITY;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(object)) out[k] = untagResult(v);
    return out;
  }
  return value;
}

function untagArgument(value: Tagged): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const object = value as Record<string, Tagged>;
    if (typeof object["$bytes"] === "string") return Buffer.from(object["$bytes"], "base64");
    const f = object["$float"];
    if (typeof f === "string") {
      return f === "inf"
        ? Number.POSITIVE_INFINITY
        : f === "-inf"
          ? -Number.POSITIVE_INFINITY
          : Number(f);
    }
  }
  if (Array.isArray(value)) return value.map(untagArgument);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = untagArgument(v);
    return out;
  }
  return value;
}

/** Our function for each of the peer's names, with Python's keyword arguments mapped. */
function runOurs(c: Case): unknown {
  const args = c.args.map(untagArgument);
  const kw = (c.kwargs ?? {}) as Record<string, unknown>;
  const first = args[0] as string | Buffer;
  switch (c.fn) {
    case "xhtml_escape":
      return xhtmlEscape(first);
    case "xhtml_unescape":
      return xhtmlUnescape(first);
    case "url_escape":
      return urlEscape(first, { plus: kw["plus"] as boolean | undefined });
    case "url_unescape":
      return urlUnescape(first, {
        plus: kw["plus"] as boolean | undefined,
        encoding: kw["encoding"] as "utf-8" | "latin1" | null | undefined,
      });
    case "parse_qs_bytes":
      return {
        ...parseQsBytes(first, {
          keepBlankValues: kw["keep_blank_values"] as boolean | undefined,
          strictParsing: kw["strict_parsing"] as boolean | undefined,
        }),
      };
    case "json_encode":
      return jsonEncode(args[0]);
    case "json_decode":
      return jsonDecode(first);
    case "squeeze":
      return squeeze(first as string);
    case "linkify": {
      const extra = kw["extra_params"];
      return linkify(first, {
        shorten: kw["shorten"] as boolean | undefined,
        extraParams: extra === "$callback" ? internalOrExternal : (extra as string | undefined),
        requireProtocol: kw["require_protocol"] as boolean | undefined,
        permittedProtocols: kw["permitted_protocols"] as string[] | undefined,
      });
    }
    case "utf8":
      return utf8(first);
    case "to_unicode":
      return toUnicode(first);
    default:
      throw new Error(`no such function ${c.fn}`);
  }
}

/** What kind of error each side raised, in one vocabulary. */
function errorKind(name: string): string {
  if (name === "UnicodeError" || name === "UnicodeDecodeError" || name === "UnicodeEncodeError") {
    return "unicode";
  }
  if (name === "QueryStringError" || name === "ValueError") return "value";
  return name;
}

// A small seeded generator, so the corpus is the same on every run.
let seed = 0x2545f491;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
function compose(pieces: readonly string[], maxPieces: number): string {
  let out = "";
  const n = 1 + Math.floor(random() * maxPieces);
  for (let i = 0; i < n; i++) out += pick(pieces);
  return out;
}
const bytesOf = (text: string) => tag(Buffer.from(text, "latin1"));

const corpus = new Map<string, Case[]>();
function add(group: string, c: Case): void {
  let list = corpus.get(group);
  if (list === undefined) corpus.set(group, (list = []));
  list.push(c);
}

// HTML escaping: every character class that matters, and random mixtures.
const HTML_PIECES = [
  "<",
  ">",
  "&",
  '"',
  "'",
  "a",
  " ",
  "\u00e9",
  "\u{1f600}",
  "&amp;",
  "\n",
  "\x00",
];
for (let i = 0; i < 300; i++)
  add("xhtml_escape", { fn: "xhtml_escape", args: [compose(HTML_PIECES, 12)] });
add("xhtml_escape", { fn: "xhtml_escape", args: [bytesOf("<\xc3\xa9>'")] });
add("xhtml_escape", { fn: "xhtml_escape", args: [bytesOf("\xff")] });

// HTML unescaping: every named reference with and without ;, prefixes, numeric edge cases.
const ENTITY_NAMES = [
  "amp",
  "lt",
  "gt",
  "quot",
  "notin",
  "not",
  "Afr",
  "ngE",
  "NewLine",
  "Tab",
  "copy",
  "nbsp",
  "aacute",
  "AMP",
  "frac12",
  "zwnj",
  "fjlig",
  "acE",
  "xyz",
];
const NUMERIC = [
  "#0",
  "#13",
  "#65",
  "#x41",
  "#X41",
  "#128",
  "#x80",
  "#x81",
  "#x9f",
  "#xd800",
  "#xdfff",
  "#x10ffff",
  "#x110000",
  "#1114112",
  "#99999999999",
  "#xfffe",
  "#x1fffe",
  "#xfdd0",
  "#11",
  "#x7f",
  "#",
  "#x",
  "#xg",
  "#0000000000065",
  `#${"9".repeat(40)}`,
];
const UNESCAPE_PIECES = ["&", ";", "a", "x", "1", " ", "\u00e9", "\u{1f600}", "#", "\t", "<"];
for (const name of ENTITY_NAMES) {
  for (const suffix of [";", "", "x", ";x", "1;"]) {
    add("xhtml_unescape", { fn: "xhtml_unescape", args: [`[&${name}${suffix}]`] });
  }
}
for (const number of NUMERIC) {
  for (const suffix of [";", "", "z;"]) {
    add("xhtml_unescape", { fn: "xhtml_unescape", args: [`&${number}${suffix}`] });
  }
}
for (let i = 0; i < 400; i++) {
  const pieces = [
    ...UNESCAPE_PIECES,
    ...ENTITY_NAMES.map((n) => `&${n}`),
    ...NUMERIC.map((n) => `&${n}`),
  ];
  add("xhtml_unescape", { fn: "xhtml_unescape", args: [compose(pieces, 8)] });
}
// Every name of the table, with and without its semicolon, 50 names to a case.
const ALL_NAMES = HTML5_ENTITIES.split(" ").map((entry) => entry.slice(0, entry.search(/[*=]/)));
for (let i = 0; i < ALL_NAMES.length; i += 50) {
  const names = ALL_NAMES.slice(i, i + 50);
  add("xhtml_unescape", {
    fn: "xhtml_unescape",
    args: [names.map((n) => `&${n};|&${n}|`).join("")],
  });
}
add("xhtml_unescape", { fn: "xhtml_unescape", args: [`&${"a".repeat(40)};`] });
add("xhtml_unescape", { fn: "xhtml_unescape", args: [`&${"\u{1f600}".repeat(33)};`] });
add("xhtml_unescape", { fn: "xhtml_unescape", args: [`&amp${"\u{1f600}".repeat(31)};`] });
add("xhtml_unescape", { fn: "xhtml_unescape", args: [bytesOf("&lt;\xc3\xa9&gt;")] });

// URL escaping: all 256 bytes, all ASCII characters, Unicode.
for (const plus of [true, false]) {
  const allBytes = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) allBytes[i] = i;
  add("url_escape", { fn: "url_escape", args: [tag(allBytes)], kwargs: { plus } });
  let ascii = "";
  for (let i = 0; i < 128; i++) ascii += String.fromCharCode(i);
  add("url_escape", { fn: "url_escape", args: [ascii], kwargs: { plus } });
  for (const text of ["", "a b/c", "\u00e9\u4a39\u{1f600}", "+ #%", "~_.-!*'()", "\ud800x"]) {
    add("url_escape", { fn: "url_escape", args: [text], kwargs: { plus } });
  }
}

const ESCAPE_PIECES = [
  "a",
  " ",
  "/",
  "+",
  "%",
  "~",
  "\u00e9",
  "\u{1f600}",
  "\x00",
  "?&=",
  "\u4a39",
];
for (let i = 0; i < 200; i++) {
  const text = compose(ESCAPE_PIECES, 8);
  add("url_escape", {
    fn: "url_escape",
    args: [i % 4 === 0 ? tag(Buffer.from(text)) : text],
    kwargs: { plus: random() < 0.5 },
  });
}

// URL unescaping: valid and invalid escapes, broken UTF-8, non-ASCII between escapes.
const UNQUOTE_PIECES = [
  "%",
  "%2",
  "%2B",
  "%2b",
  "+",
  "a",
  " ",
  "%C3",
  "%A9",
  "%c3%a9",
  "%E2%82",
  "%F0%9F%98%80",
  "%FF",
  "%80",
  "%ED%A0%80",
  "%F4%90%80%80",
  "%C0%AF",
  "\u00e9",
  "\u{1f600}",
  "%zz",
  "%%41",
  "%0",
];
const ENCODINGS = ["utf-8", "latin1", null];
for (let i = 0; i < 600; i++) {
  const text = compose(UNQUOTE_PIECES, 10);
  add("url_unescape", {
    fn: "url_unescape",
    args: [i % 5 === 0 ? tag(Buffer.from(text)) : text],
    kwargs: { plus: random() < 0.5, encoding: pick(ENCODINGS) },
  });
}
for (const plus of [true, false]) {
  add("url_unescape", {
    fn: "url_unescape",
    args: [bytesOf("%41\xff+")],
    kwargs: { plus, encoding: null },
  });
  add("url_unescape", { fn: "url_unescape", args: [bytesOf("%41\xff+")], kwargs: { plus } });
  add("url_unescape", {
    fn: "url_unescape",
    args: ["\ud800%41"],
    kwargs: { plus, encoding: null },
  });
  add("url_unescape", { fn: "url_unescape", args: ["\ud800%41"], kwargs: { plus } });
}

// Query strings.
const QS_PIECES = [
  "&",
  "=",
  "a",
  "b",
  "%41",
  "%ff",
  "%FF",
  "+",
  "%",
  "%2",
  "x=1",
  "&&",
  "==",
  "\u00e9",
  ";",
  "a=",
  "=b",
];
for (let i = 0; i < 500; i++) {
  const text = compose(QS_PIECES, 10);
  add("parse_qs_bytes", {
    fn: "parse_qs_bytes",
    args: [i % 3 === 0 ? tag(Buffer.from(text, "latin1")) : text],
    kwargs: { keep_blank_values: random() < 0.5, strict_parsing: random() < 0.3 },
  });
}
add("parse_qs_bytes", { fn: "parse_qs_bytes", args: [""] });
add("parse_qs_bytes", { fn: "parse_qs_bytes", args: ["a=\u0100"] });
add("parse_qs_bytes", { fn: "parse_qs_bytes", args: ["\u0100=a"] });

// JSON encoding: strings with every control character, numbers of every magnitude.
let controls = "";
for (let i = 0; i < 0x80; i++) controls += String.fromCharCode(i);
const JSON_STRINGS = [
  controls,
  "</script><!--",
  "\u00e9\u2028\u2029\ufeff",
  "\u{1f600}",
  "\ud800",
  "\udfff\ud800",
  'a\\b"c/',
  "",
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  0.5,
  1.5,
  100,
  1e15,
  1e16,
  1.5e16,
  123456789012345680000,
  1e21,
  1e22,
  1e-4,
  1e-5,
  1.234e-5,
  5e-324,
  1.7976931348623157e308,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 60),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1 / 3,
  2 / 3,
  0.000123,
  12345.678,
];
for (const s of JSON_STRINGS) add("json_encode", { fn: "json_encode", args: [s] });
for (const n of NUMBERS) add("json_encode", { fn: "json_encode", args: [tag(n)] });
for (let i = 0; i < 400; i++) {
  // Random doubles from random bits, of all exponents.
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, Math.floor(random() * 2 ** 32));
  view.setUint32(4, Math.floor(random() * 2 ** 32));
  add("json_encode", { fn: "json_encode", args: [tag(view.getFloat64(0))] });
  add("json_encode", {
    fn: "json_encode",
    args: [tag(Number((random() * 1000).toFixed(Math.floor(random() * 6))))],
  });
}
add("json_encode", {
  fn: "json_encode",
  args: [tag({ a: [1, 2.5, { b: null, c: [true, false, []] }], "\u00e9": {}, "</k": "</v" })],
});
add("json_encode", { fn: "json_encode", args: [[[], [[]], {}]] });

// JSON decoding: strings and bytes in every encoding Python detects.
const JSON_TEXTS = [
  '"foo"',
  '{"a": [1, 2.5, -0, 1e400, "\\u00e9\\ud83d\\ude00"]}',
  "[NaN, Infinity, -Infinity]",
  " \t\n[1]\r",
  "12345678901234567890",
  "-0.0",
  "[1,]",
  "{'a': 1}",
  "",
  "\ufeff[1]",
  "nul",
  '"\\ud800"',
  "[-NaN]",
  '"\x01"',
  "1 2",
];
for (const text of JSON_TEXTS) {
  add("json_decode", { fn: "json_decode", args: [text] });
  for (const encoding of ["utf8", "utf16le"] as const) {
    add("json_decode", { fn: "json_decode", args: [tag(Buffer.from(text, encoding))] });
  }
  add("json_decode", { fn: "json_decode", args: [tag(Buffer.from(text, "utf16le").swap16())] });
  add("json_decode", { fn: "json_decode", args: [tag(Buffer.from(`\ufeff${text}`, "utf8"))] });
  add("json_decode", { fn: "json_decode", args: [tag(Buffer.from(`\ufeff${text}`, "utf16le"))] });
  const utf32 = Buffer.alloc(Array.from(text).length * 4);
  Array.from(text).forEach((c, i) => utf32.writeUInt32LE(c.codePointAt(0)!, i * 4));
  add("json_decode", { fn: "json_decode", args: [tag(utf32)] });
  add("json_decode", { fn: "json_decode", args: [tag(Buffer.from(utf32).swap32())] });
}
add("json_decode", { fn: "json_decode", args: [bytesOf('"\xff"')] });

// squeeze: ASCII controls and the Unicode spaces str.strip() knows.
const SQUEEZE_PIECES = [
  " ",
  "\t",
  "\n",
  "\x00",
  "\x1c",
  "\x1f",
  "\x7f",
  "\x85",
  "\xa0",
  "\u3000",
  "\u2028",
  "\ufeff",
  "\u200b",
  "a",
  "b",
];
for (let i = 0; i < 300; i++)
  add("squeeze", { fn: "squeeze", args: [compose(SQUEEZE_PIECES, 10)] });

// linkify: Tornado's cases under every option, and random text full of URL-ish pieces.
const LINK_OPTIONS: Record<string, Tagged>[] = [
  {},
  { shorten: true },
  { require_protocol: true },
  { permitted_protocols: ["http", "https", "ftp", "mailto", "file", "rdar"] },
  { extra_params: ' rel="nofollow" ' },
  { extra_params: "$callback", shorten: true },
];
const LINK_PIECES = [
  "http://",
  "https://",
  "ftp://",
  "www.",
  "example.com",
  "/",
  "path",
  "(",
  ")",
  "?a=1",
  "&b=2",
  "&amp;",
  "'",
  '"',
  ".",
  ",",
  "!",
  " ",
  "\u00e9",
  "\u{1f600}",
  "\u27a1",
  "#frag",
  "javascript:",
  "a-b",
  "_",
  "\u0301",
  "\u3000",
  "\x1c",
  "mailto:x@y.z",
  "1234567890",
  "<",
  ">",
];
for (const [text] of LINKIFY_CASES) {
  for (const kwargs of LINK_OPTIONS) add("linkify", { fn: "linkify", args: [text], kwargs });
}
for (let i = 0; i < 1500; i++) {
  add("linkify", { fn: "linkify", args: [compose(LINK_PIECES, 14)], kwargs: pick(LINK_OPTIONS) });
}
for (const host of [
  "a".repeat(40),
  "\u{1f600}".repeat(40),
  "x&amp;y".repeat(8),
  "\u00e9".repeat(35),
]) {
  for (const path of ["", "/", "/abcdefghijkl.html?q=1", "/\u{1f600}\u{1f600}.x/y", "/a&b&c&d"]) {
    for (const scheme of ["http://", "www.", "https:///"]) {
      add("linkify", {
        fn: "linkify",
        args: [`${scheme}${host}${path}`],
        kwargs: { shorten: true },
      });
    }
  }
}

// Conversions.
for (const value of [
  tag(Buffer.from([0xc3, 0xa9])),
  tag(Buffer.from([0xff])),
  "\u00e9",
  "\ud800",
]) {
  add("utf8", { fn: "utf8", args: [value] });
  add("to_unicode", { fn: "to_unicode", args: [value] });
}

let peerResults: Map<string, Tagged[]> | undefined;

/** Runs the whole corpus through one Python process; the results by group. */
function runPeer(): Map<string, Tagged[]> {
  if (peerResults !== undefined) return peerResults;
  const groups = [...corpus.keys()];
  const all = groups.flatMap((g) => corpus.get(g)!);
  const python = pythonWithTornado()!;
  const run = spawnSync(python, [fixture("escape_peer.py")], {
    input: JSON.stringify(all),
    maxBuffer: 256 * 1024 * 1024,
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr?.toString());
  const results = JSON.parse(run.stdout.toString()) as Tagged[];
  assert.equal(results.length, all.length);
  peerResults = new Map();
  let at = 0;
  for (const g of groups) {
    const n = corpus.get(g)!.length;
    peerResults.set(g, results.slice(at, at + n));
    at += n;
  }
  return peerResults;
}

/**
 * A comparable text for a result: tagged (so bytes and numbers are exact, and -0, which
 * Python's int cannot be, equals 0) with object keys sorted.
 */
function canonical(value: unknown): string {
  return JSON.stringify(tag(value), (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function compareGroup(group: string): void {
  const cases = corpus.get(group)!;
  const theirs = runPeer().get(group)!;
  const mismatches: string[] = [];
  cases.forEach((c, i) => {
    const expected = theirs[i] as { ok?: Tagged; error?: string };
    let ours: { ok?: unknown; error?: string };
    try {
      ours = { ok: runOurs(c) };
    } catch (error) {
      ours = { error: error instanceof Error ? error.name : String(error) };
    }
    const same =
      expected.error !== undefined
        ? ours.error !== undefined && errorKind(ours.error) === errorKind(expected.error)
        : ours.error === undefined && canonical(ours.ok) === canonical(untagResult(expected.ok));
    if (!same) {
      mismatches.push(
        `${JSON.stringify(c)}\n  python: ${JSON.stringify(expected)}\n  ours:   ${JSON.stringify(tag(ours.ok) ?? ours)}`,
      );
    }
  });
  assert.equal(
    mismatches.length,
    0,
    `${mismatches.length} of ${cases.length} differ:\n${mismatches.slice(0, 8).join("\n")}`,
  );
}

const peer = { skip: needPeer("python3-tornado") };

for (const group of corpus.keys()) {
  test(
    `${group} gives Python Tornado's output on ${corpus.get(group)!.length} inputs`,
    peer,
    () => {
      compareGroup(group);
    },
  );
}

test("Tornado 6.2 escapes ' as &#39;; we follow 6.4+ and write &#x27;", peer, () => {
  const python = pythonWithTornado()!;
  const run = spawnSync(python, [fixture("escape_peer.py")], {
    input: JSON.stringify([{ fn: "tornado62_xhtml_escape", args: ["'"] }]),
    timeout: 20_000,
  });
  assert.deepEqual(JSON.parse(run.stdout.toString()), [{ ok: "&#39;" }]);
  assert.equal(xhtmlEscape("'"), "&#x27;");
});
