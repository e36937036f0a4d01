// Fidelity corpus: templates whose expressions are valid in both Python and JavaScript, rendered
// by Python Tornado (one python3 subprocess fed JSON, test/fixtures/template_peer.py) and by
// tornado-ts, compared byte for byte. Covers every directive both languages share and every
// whitespace mode. Python's own `import` is left out (tornado-ts imports from the namespace).
//
// Tornado 6.2 (Debian) escapes `'` as `&#39;`; 6.4+ as `&#x27;`. The peer switches 6.2 to the
// newer behaviour, which tornado-ts follows.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { DictLoader, type LoaderOptions, ParseError, TemplateError } from "../src/template.js";
import { fixture } from "./helpers/paths.js";
import { needPeer, pythonWithTornado } from "./helpers/peers.js";

interface Case {
  name: string;
  templates: Record<string, string>;
  /** The template rendered. @defaultValue the first one */
  main?: string;
  namespace?: Record<string, unknown>;
  loader?: LoaderOptions;
}

type Result = { ok: string } | { error: string; message?: string };

class Err extends Error {}

/** The same helpers as template_peer.py's HELPERS. */
const HELPERS: Record<string, unknown> = {
  upper: (s: unknown) => String(s).toUpperCase(),
  add: (a: number, b: number) => a + b,
  wrap: (s: unknown) => `[${String(s)}]`,
  items: (d: Record<string, unknown>) => Object.entries(d),
  join: (xs: unknown[], sep: string) => xs.map(String).join(sep),
  fail: () => {
    throw new Err("failed");
  },
  Err,
  msg: (e: Error) => e.message,
  _tt_modules: { Hello: (name: unknown) => `<b>hi ${String(name)}</b>` },
};

const people = [
  { name: "Ann <admin>", age: 31, tags: ["a", "b"] },
  { name: "Bob & Co", age: 17, tags: [] },
  { name: "O'Brien", age: 45, tags: ["c"] },
];

const BASE =
  "<html><head><title>{% block title %}Default{% end %}</title></head>\n" +
  "<body>{% block body %}{% end %}</body>\n{% block footer %}<p>footer</p>{% end %}</html>\n";

