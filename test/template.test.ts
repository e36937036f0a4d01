import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  BaseLoader,
  DEFAULT_NAMESPACE,
  DictLoader,
  filterWhitespace,
  Loader,
  ParseError,
  Template,
  TemplateError,
} from "../src/template.js";
import { xhtmlEscape } from "../src/escape.js";
import { fixture } from "./helpers/paths.js";

const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");

function inverse(x: number): number {
  if (x === 0) throw new RangeError("division by zero");
  return 1 / x;
}

function boom(): never {
  throw new RangeError("boom");
}

/** Renders and expects a TemplateError; returns it. */
function renderError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `expected TemplateError, got ${String(error)}`);
    return error;
  }
  assert.fail("did not get expected exception");
}

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ParseError, `expected ParseError, got ${String(error)}`);
    return error;
  }
  assert.fail("did not get expected ParseError");
}

// ---------------------------------------------------------------------------------------------
// Tornado's TemplateTest

test("renders an expression [test_simple]", () => {
  assert.equal(new Template("Hello {{ name }}!").generate({ name: "Ben" }), "Hello Ben!");
});

test("renders bytes values as UTF-8 text [test_bytes]", () => {
  const t = new Template("Hello {{ name }}!");
  assert.equal(t.generate({ name: utf8("Ben") }), "Hello Ben!");
  assert.equal(t.generate({ name: new Uint8Array([0xc3, 0xa9]) }), "Hello é!");
});

test("evaluates JavaScript expressions [test_expressions]", () => {
  assert.equal(new Template("2 + 2 = {{ 2 + 2 }}").generate(), "2 + 2 = 4");
});

test("drops {# #} comments [test_comment]", () => {
  const t = new Template("Hello{# TODO i18n #} {{ name }}!");
  assert.equal(t.generate({ name: utf8("Ben") }), "Hello Ben!");
});

test("inlines an included template [test_include]", () => {
  const loader = new DictLoader({
    "index.html": '{% include "header.html" %}\nbody text',
    "header.html": "header text",
  });
  assert.equal(loader.load("index.html").generate(), "header text\nbody text");
});

test("replaces the blocks of the extended template [test_extends]", () => {
  const loader = new DictLoader({
    "base.html":
      "<title>{% block title %}default title{% end %}</title>\n" +
      "<body>{% block body %}default body{% end %}</body>\n",
    "page.html":
      '{% extends "base.html" %}\n{% block title %}page title{% end %}\n' +
      "{% block body %}page body{% end %}\n",
  });
  assert.equal(
    loader.load("page.html").generate(),
    "<title>page title</title>\n<body>page body</body>\n",
  );
});

test("resolves names relative to the including template [test_relative_load]", () => {
  const loader = new DictLoader({
    "a/1.html": "{% include '2.html' %}",
    "a/2.html": "{% include '../b/3.html' %}",
    "b/3.html": "ok",
  });
  assert.equal(loader.load("a/1.html").generate(), "ok");
});

test("{{! {%! {#! write literal braces; an unclosed tag is an error [test_escaping]", () => {
  assert.throws(() => new Template("{{"), ParseError);
  assert.throws(() => new Template("{%"), ParseError);
  assert.equal(new Template("{{!").generate(), "{{");
  assert.equal(new Template("{%!").generate(), "{%");
  assert.equal(new Template("{#!").generate(), "{#");
  assert.equal(new Template("{{ 'expr' }} {{!jquery expr}}").generate(), "expr {{jquery expr}}");
  assert.equal(new Template("{{!x}} {%! y %} {{{ 1 }}}").generate(), "{{x}} {% y %} {1}");
});

test("accepts UTF-8 bytes as the template source [test_unicode_template]", () => {
  assert.equal(new Template(utf8("\u00e9")).generate(), "\u00e9");
});

test("keeps non-ASCII string literals in expressions [test_unicode_literal_expression]", () => {
  assert.equal(new Template(utf8('{{ "\u00e9" }}')).generate(), "\u00e9");
});

test("adds the loader's namespace [test_custom_namespace]", () => {
  const loader = new DictLoader(
    { "test.html": "{{ inc(5) }}" },
    { namespace: { inc: (x: number) => x + 1 } },
  );
  assert.equal(loader.load("test.html").generate(), "6");
});

test("applies a function to a block's output [test_apply]", () => {
  const t = new Template(utf8("{% apply upper %}foo{% end %}"));
  assert.equal(t.generate({ upper: (s: string) => s.toUpperCase() }), "FOO");
});

test("applies a function to non-ASCII output [test_unicode_apply]", () => {
  const t = new Template(utf8("{% apply upper %}foo \u00e9{% end %}"));
  assert.equal(t.generate({ upper: (s: string) => s.toUpperCase() }), "FOO \u00c9");
});

test("accepts bytes returned by an apply function [test_bytes_apply]", () => {
  const t = new Template(utf8("{% apply upper %}foo \u00e9{% end %}"));
  assert.equal(t.generate({ upper: (s: string) => utf8(s.toUpperCase()) }), "FOO \u00c9");
});

test("renders if/else [test_if]", () => {
  const t = new Template(utf8("{% if x > 4 %}yes{% else %}no{% end %}"));
  assert.equal(t.generate({ x: 5 }), "yes");
  assert.equal(t.generate({ x: 3 }), "no");
});

test("accepts empty if and else bodies [test_if_empty_body]", () => {
  assert.equal(new Template(utf8("{% if True %}{% else %}{% end %}")).generate(), "");
});