const CASES: Case[] = [
  // Expressions
  { name: "names", templates: { "t.txt": "Hello {{ name }}!" }, namespace: { name: "Ben" } },
  {
    name: "attribute and index access",
    templates: { "t.txt": "{{ user.name }} {{ user['age'] }} {{ xs[1] }} {{ user.tags[0] }}" },
    namespace: { user: people[0], xs: [10, 20, 30] },
  },
  {
    name: "string literals and concatenation",
    templates: { "t.txt": "{{ 'a' + \"b\" }} {{ 'x' + name + 'y' }} {{ '\u00e9\u4e2d' }}" },
    namespace: { name: "N" },
  },
  {
    name: "arithmetic",
    templates: { "t.txt": "{{ 2 + 2 }} {{ 7 - 10 }} {{ 3 * (4 + 1) }} {{ n % 3 }}" },
    namespace: { n: 10 },
  },
  {
    name: "calls of passed functions",
    templates: { "t.txt": "{{ upper(name) }} {{ add(1, 2) }} {{ join(xs, '-') }} {{ len(xs) }}" },
    namespace: { name: "bob", xs: [1, 2, 3] },
  },
  {
    name: "comparisons and boolean operators in conditions",
    templates: {
      "t.txt":
        "{% if a < b and b <= c %}1{% end %}{% if a == 1 or c != 3 %}2{% end %}" +
        "{% if not a > b %}3{% end %}{% if x is None %}4{% end %}{% if x is not None %}5{% end %}" +
        "{% if a >= 2 or not c %}6{% end %}{% if True %}7{% end %}{% if False %}8{% end %}",
    },
    namespace: { a: 1, b: 2, c: 3, x: null },
  },
  {
    name: "autoescape of expressions",
    templates: { "t.html": "{{ s }}|{{ q }}" },
    namespace: { s: '<a href="x">&</a>', q: "it's" },
  },
  { name: "triple curlies", templates: { "t.txt": "{{{ x }}} {{{{ x }}}}" }, namespace: { x: 1 } },
  {
    name: "escaped tags",
    templates: { "t.txt": "{{!x}} {%! y %} {#! z #} {{ 'expr' }} {{!jquery expr}}" },
  },
  {
    name: "comments",
    templates: { "t.txt": "Hello{# TODO i18n #} {{ name }}!{# a\nb #}." },
    namespace: { name: "c" },
  },
  { name: "comment directive", templates: { "t.txt": "a{% comment blah blah %}b" } },
  {
    name: "unicode text and values",
    templates: { "t.txt": "\u00e9 {{ s }} \u2603" },
    namespace: { s: "\u00fc\u00f1\u00ee" },
  },
  // Escaping functions of the namespace
  {
    name: "escaping helpers",
    templates: {
      "t.txt":
        "{{ escape(s) }}|{{ xhtml_escape(s) }}|{{ url_escape(u) }}|{{ url_escape(u, False) }}|" +
        "{% raw json_encode(d) %}|{{ squeeze(w) }}|{% raw linkify(l) %}",
    },
    namespace: {
      s: "<'&\">",
      u: "a b/c?d=\u00e9",
      d: { k: "</script>", n: [1, 2] },
      w: "  a \n\t b  ",
      l: "see http://example.com/x?a=1&b=2 and www.foo.org",
    },
    loader: { autoescape: null },
  },
  // Directives
  {
    name: "if elif else",
    templates: {
      "t.txt":
        "{% for n in xs %}{% if n > 4 %}big{% elif n > 2 %}mid{% else %}small{% end %};{% end %}",
    },
    namespace: { xs: [1, 3, 5] },
  },
  { name: "empty if body", templates: { "t.txt": "{% if True %}{% else %}{% end %}x" } },
  {
    name: "for over a list of objects",
    templates: {
      "t.html":
        "<ul>\n{% for p in people %}\n  <li>{{ p.name }} ({{ p.age }})</li>\n{% end %}\n</ul>\n",
    },
    namespace: { people },
  },
  {
    name: "for over dict keys and item pairs",
    templates: {
      "t.txt":
        "{% for k in d %}{{ k }},{% end %}|{% for k, v in items(d) %}{{ k }}={{ v }};{% end %}",
    },
    namespace: { d: { b: 1, a: 2, c: 3 } },
  },
  {
    name: "for with tuple targets in parentheses",
    templates: { "t.txt": "{% for (i, (a, b)) in pairs %}{{ i }}{{ a }}{{ b }} {% end %}" },
    namespace: {
      pairs: [
        [0, ["x", "y"]],
        [1, ["z", "w"]],
      ],
    },
  },
  {
    name: "for over range and a string",
    templates: {
      "t.txt": "{% for i in range(3) %}{{ i }}{% end %}{% for c in 'abc' %}[{{ c }}]{% end %}",
    },
  },
  {
    name: "for else",
    templates: {
      "t.txt":
        "{% for x in xs %}{{ x }}{% else %}-none{% end %}|{% for x in ys %}{{ x }}{% else %}-none{% end %}|" +
        "{% for x in xs %}{% if x == 2 %}{% break %}{% end %}{{ x }}{% else %}-done{% end %}",
    },
    namespace: { xs: [1, 2, 3], ys: [] },
  },
  {
    name: "break and continue",
    templates: {
      "t.txt":
        "{% for i in range(10) %}\n    {% if i == 2 %}\n        {% continue %}\n    {% end %}\n" +
        "    {{ i }}\n    {% if i == 6 %}\n        {% break %}\n    {% end %}\n{% end %}",
    },
  },
  {
    name: "while with set",
    templates: {
      "t.txt":
        "{% set i = 0 %}{% while i < 5 %}{{ i }}{% set i = i + 1 %}{% if i == 4 %}{% break %}{% end %}{% end %}!",
    },
  },
  {
    name: "while else",
    templates: {
      "t.txt": "{% set i = 0 %}{% while i < 2 %}{% set i = i + 1 %}{{ i }}{% else %}-else{% end %}",
    },
  },
  {
    name: "set statements",
    templates: {
      "t.txt":
        "{% set a = 5 %}{% set b = a * 2 %}{% set c, d = 'x', 'y' %}{{ a }} {{ b }} {{ c }}{{ d }}{% set a += 1 %} {{ a }}",
    },
  },
  {
    name: "try except else finally",
    templates: {
      "t.txt":
        "{% try %}\ntry{{ fail() }}\n{% except %}-except\n{% else %}-else\n{% finally %}-finally\n{% end %}|" +
        "{% try %}ok{% except %}-except{% else %}-else{% finally %}-finally{% end %}",
    },
  },
  {
    name: "try except with a class and a name",
    templates: {
      "t.txt": "{% try %}{{ fail() }}{% except Err as e %}caught {{ msg(e) }}{% end %}",
    },
  },
  { name: "try finally", templates: { "t.txt": "{% try %}body{% finally %}-finally{% end %}" } },
  {
    name: "apply",
    templates: {
      "t.txt":
        "{% apply upper %}foo {{ name }} \u00e9{% end %} {% apply wrap %}{% apply upper %}in{% end %}{% end %}",
    },
    namespace: { name: "<b>" },
    loader: { autoescape: null },
  },
  {
    name: "apply with linkify and escaped content",
    templates: { "t.html": "{% apply linkify %}{{ who }} said: see http://example.com/a{% end %}" },
    namespace: { who: "<Ann>" },
  },
  { name: "raw", templates: { "t.html": "{{ s }} {% raw s %}" }, namespace: { s: "<b>&</b>" } },
  {
    name: "module",
    templates: { "t.html": "{% module Hello(name) %}" },
    namespace: { name: "<x>" },
  },
  // Autoescape
  {
    name: "autoescape None applies to the whole file",
    templates: { "t.html": "{{ x }}{% autoescape None %}{{ x }}" },
    namespace: { x: "<b>" },
  },
  {
    name: "autoescape with a custom function",
    templates: { "t.txt": "{% autoescape upper %}{{ x }} {% raw x %}" },
    namespace: { x: "shout" },
  },
  {
    name: "autoescape off in the loader, on in a file, and per included file",
    templates: {
      "include.html":
        "escaped: {% include 'escaped.html' %}\nunescaped: {% include 'unescaped.html' %}\n" +
        "default: {% include 'default.html' %}\n",
      "escaped.html": "{% autoescape xhtml_escape %}{{ name }}",
      "unescaped.html": "{% autoescape None %}{{ name }}",
      "default.html": "{{ name }}",
    },
    namespace: { name: "Bobby <table>s" },
    loader: { autoescape: null },
  },
  {
    name: "blocks keep the autoescape of their file",
    templates: {
      "child.html":
        '{% autoescape None %}{% extends "base.html" %}{% block b %}child: {{ name }}{% end %}',
      "base.html": "{% block a %}base: {{ name }}{% end %} {% block b %}{% end %}",
    },
    namespace: { name: "<script>" },
  },
  // Inheritance and includes
  {
    name: "extends",
    templates: {
      "page.html":
        '{% extends "base.html" %}\n{% block title %}{{ title }}{% end %}\n{% block body %}<h1>{{ title }}</h1>{% end %}\nignored\n',
      "base.html": BASE,
    },
    namespace: { title: "Page & Co" },
  },
  {
    name: "extends three levels deep with nested blocks",
    templates: {
      "leaf.html":
        "{% extends 'mid.html' %}{% block b %}leaf-b{% end %}{% block inner %}leaf-inner {{ x }}{% end %}",
      "mid.html":
        "{% extends 'root.html' %}{% block a %}mid-a[{% block inner %}mid-inner{% end %}]{% end %}{% block b %}mid-b{% end %}",
      "root.html":
        "<{% block a %}root-a{% end %}|{% block b %}root-b{% end %}|{% block c %}root-c{% end %}>",
    },
    namespace: { x: 1 },
  },
  {
    name: "include with shared locals",
    templates: {
      "main.html":
        "{% set count = 0 %}{% for item in items %}{% include 'row.html' %}{% end %}{{ count }}",
      "row.html": "<{{ item }}>{% set count = count + 1 %}",
    },
    namespace: { items: ["a", "b"] },
  },
  {
    name: "includes inside blocks and blocks inside includes",
    templates: {
      "page.html":
        "{% extends 'base.html' %}{% block body %}{% include 'item.html' %}{% end %}{% block footer %}page footer{% end %}",
      "base.html": "[{% block body %}{% end %}]{% include 'footer.html' %}",
      "footer.html": "({% block footer %}default footer{% end %})",
      "item.html": "item {{ n }}",
    },
    namespace: { n: 3 },
  },
  {
    name: "relative includes",
    templates: {
      "a/1.html": "{% include '2.html' %}",
      "a/2.html": "{% include '../b/3.html' %}",
      "b/3.html": "ok",
    },
  },
  // Whitespace
  {
    name: "whitespace by file name",
    templates: {
      "include.html": "  {% include baz.txt %} \n {% include foo.html %}{% include bar.js %}",
      "foo.html": "   \n\t\n asdf\t   ",
      "bar.js": " \n\n\n\t qwer     ",
      "baz.txt": "\t    zxcv\n\n",
    },
  },
  {
    name: "whitespace all from the loader",
    templates: { "t.html": "\t\tfoo\n\n  {{ x }}  \n\n", "u.txt": "x" },
    namespace: { x: 1 },
    loader: { whitespace: "all" },
  },
  {
    name: "whitespace single from the loader",
    templates: { "t.txt": "\t\tfoo\n\n  {{ x }}  \n\n\t a  b \n" },
    namespace: { x: 1 },
    loader: { whitespace: "single" },
  },
  {
    name: "whitespace oneline from the loader",
    templates: {
      "t.html": "<ul>\n  {% for i in range(3) %}\n    <li>{{ i }}</li>\n  {% end %}\n</ul>\n",
    },
    loader: { whitespace: "oneline" },
  },
  {
    name: "whitespace directive",
    templates: {
      "foo.html":
        "{% whitespace oneline %}\n    {% for i in range(3) %}\n        {{ i }}\n    {% end %}\n" +
        "{% whitespace all %}\n    pre\tformatted\n{% whitespace single %}  a  \n\n  b",
    },
  },
  {
    name: "whitespace single with CRLF and Unicode spaces",
    templates: { "t.html": "a \r\n\r\n b\u00a0\u00a0c \u2003\n\x1c d\ufeff \t e\u3000\u3000" },
  },
  {
    name: "whitespace oneline with Unicode spaces",
    templates: { "t.txt": "{% whitespace oneline %}a\u00a0\u2028b\x1f\x85c \ufeff d\r\n" },
  },
  {
    name: "pre chunks keep their whitespace",
    templates: { "t.html": "<div>   a\n\n  b</div>{{ x }}<pre>  keep\n\n  this</pre>  \n  end" },
    namespace: { x: 1 },
  },
  {
    name: "whitespace inside tags",
    templates: {
      "foo.txt": "{% for i in items\n  %}{% if i > 0 %}, {% end %}{#\n  #}{{i\n  }}{% end\n%}",
    },
    namespace: { items: [0, 1, 2, 3, 4] },
  },
  {
    name: "a typical page",
    templates: {
      "list.html":
        '{% extends "base.html" %}\n{% block title %}People{% end %}\n{% block body %}\n<table>\n' +
        '  {% for p in people %}\n  <tr class="{% if p.age >= 18 %}adult{% else %}minor{% end %}">\n' +
        "    <td>{{ p.name }}</td><td>{{ p.age }}</td><td>{{ join(p.tags, ', ') }}</td>\n  </tr>\n" +
        "  {% end %}\n</table>\n{% end %}\n",
      "base.html": BASE,
    },
    namespace: { people },
  },
  // Parse errors with the same message in both
  { name: "error: missing end expression", templates: { "foo.html": "\n\n{{" } },
  { name: "error: missing end block", templates: { "t.html": "a\n{% if x" } },
  { name: "error: missing end comment", templates: { "t.html": "{# x" } },
  { name: "error: empty expression", templates: { "t.html": "\n{{ }}" } },
  { name: "error: empty block tag", templates: { "t.html": "{% %}" } },
  { name: "error: extra end", templates: { "t.html": "x\n{% end %}" } },
  { name: "error: missing end for a block", templates: { "t.html": "{% for x in y %}\n" } },
  { name: "error: unknown operator", templates: { "t.html": "{% bogus x %}" } },
  {
    name: "error: intermediate in the wrong block",
    templates: { "t.html": "{% for x in y %}{% elif z %}{% end %}" },
  },
  { name: "error: apply without a function", templates: { "t.html": "{% apply %}{% end %}" } },
  { name: "error: block without a name", templates: { "t.html": "{% block %}{% end %}" } },
  { name: "error: extends without a path", templates: { "t.html": "{% extends '' %}" } },
  { name: "error: set without a statement", templates: { "t.html": "{% set %}" } },
];

function renderOurs(c: Case): Result {
  const loader = new DictLoader(c.templates, c.loader);
  const main = c.main ?? Object.keys(c.templates)[0]!;
  try {
    return { ok: loader.load(main).generate({ ...HELPERS, ...c.namespace }) };
  } catch (error) {
    if (error instanceof ParseError) return { error: "ParseError", message: error.message };
    if (error instanceof TemplateError) return { error: "TemplateError", message: error.message };
    throw error;
  }
}

test("the corpus has at least 30 templates", () => {
  assert.ok(CASES.length >= 30);
});

test(
  "templates render byte-identically in Python Tornado and tornado-ts",
  { skip: needPeer("python3-tornado") },
  async (t) => {
    const python = pythonWithTornado()!;
    const input = CASES.map((c) => ({
      templates: c.templates,
      main: c.main ?? Object.keys(c.templates)[0]!,
      namespace: c.namespace ?? {},
      loader: c.loader ?? {},
    }));
    const run = spawnSync(python, [fixture("template_peer.py")], {
      input: JSON.stringify(input),
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const expected = JSON.parse(run.stdout) as Result[];
    assert.equal(expected.length, CASES.length);
    for (const [i, c] of CASES.entries()) {
      await t.test(c.name, () => {
        const want = expected[i]!;
        assert.ok(
          !("error" in want) || want.error === "ParseError",
          `Python failed: ${JSON.stringify(want)}`,
        );
        assert.deepEqual(renderOurs(c), want);
      });
    }
  },
);