test("runs try/except/else/finally like Python [test_try]", () => {
  const t = new Template(
    "{% try %}\ntry{% set y = inverse(x) %}\n{% except %}-except\n" +
      "{% else %}-else\n{% finally %}-finally\n{% end %}",
  );
  assert.equal(t.generate({ x: 1, inverse }), "\ntry\n-else\n-finally\n");
  assert.equal(t.generate({ x: 0, inverse }), "\ntry-except\n-finally\n");
});

test("drops {% comment %} directives [test_comment_directive]", () => {
  assert.equal(new Template(utf8("{% comment blah blah %}foo")).generate(), "foo");
});

test("supports break and continue in loops [test_break_continue]", () => {
  const t = new Template(
    "{% for i in range(10) %}\n    {% if i == 2 %}\n        {% continue %}\n    {% end %}\n" +
      "    {{ i }}\n    {% if i == 6 %}\n        {% break %}\n    {% end %}\n{% end %}",
  );
  assert.equal(t.generate().replace(/\s+/g, ""), "013456");
});

test("rejects break outside a loop [test_break_outside_loop]", () => {
  const error = parseError(() => new Template(utf8("{% break %}")));
  assert.equal(error.message, "break outside for/while block at <string>:1");
  assert.throws(() => new Template("{% if 1 %}{% continue %}{% end %}"), ParseError);
});

test("rejects break inside apply inside a loop [test_break_in_apply]", () => {
  assert.throws(
    () => new Template(utf8("{% for i in [] %}{% apply foo %}{% break %}{% end %}{% end %}")),
    ParseError,
  );
});

test("loads templates with non-ASCII names [test_non_ascii_name]", () => {
  const loader = new DictLoader({ "t\u00e9st.html": "hello" });
  assert.equal(loader.load("t\u00e9st.html").generate(), "hello");
});

// ---------------------------------------------------------------------------------------------
// Tornado's StackTraceTest: runtime errors name the template line

test("a failing expression names its line [test_error_line_number_expression]", () => {
  const loader = new DictLoader({ "test.html": "one\ntwo{{boom()}}\nthree\n        " });
  const error = renderError(() => loader.load("test.html").generate({ boom }));
  assert.equal(error.message, "boom at test.html:2");
  assert.equal(error.code, "ERR_TEMPLATE_RUNTIME");
  assert.equal(error.filename, "test.html");
  assert.equal(error.lineno, 2);
  assert.ok(error.cause instanceof RangeError);
});

test("a failing directive names its line [test_error_line_number_directive]", () => {
  const loader = new DictLoader({ "test.html": "one\ntwo{%if boom()%}\nthree{%end%}\n        " });
  const error = renderError(() => loader.load("test.html").generate({ boom }));
  assert.equal(error.lineno, 2);
  assert.match(error.message, /at test\.html:2$/);
});

test("an error in a module names both templates [test_error_line_number_module]", () => {
  const loader: DictLoader = new DictLoader(
    { "base.html": "{% module Template('sub.html') %}", "sub.html": "{{boom()}}" },
    {
      namespace: {
        boom,
        _tt_modules: { Template: (path: string) => loader.load(path).generate() },
      },
    },
  );
  const error = renderError(() => loader.load("base.html").generate());
  assert.equal(error.message, "boom at sub.html:1 (rendered from base.html:1)");
  assert.equal(error.filename, "base.html");
  const inner = error.cause as TemplateError;
  assert.equal(inner.filename, "sub.html");
  assert.ok(inner.cause instanceof RangeError);
});

test("an error in an included file names the include [test_error_line_number_include]", () => {
  const loader = new DictLoader({
    "base.html": "{% include 'sub.html' %}",
    "sub.html": "{{boom()}}",
  });
  const error = renderError(() => loader.load("base.html").generate({ boom }));
  assert.equal(error.message, "boom at sub.html:1 (via base.html:1)");
});

test("an error in the extended template names it [test_error_line_number_extends_base_error]", () => {
  const loader = new DictLoader({
    "base.html": "{{boom()}}",
    "sub.html": "{% extends 'base.html' %}",
  });
  const error = renderError(() => loader.load("sub.html").generate({ boom }));
  assert.equal(error.message, "boom at base.html:1");
});

test("an error in a child block names the child line [test_error_line_number_extends_sub_error]", () => {
  const loader = new DictLoader({
    "base.html": "{% block 'block' %}{% end %}",
    "sub.html":
      "\n{% extends 'base.html' %}\n{% block 'block' %}\n{{boom()}}\n{% end %}\n            ",
  });
  const error = renderError(() => loader.load("sub.html").generate({ boom }));
  assert.equal(error.message, "boom at sub.html:4 (via base.html:1)");
});

test("nested includes list every includer [test_multi_includes]", () => {
  const loader = new DictLoader({
    "a.html": "{% include 'b.html' %}",
    "b.html": "{% include 'c.html' %}",
    "c.html": "{{boom()}}",
  });
  const error = renderError(() => loader.load("a.html").generate({ boom }));
  assert.equal(error.message, "boom at c.html:1 (via b.html:1, a.html:1)");
});

test("errors without a stack, and thrown non-errors, still name the template", () => {
  const t = new Template("a\n{{ f() }}", { name: "x.txt" });
  const error = renderError(() =>
    t.generate({
      f: () => {
        throw "plain string";
      },
    }),
  );
  assert.equal(error.message, "plain string at x.txt");
  assert.equal(error.cause, "plain string");
});

test("a missing name is a runtime error naming the line", () => {
  const error = renderError(() => new Template("\n\n{{ nope }}", { name: "n.html" }).generate());
  assert.equal(error.message, "nope is not defined at n.html:3");
  assert.ok(error.cause instanceof ReferenceError);
});

// ---------------------------------------------------------------------------------------------
// Tornado's ParseErrorDetailTest and parse errors

test("ParseError names the file and line [test_details]", () => {
  const loader = new DictLoader({ "foo.html": "\n\n{{" });
  const error = parseError(() => loader.load("foo.html"));
  assert.equal(error.message, "Missing end expression }} at foo.html:3");
  assert.equal(error.reason, "Missing end expression }}");
  assert.equal(error.filename, "foo.html");
  assert.equal(error.lineno, 3);
  assert.equal(error.code, "ERR_TEMPLATE_PARSE");
  assert.equal(error.name, "ParseError");
  assert.ok(error instanceof TemplateError);
});

test("ParseError works with a message alone [test_custom_parse_error]", () => {
  assert.equal(new ParseError("asdf").message, "asdf at <unknown>:0");
});

test("reports every kind of syntax error with its line", () => {
  const cases: [string, string][] = [
    ["{% %}", "Empty block tag ({% %}) at t:1"],
    ["{{ }}", "Empty expression at t:1"],
    ["{# x", "Missing end comment #} at t:1"],
    ["\n{% if x", "Missing end block %} at t:2"],
    ["{% end %}", "Extra {% end %} block at t:1"],
    ["{% if x %}\n", "Missing {% end %} block for if at t:1"],
    ["{% bogus %}", "unknown operator: 'bogus' at t:1"],
    ["{% else %}", "else outside if/for/while/try block at t:1"],
    ["{% apply f %}{% elif x %}{% end %}", "elif block cannot be attached to apply block at t:1"],
    ["{% try %}{% elif x %}{% end %}", "elif block cannot be attached to try block at t:1"],
    [
      "{% for x in y %}{% except %}{% end %}",
      "except block cannot be attached to for block at t:1",
    ],
    ["{% if x %}{% else %}{% else %}{% end %}", "else after else in if block at t:1"],
    ["{% if x %}{% else %}{% elif y %}{% end %}", "elif after else in if block at t:1"],
    ["{% try %}{% end %}", "try block needs an except or finally at t:1"],
    ["{% try %}{% else %}{% finally %}{% end %}", "else in try block needs an except at t:1"],
    ["{% try %}{% finally %}{% except %}{% end %}", "except after finally in try block at t:1"],
    [
      "{% try %}{% except %}{% except E %}{% end %}",
      "except after a bare except in try block at t:1",
    ],
    ["{% if x %}{% else if y %}{% end %}", "else takes no argument: if y at t:1"],
    ["{% try %}{% finally x %}{% end %}", "finally takes no argument: x at t:1"],
    ["{% for x in y %}{% break 2 %}{% end %}", "break takes no argument: 2 at t:1"],
    ["{% extends %}", "extends missing file path at t:1"],
    ["{% include '' %}", "include missing file path at t:1"],
    ["{% set %}", "set missing statement at t:1"],
    ["{% import %}", "import missing statement at t:1"],
    ["{% from m import * %}", "import * is not supported: from m import * at t:1"],
    ["{% import a-b %}", "invalid import statement: import a-b at t:1"],
    ["{% apply %}{% end %}", "apply missing method name at t:1"],
    ["{% block %}{% end %}", "block missing name at t:1"],
    ["{% if %}{% end %}", "if missing condition at t:1"],
    ["{% for x %}{% end %}", "for loop needs 'in': x at t:1"],
    ["{% whitespace wide %}", "invalid whitespace mode wide at t:1"],
    ["{% extends 'base.html' %}", "{% extends %} block found, but no template loader at t:1"],
    ["\n{% include 'x.html' %}", "{% include %} block found, but no template loader at t:2"],
  ];
  for (const [source, message] of cases) {
    const error = parseError(() => new Template(source, { name: "t" }));
    assert.equal(error.message, message, source);
  }
});

test("JavaScript that does not compile is a ParseError at its template line", () => {
  const error = parseError(() => new Template("ok\n\n{{ a b }}", { name: "js.html" }));
  assert.equal(error.filename, "js.html");
  assert.equal(error.lineno, 3);
  assert.match(error.message, /^Unexpected identifier 'b' in "a b" at js\.html:3$/);
  assert.ok(error.cause instanceof SyntaxError);

  const loader = new DictLoader({
    "main.html": "x\n{% include 'inc.html' %}",
    "inc.html": "\n{% set x = ) %}",
  });
  const included = parseError(() => loader.load("main.html"));
  assert.equal(included.filename, "inc.html");
  assert.equal(included.lineno, 2);
  assert.throws(() => new Template("{% for [a, in b %}{% end %}"), ParseError);
  assert.throws(() => new Template("{% while ( %}{% end %}"), ParseError);
});

test("recursive includes and circular extends are ParseErrors", () => {
  const includes = new DictLoader({
    "a.html": "{% include 'b.html' %}",
    "b.html": "{% include 'a.html' %}",
  });
  assert.match(parseError(() => includes.load("a.html")).message, /circular|recursive/);
  const self = new DictLoader({ "a.html": "x{% include 'a.html' %}" });
  assert.match(parseError(() => self.load("a.html")).message, /circular|recursive/);
  const extendsLoop = new DictLoader({
    "a.html": "{% extends 'b.html' %}",
    "b.html": "{% extends 'a.html' %}",
  });
  assert.match(parseError(() => extendsLoop.load("a.html")).message, /circular/);
});

// ---------------------------------------------------------------------------------------------
// Tornado's AutoEscapeTest

const autoescapeTemplates = {
  "escaped.html": "{% autoescape xhtml_escape %}{{ name }}",
  "unescaped.html": "{% autoescape None %}{{ name }}",
  "default.html": "{{ name }}",
  "include.html":
    "escaped: {% include 'escaped.html' %}\nunescaped: {% include 'unescaped.html' %}\n" +
    "default: {% include 'default.html' %}\n",
  "escaped_block.html": "{% autoescape xhtml_escape %}{% block name %}base: {{ name }}{% end %}",
  "unescaped_block.html": "{% autoescape None %}{% block name %}base: {{ name }}{% end %}",
  "escaped_extends_unescaped.html":
    '{% autoescape xhtml_escape %}{% extends "unescaped_block.html" %}',
  "escaped_overrides_unescaped.html":
    '{% autoescape xhtml_escape %}{% extends "unescaped_block.html" %}' +
    "{% block name %}extended: {{ name }}{% end %}",
  "unescaped_extends_escaped.html": '{% autoescape None %}{% extends "escaped_block.html" %}',
  "unescaped_overrides_escaped.html":
    '{% autoescape None %}{% extends "escaped_block.html" %}' +
    "{% block name %}extended: {{ name }}{% end %}",
  "raw_expression.html": "{% autoescape xhtml_escape %}expr: {{ name }}\nraw: {% raw name %}",
};

test("autoescape null leaves values alone unless a file asks [test_default_off]", () => {
  const loader = new DictLoader(autoescapeTemplates, { autoescape: null });
  const name = "Bobby <table>s";
  assert.equal(loader.load("escaped.html").generate({ name }), "Bobby &lt;table&gt;s");
  assert.equal(loader.load("unescaped.html").generate({ name }), "Bobby <table>s");
  assert.equal(loader.load("default.html").generate({ name }), "Bobby <table>s");
  assert.equal(
    loader.load("include.html").generate({ name }),
    "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby <table>s\n",
  );
});

test("autoescape xhtml_escape escapes unless a file says None [test_default_on]", () => {
  const loader = new DictLoader(autoescapeTemplates, { autoescape: "xhtml_escape" });
  const name = "Bobby <table>s";
  assert.equal(loader.load("escaped.html").generate({ name }), "Bobby &lt;table&gt;s");
  assert.equal(loader.load("unescaped.html").generate({ name }), "Bobby <table>s");
  assert.equal(loader.load("default.html").generate({ name }), "Bobby &lt;table&gt;s");
  assert.equal(
    loader.load("include.html").generate({ name }),
    "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby &lt;table&gt;s\n",
  );
});

test("a block uses its own file's autoescape [test_unextended_block]", () => {
  const loader = new DictLoader(autoescapeTemplates);
  const name = "<script>";
  assert.equal(loader.load("escaped_block.html").generate({ name }), "base: &lt;script&gt;");
  assert.equal(loader.load("unescaped_block.html").generate({ name }), "base: <script>");
});

test("an overriding block uses the child's autoescape [test_extended_block]", () => {
  const loader = new DictLoader(autoescapeTemplates);
  const render = (n: string): string => loader.load(n).generate({ name: "<script>" });
  assert.equal(render("escaped_extends_unescaped.html"), "base: <script>");
  assert.equal(render("escaped_overrides_unescaped.html"), "extended: &lt;script&gt;");
  assert.equal(render("unescaped_extends_escaped.html"), "base: &lt;script&gt;");
  assert.equal(render("unescaped_overrides_escaped.html"), "extended: <script>");
});

test("{% raw %} is never escaped [test_raw_expression]", () => {
  const loader = new DictLoader(autoescapeTemplates);
  assert.equal(
    loader.load("raw_expression.html").generate({ name: '<>&"' }),
    'expr: &lt;&gt;&amp;&quot;\nraw: <>&"',
  );
});

test("autoescape may name any function of the namespace [test_custom_escape]", () => {
  const loader = new DictLoader({ "foo.py": "{% autoescape py_escape %}s = {{ name }}\n" });
  const seen: unknown[] = [];
  const pyEscape = (s: unknown): string => {
    seen.push(typeof s);
    return JSON.stringify(s);
  };
  const render = (name: unknown): string =>
    loader.load("foo.py").generate({ py_escape: pyEscape, name });
  assert.equal(render("<html>"), 's = "<html>"\n');
  assert.equal(render("';sys.exit()"), 's = "\';sys.exit()"\n');
  assert.equal(render(["not a string"]), 's = "not a string"\n');
  assert.deepEqual(seen, ["string", "string", "string"]);
});

test("whitespace inside tags keeps output compact [test_manual_minimize_whitespace]", () => {
  const loader = new DictLoader({
    "foo.txt": "{% for i in items\n  %}{% if i > 0 %}, {% end %}{#\n  #}{{i\n  }}{% end\n%}",
  });
  assert.equal(loader.load("foo.txt").generate({ items: range(5) }), "0, 1, 2, 3, 4");
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

test("whitespace mode defaults by file extension [test_whitespace_by_filename]", () => {
  const loader = new DictLoader({
    "foo.html": "   \n\t\n asdf\t   ",
    "bar.js": " \n\n\n\t qwer     ",
    "baz.txt": "\t    zxcv\n\n",
    "include.html": "  {% include baz.txt %} \n ",
    "include.txt": "\t\t{% include foo.html %}    ",
  });
  assert.equal(loader.load("foo.html").generate(), "\nasdf ");
  assert.equal(loader.load("bar.js").generate(), "\nqwer ");
  assert.equal(loader.load("baz.txt").generate(), "\t    zxcv\n\n");
  assert.equal(loader.load("include.html").generate(), " \t    zxcv\n\n\n");
  assert.equal(loader.load("include.txt").generate(), "\t\t\nasdf     ");
});

test("the loader's whitespace mode applies to every file [test_whitespace_by_loader]", () => {
  const templates = { "foo.html": "\t\tfoo\n\n", "bar.txt": "\t\tbar\n\n" };
  let loader = new DictLoader(templates, { whitespace: "all" });
  assert.equal(loader.load("foo.html").generate(), "\t\tfoo\n\n");
  assert.equal(loader.load("bar.txt").generate(), "\t\tbar\n\n");
  loader = new DictLoader(templates, { whitespace: "single" });
  assert.equal(loader.load("foo.html").generate(), " foo\n");
  assert.equal(loader.load("bar.txt").generate(), " bar\n");
  loader = new DictLoader(templates, { whitespace: "oneline" });
  assert.equal(loader.load("foo.html").generate(), " foo ");
  assert.equal(loader.load("bar.txt").generate(), " bar ");
});

test("{% whitespace %} changes the mode for the rest of the file [test_whitespace_directive]", () => {
  const loader = new DictLoader({
    "foo.html":
      "{% whitespace oneline %}\n    {% for i in range(3) %}\n        {{ i }}\n    {% end %}\n" +
      "{% whitespace all %}\n    pre\tformatted\n",
  });
  assert.equal(loader.load("foo.html").generate(), "  0  1  2  \n    pre\tformatted\n");
});

// ---------------------------------------------------------------------------------------------
// Tornado's TemplateLoaderTest and the file loader

test("Loader reads UTF-8 files [test_utf8_in_file]", () => {
  const loader = new Loader(fixture("templates"));
  assert.equal(loader.load("utf8.html").generate().trim(), "H\u00e9llo");
});

test("Loader resolves extends and nested relative includes from files", () => {
  const loader = new Loader(fixture("templates"));
  assert.equal(
    loader.load("page.html").generate({ title: "A & B" }),
    "<html><title>A &amp; B</title>\n<body><p>A &amp; B</p>footer\n</body></html>\n",
  );
  assert.equal(loader.resolvePath("item.html", "sub/x.html"), join("sub", "item.html"));
  assert.equal(loader.resolvePath("../../etc/passwd", "sub/x.html"), "../../etc/passwd");
  assert.equal(loader.resolvePath("/abs.html", "sub/x.html"), "/abs.html");
  assert.equal(loader.resolvePath("x.html", "<string>"), "x.html");
});

test("Loader caches compiled templates until reset()", (t) => {
  const root = mkdtempSync(join(tmpdir(), "tornado-template-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "a.txt"), "one {{ x }}");
  const loader = new Loader(root);
  const first = loader.load("a.txt");
  assert.equal(first.generate({ x: 1 }), "one 1");
  writeFileSync(join(root, "a.txt"), "two {{ x }}");
  assert.equal(loader.load("a.txt"), first);
  assert.equal(loader.load("a.txt").generate({ x: 1 }), "one 1");
  loader.reset();
  const second = loader.load("a.txt");
  assert.notEqual(second, first);
  assert.equal(second.generate({ x: 1 }), "two 1");
});

test("a missing template is a TemplateError with code ERR_TEMPLATE_NOT_FOUND", (t) => {
  const root = mkdtempSync(join(tmpdir(), "tornado-template-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const error = renderError(() => new Loader(root).load("nope.html"));
  assert.equal(error.code, "ERR_TEMPLATE_NOT_FOUND");
  assert.equal((error.cause as NodeJS.ErrnoException).code, "ENOENT");
  const dict = renderError(() =>
    new DictLoader({ "a.html": "{% include 'b.html' %}" }).load("a.html"),
  );
  assert.equal(dict.code, "ERR_TEMPLATE_NOT_FOUND");
  assert.equal(dict.message, "template not found: b.html");
});

test("a custom loader subclasses BaseLoader", () => {
  class UpperLoader extends BaseLoader {
    override resolvePath(name: string): string {
      return name;
    }
    protected override createTemplate(name: string): Template {
      return new Template(`{{ "${name}".toUpperCase() }}`, { name, loader: this });
    }
  }
  assert.equal(new UpperLoader().load("abc").generate(), "ABC");
});

// ---------------------------------------------------------------------------------------------
// Inheritance, includes and blocks

test("inheritance works several levels deep, with super-blocks kept", () => {
  const loader = new DictLoader({
    "root.html":
      "<{% block a %}root-a{% end %}|{% block b %}root-b{% end %}|{% block c %}root-c{% end %}>",
    "mid.html":
      "{% extends 'root.html' %}{% block a %}mid-a[{% block inner %}mid-inner{% end %}]{% end %}{% block b %}mid-b{% end %}",
    "leaf.html":
      "{% extends 'mid.html' %}{% block b %}leaf-b{% end %}{% block inner %}leaf-inner {{ x }}{% end %}",
  });
  assert.equal(loader.load("leaf.html").generate({ x: 1 }), "<mid-a[leaf-inner 1]|leaf-b|root-c>");
  assert.equal(loader.load("mid.html").generate(), "<mid-a[mid-inner]|mid-b|root-c>");
  assert.equal(loader.load("root.html").generate(), "<root-a|root-b|root-c>");
});

test("includes work inside blocks, and blocks inside included files can be overridden", () => {
  const loader = new DictLoader({
    "base.html": "[{% block body %}{% end %}]{% include 'footer.html' %}",
    "footer.html": "({% block footer %}default footer{% end %})",
    "page.html":
      "{% extends 'base.html' %}{% block body %}{% include 'item.html' %}{% end %}{% block footer %}page footer {{ n }}{% end %}",
    "item.html": "{% set n = 3 %}item {{ n }}",
  });
  assert.equal(loader.load("page.html").generate(), "[item 3](page footer 3)");
});

test("included files share the includer's local variables", () => {
  const loader = new DictLoader({
    "main.html": "{% for item in items %}{% include 'row.html' %}{% end %}{{ count }}",
    "row.html": "<{{ item }}>{% set count = (count or 0) + 1 %}",
  });
  assert.equal(loader.load("main.html").generate({ items: ["a", "b"] }), "<a><b>2");
});

test("{% autoescape %} applies to the whole file, even before it", () => {
  assert.equal(
    new Template("{{ x }}{% autoescape None %}{{ x }}").generate({ x: "<b>" }),
    "<b><b>",
  );
  assert.equal(
    new Template("{% autoescape None %}{{ x }}{% autoescape xhtml_escape %}{{ x }}").generate({
      x: "<b>",
    }),
    "&lt;b&gt;&lt;b&gt;",
  );
  assert.equal(new Template("{{ x }}", { autoescape: null }).generate({ x: "<b>" }), "<b>");
  assert.equal(
    new Template("{% autoescape url_escape %}{{ x }}").generate({ x: "a b/c" }),
    "a+b%2Fc",
  );
});

test("{% module %} calls _tt_modules without escaping", () => {
  const t = new Template("{% module Hello('<b>', 2) %}");
  const modules = { Hello: (s: string, n: number) => s.repeat(n) };
  assert.equal(t.generate({ _tt_modules: modules }), "<b><b>");
});

// ---------------------------------------------------------------------------------------------
// Control flow

test("for iterates arrays, strings, iterables, Maps and plain-object keys", () => {
  const t = new Template("{% for x in v %}[{{ x }}]{% end %}");
  assert.equal(t.generate({ v: [1, 2] }), "[1][2]");
  assert.equal(t.generate({ v: "ab" }), "[a][b]");
  assert.equal(t.generate({ v: new Set(["s"]) }), "[s]");
  assert.equal(t.generate({ v: new Map([["k", 1]]) }), "[k,1]");
  assert.equal(t.generate({ v: { a: 1, b: 2 } }), "[a][b]");
  function* gen(): Generator<number> {
    yield 7;
  }
  assert.equal(t.generate({ v: gen() }), "[7]");
  const error = renderError(() => t.generate({ v: 5 }));
  assert.match(error.message, /number is not iterable at <string>:1/);
  assert.ok(error.cause instanceof TypeError);
  assert.equal(new Template("{% for x of v %}{{ x }}{% end %}").generate({ v: [1, 2] }), "12");
});

test("for targets may be Python tuples or JavaScript patterns", () => {
  const o = { a: 1, b: 2 };
  const render = (s: string, ns: Record<string, unknown>): string => new Template(s).generate(ns);
  assert.equal(
    render("{% for k, v in Object.entries(o) %}{{k}}={{v}};{% end %}", { o }),
    "a=1;b=2;",
  );
  assert.equal(render("{% for (k, v) in Object.entries(o) %}{{k}}{{v}}{% end %}", { o }), "a1b2");
  assert.equal(render("{% for [k, v] in Object.entries(o) %}{{k}}{{v}}{% end %}", { o }), "a1b2");
  assert.equal(
    render("{% for i, (a, b) in pairs %}{{i}}{{a}}{{b}} {% end %}", {
      pairs: [
        [0, ["x", "y"]],
        [1, ["z", "w"]],
      ],
    }),
    "0xy 1zw ",
  );
  assert.equal(
    render("{% for {name, age: years = 9} in people %}{{name}}{{years}}{% end %}{{ name }}", {
      people: [{ name: "a", age: 1 }, { name: "b" }],
    }),
    "a1b9b",
  );
});

test("for/else and while/else run else only without break, as in Python", () => {
  const t = new Template(
    "{% for x in xs %}{% if x == stop %}{% break %}{% end %}{{ x }}{% else %}-done{% end %}",
  );
  assert.equal(t.generate({ xs: [1, 2, 3], stop: 9 }), "123-done");
  assert.equal(t.generate({ xs: [1, 2, 3], stop: 2 }), "1");
  assert.equal(t.generate({ xs: [], stop: 2 }), "-done");
  const w = new Template(
    "{% set i = 0 %}{% while i < n %}{% set i += 1 %}{% if i == 3 %}{% break %}{% end %}{{ i }}{% else %}!{% end %}",
  );
  assert.equal(w.generate({ n: 2 }), "12!");
  assert.equal(w.generate({ n: 5 }), "12");
  // A break in the else clause leaves the enclosing loop.
  const nested = new Template(
    "{% for a in [1, 2] %}{% for b in [] %}{% else %}{{ a }}{% break %}{% end %}{% end %}",
  );
  assert.equal(nested.generate(), "1");
  assert.throws(() => new Template("{% for b in [] %}{% else %}{% break %}{% end %}"), ParseError);
});

test("loop variables and set variables outlive their blocks, as Python locals", () => {
  const t = new Template(
    "{% for x in [1, 2, 3] %}{% end %}{{ x }}{% if True %}{% set y = 5 %}{% end %}{{ y }}",
  );
  assert.equal(t.generate(), "35");
});

test("try/except matches classes, binds names, and re-raises unmatched errors", () => {
  const t = new Template(
    "{% try %}{{ f() }}{% except TypeError as e %}type:{{ e.message }}" +
      "{% except (RangeError, SyntaxError) as e %}range:{{ e.message }}{% end %}",
  );
  const thrower = (E: new (m: string) => Error) => () => {
    throw new E("m");
  };
  assert.equal(t.generate({ f: thrower(TypeError) }), "type:m");
  assert.equal(t.generate({ f: thrower(RangeError) }), "range:m");
  assert.equal(t.generate({ f: thrower(SyntaxError) }), "range:m");
  assert.equal(t.generate({ f: () => "ok" }), "ok");
  const error = renderError(() => t.generate({ f: thrower(EvalError) }));
  assert.ok(error.cause instanceof EvalError);
  const fin = new Template("{% try %}{{ f() }}{% finally %}[fin]{% end %}");
  assert.equal(fin.generate({ f: () => 1 }), "1[fin]");
  const bad = new Template("{% try %}{{ f() }}{% except 5 %}x{% end %}");
  assert.match(renderError(() => bad.generate({ f: boom })).message, /except needs a class/);
});

test("apply blocks keep their set variables local", () => {
  const t = new Template("{% set x = 1 %}{% apply f %}{% set x = 2 %}{{ x }}{% end %}{{ x }}");
  assert.equal(t.generate({ f: (s: string) => `(${s})` }), "(2)1");
  const nested = new Template("{% apply f %}a{% apply f %}b{% end %}{% end %}");
  assert.equal(nested.generate({ f: (s: string) => `(${s})` }), "(a(b))");
});

test("set handles augmented, chained, tuple, pattern and member assignments", () => {
  const render = (s: string, ns: Record<string, unknown> = {}): string =>
    new Template(s).generate(ns);
  assert.equal(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
  assert.equal(render("{% set a = b = 3 %}{{ a + b }}"), "6");
  assert.equal(render("{% set n += 1 %}{{ n }}", { n: 4 }), "5");
  assert.equal(render("{% set [p, q] = [1, 2] %}{{ q }}"), "2");
  assert.equal(render("{% set {k} = o %}{{ k }}", { o: { k: "v" } }), "v");
  assert.equal(render("{% set o.k = 1 %}{% set o['j'] = 2 %}{{ o.k + o.j }}", { o: {} }), "3");
  assert.equal(render("{% set let z = 9 %}{{ z }}"), "9");
  assert.equal(render("{% set xs.push(1) %}{{ xs.length }}", { xs: [] }), "1");
});

test("import binds namespace modules", () => {
  const mod = { util: { twice: (x: number) => x * 2 }, name: "m" };
  const t = new Template(
    "{% import mod %}{% import mod.util as u %}{% from mod.util import twice as t2 %}" +
      "{% from Math import max %}{{ mod.name }}{{ u.twice(2) }}{{ t2(3) }}{{ max(1, 5) }}",
  );
  assert.equal(t.generate({ mod }), "m465");
  const error = renderError(() => new Template("{% import nothing %}").generate());
  assert.match(error.message, /^cannot import nothing: no nothing in the template namespace at/);
  assert.equal((error.cause as TemplateError).code, "ERR_TEMPLATE_IMPORT");
  const missing = renderError(() => new Template("{% from m import x %}").generate({ m: {} }));
  assert.match(missing.message, /m has no x/);
});

// ---------------------------------------------------------------------------------------------
// Expressions and the namespace

test("Python-isms: and, or, not, is, is not, True, False, None", () => {
  const t = new Template(
    "{{ a and not b or c }}|{{ not a == 1 }}|{{ x is None }}|{{ x is not None }}|" +
      "{{ not not a }}|{{ f(not a, b) }}|{{ True }}{{ False }}{{ None }}|{{ o.and }}",
  );
  const ns = {
    a: 1,
    b: 0,
    c: 3,
    x: null,
    f: (p: unknown, q: unknown) => `${p},${q}`,
    o: { and: "k" },
  };
  assert.equal(t.generate(ns), "true|false|true|false|true|false,0|truefalse|k");
});

test("names resolve from generate(), then the loader, then the defaults, then globals", () => {
  const loader = new DictLoader(
    { "t.txt": "{{ a }} {{ b }} {{ squeeze(c) }} {{ Math.max(1, 2) }} {{ len(xs) }}" },
    { namespace: { a: "loader-a", b: "loader-b" } },
  );
  const t = loader.load("t.txt");
  assert.equal(t.generate({ a: "arg-a", c: "  x  y ", xs: [1, 2] }), "arg-a loader-b x y 2 2");
  // A different set of names compiles another variant; the first one still works.
  assert.equal(t.generate({ c: "z", xs: [], squeeze: () => "mine" }), "loader-a loader-b mine 2 0");
  assert.equal(t.generate({ a: 1, c: "q", xs: "abc" }), "1 loader-b q 2 3");
  assert.ok(Object.isFrozen(DEFAULT_NAMESPACE));
});

test("names of Object.prototype are only taken from own properties", () => {
  const t = new Template("{{ typeof toString }}");
  assert.equal(t.generate(), "function");
  assert.equal(t.generate({ toString: "own" }), "string");
});

test("values render as strings; null and undefined render empty", () => {
  const t = new Template("[{{ v }}]", { autoescape: null });
  assert.equal(t.generate({ v: null }), "[]");
  assert.equal(t.generate({ v: undefined }), "[]");
  assert.equal(t.generate({ v: 1.5 }), "[1.5]");
  assert.equal(t.generate({ v: [1, 2] }), "[1,2]");
  assert.equal(t.generate({ v: { toString: () => "obj" } }), "[obj]");
  assert.equal(new Template("{{ v }}").generate({ v: "'\"" }), "&#x27;&quot;");
});

test("default helpers: url_escape, json_encode, linkify, range, len", () => {
  const t = new Template(
    "{{ url_escape('a b') }} {{ url_escape('a b', False) }} {% raw json_encode({a: '</'}) %} " +
      "{% raw linkify('see http://x.org') %} {{ range(1, 7, 2) }} {{ len({a: 1}) }}",
  );
  assert.equal(
    t.generate(),
    'a+b a%20b {"a": "<\\/"} see <a href="http://x.org">http://x.org</a> 1,3,5 1',
  );
  assert.match(renderError(() => new Template("{{ range(0, 1, 0) }}").generate()).message, /zero/);
  assert.match(renderError(() => new Template("{{ len(5) }}").generate()).message, /has no len/);
});

test("JavaScript expressions: template literals, regexes, arrows, comments, objects", () => {
  const t = new Template(
    "{{ `x${a + 1}y` }}|{{ /b+/.test(s) }}|{{ xs.map(x => x * 2).join('-') }}|" +
      "{{ a /* c */ + 1 }}|{{ ({k: a}).k }}|{{ a ? 'y' : 'n' }}|{{ 6 / 2 / 3 }}",
  );
  assert.equal(t.generate({ a: 1, s: "abbc", xs: [1, 2] }), "x2y|true|2-4|2|1|y|1");
  const multiline = new Template("{{ a +\n  // comment\n  1 }}");
  assert.equal(multiline.generate({ a: 1 }), "2");
});

test("filterWhitespace implements the three modes with Python's whitespace", () => {
  assert.equal(filterWhitespace("all", " a \n\n b "), " a \n\n b ");
  assert.equal(filterWhitespace("single", "a \t b\n  \n\tc"), "a b\nc");
  assert.equal(filterWhitespace("oneline", "a \n\t b\u00a0\u00a0c"), "a b c");
  assert.equal(filterWhitespace("oneline", "a\ufeffb"), "a\ufeffb");
  assert.throws(() => filterWhitespace("bad" as "all", "x"), RangeError);
});

test("text chunks containing <pre> keep their whitespace", () => {
  const t = new Template("<div>   a\n\n  b</div>{{ x }}<pre>  keep\n\n  this</pre>", {
    name: "p.html",
  });
  assert.equal(t.generate({ x: 1 }), "<div> a\nb</div>1<pre>  keep\n\n  this</pre>");
});

test("bad options and arguments are TypeErrors and RangeErrors", () => {
  assert.throws(() => new Template(5 as unknown as string), TypeError);
  assert.throws(() => new Template("x", { whitespace: "wide" as "all" }), RangeError);
  assert.throws(() => new Template("x", { autoescape: 5 as unknown as string }), TypeError);
  assert.throws(() => new Template("x", { loader: {} as BaseLoader }), TypeError);
  assert.throws(() => new DictLoader({}, { whitespace: "x" as "all" }), RangeError);
  assert.throws(() => new DictLoader({}, { autoescape: 1 as unknown as string }), TypeError);
  assert.throws(
    () => new Template("x").generate(null as unknown as Record<string, unknown>),
    TypeError,
  );
});

test("the generated code is exposed as Template.code", () => {
  const t = new Template("a{{ b }}");
  assert.match(t.code, /_tt\$out \+= "a"/);
  assert.match(t.code, /sourceURL=tornado-template\/\d+\/_string_/);
});

test("the built-in HTML autoescape gives exactly xhtmlEscape's output", () => {
  const t = new Template("{{ v }}");
  const alphabet = ["a", "é", "&", "<", ">", '"', "'", " ", "\u2028", "\ud83d\ude00", "&amp;"];
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 500; i++) {
    let s = "";
    for (let j = random(12); j > 0; j--) s += alphabet[random(alphabet.length)];
    assert.equal(t.generate({ v: s }), xhtmlEscape(s), s);
  }
  assert.equal(t.generate({ v: 42 }), "42");
  assert.equal(t.generate({ v: utf8("<é>") }), "&lt;é&gt;");
});

test("an autoescape name from the namespace replaces the built-in one", () => {
  const t = new Template("{{ v }}");
  assert.equal(t.generate({ v: "<", xhtml_escape: (s: string) => `[${s}]` }), "[<]");
  assert.equal(t.generate({ v: "<" }), "&lt;");
  const loader = new DictLoader({ "a.txt": "{{ v }}" }, { namespace: { xhtml_escape: () => 7 } });
  assert.equal(loader.load("a.txt").generate({ v: "x" }), "7");
});

test("an undefined autoescape function fails only when an expression uses it", () => {
  const t = new Template("{% autoescape nothing %}{% if x %}{{ x }}{% end %}ok", {
    name: "u.html",
  });
  assert.equal(t.generate({ x: 0 }), "ok");
  const error = renderError(() => t.generate({ x: 1 }));
  assert.equal(error.message, "nothing is not defined at u.html:1");
  assert.ok(error.cause instanceof ReferenceError);
  const notFunction = renderError(() => t.generate({ x: 1, nothing: 5 }));
  assert.ok(notFunction.cause instanceof TypeError);
});

test("output written before a failing expression inside try is kept", () => {
  const t = new Template("{% try %}a{{ x }}b{{ f() }}c{% except %}!{% end %}d");
  assert.equal(t.generate({ x: 1, f: boom }), "a1b!d");
  assert.equal(t.generate({ x: 1, f: () => "F" }), "a1bFcd");
});
