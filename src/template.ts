/**
 * Tornado's template language, with JavaScript expressions.
 *
 * A template is text with `{{ expression }}` (inserted, autoescaped), `{% directive %}` (control
 * flow, inheritance) and `{# comment #}` tags. Each template is compiled once into a JavaScript
 * function that builds the output in a local string; `generate(namespace)` runs it.
 *
 * ```ts
 * const t = new Template("<html>{{ myvalue }}</html>");
 * t.generate({ myvalue: "XXX" }); // "<html>XXX</html>"
 *
 * const loader = new Loader("/home/btaylor/templates");
 * loader.load("test.html").generate({ myvalue: "XXX" });
 * ```
 *
 * Syntax (as in Tornado; expressions and statements are JavaScript):
 *
 * - `{{ expr }}`: the value of `expr` as a string (strings as they are, `Uint8Array` decoded as
 *   UTF-8, `null`/`undefined` as `""`, anything else through `String()`), passed through the
 *   autoescape function (`xhtml_escape` by default). `{{!`, `{%!` and `{#!` write a literal
 *   `{{`, `{%`, `{#`. In `{{{`, the first `{` is text.
 * - `{# … #}` and `{% comment … %}`: dropped.
 * - `{% apply fn %}…{% end %}`: `fn` applied to the block's output, which is not escaped again.
 *   The block is compiled as a nested function: `{% set %}` inside it stays inside it, and
 *   `{% break %}`/`{% continue %}` cannot cross it.
 * - `{% autoescape fn %}` / `{% autoescape None %}`: the escape function for the **whole file**
 *   (it is applied when the code is generated; the last one wins), not for included files.
 * - `{% block name %}…{% end %}`: a block a child template may replace; the most-derived
 *   definition wins and is rendered with the autoescape of the template that defines it.
 * - `{% extends "file" %}`: inherit from another template (needs a loader); the child's output
 *   outside blocks is ignored. Chains of any depth.
 * - `{% include "file" %}`: the file inlined at compile time; it shares the includer's local
 *   variables but keeps its own autoescape and whitespace mode.
 * - `{% for x in expr %}…{% else %}…{% end %}`: iterates arrays, strings and any iterable as
 *   JavaScript does (a `Map` yields `[key, value]` pairs), and a plain object's own keys, as a
 *   Python dict does. Targets may be patterns: `{% for k, v in Object.entries(o) %}`,
 *   `{% for [k, v] in pairs %}`, `{% for {name} in people %}`. `for x of expr` iterates with
 *   JavaScript's rules only. `else` runs when the loop ends without `break`, as in Python.
 * - `{% while cond %}…{% end %}`, `{% break %}`, `{% continue %}` (only inside loops).
 * - `{% if a %}…{% elif b %}…{% else %}…{% end %}`. Conditions use JavaScript truthiness: an
 *   empty array is true (write `items.length` or `len(items)`).
 * - `{% try %}…{% except E as e %}…{% else %}…{% finally %}…{% end %}`: `except` with no class
 *   catches everything; `E` is a class (matched with `instanceof`) or `(A, B)`.
 * - `{% set x = expr %}`: any assignment (`x += 1`, `a, b = 1, 2`, `[a, b] = pair`, `o.k = v`)
 *   or expression statement. Assigned names are locals of the template function.
 * - `{% import m %}`, `{% import m.sub as s %}`, `{% from m import a, b as c %}`: modules are
 *   names of the namespace (or globals), since templates cannot load code.
 * - `{% module expr %}`: `_tt_modules.expr`, unescaped (UI modules, under `RequestHandler`).
 * - `{% raw expr %}`: `{{ }}` without escaping.
 * - `{% whitespace all|single|oneline %}`: the whitespace mode for the rest of the file.
 *
 * Python-isms that work in expressions: `and`, `or`, `not` (with Python's precedence), `is` and
 * `is not` (as `===`/`!==`), `True`, `False`, `None`; `range()` and `len()` are in the default
 * namespace. Python's `in` operator, `//`, comprehensions, chained comparisons (`a < b < c`)
 * and `x if c else y` are not translated (`in` keeps its JavaScript meaning).
 *
 * The default namespace: `escape` and `xhtml_escape` (= `xhtmlEscape`), `url_escape`,
 * `json_encode`, `squeeze`, `linkify` (and their camelCase names), `range`, `len`; then the
 * loader's namespace, then the names passed to `generate()`. Names starting with `_tt_` and
 * `_tt$` are reserved. A name that is in none of them is looked up as a global (`Math`, `JSON`).
 *
 * Templates are trusted code: they are compiled with `new Function` and can do anything the
 * process can. Never build a template from user input.
 *
 * Compilation: the free names of the template's JavaScript are bound as `const` locals of the
 * generated function, from whichever of `generate()`'s names, the loader's namespace and the
 * defaults provides them (names none provides stay globals). The function is compiled once per
 * combination actually seen, which for a given caller is one; the last one is reused without
 * a lookup. Names assigned by `{% set %}`, `{% for %}` and `{% import %}` are `let` locals.
 *
 * @remarks Differences from Tornado: `generate()` returns a string, not UTF-8 bytes; escape
 * and `apply` functions receive and return strings; `null`/`undefined` render as `""` (Python
 * writes `None`); booleans and numbers render as JavaScript writes them (`true`, `1`); a
 * runtime error is wrapped in a {@link TemplateError} naming the template line; a JavaScript
 * syntax error is a {@link ParseError} at construction (Tornado logs the generated code);
 * Python's `datetime` is not in the default namespace. Rendering is synchronous, as in
 * Tornado: resolve Promises before `generate()` (a Promise renders as `[object Promise]`).
 * @module
 */

import { readFileSync } from "node:fs";
import { dirname, join, posix, resolve, sep } from "node:path";
import { jsonEncode, linkify, squeeze, toUnicode, urlEscape, xhtmlEscape } from "./escape.js";
import { findSyntaxError, type GeneratedCode, generate } from "./template/codegen.js";
import { ParseError, TemplateError } from "./template/errors.js";
import type { FileNode, WhitespaceMode } from "./template/nodes.js";
import { filterWhitespace, isWhitespaceMode, parseTemplate } from "./template/parse.js";

export { filterWhitespace, ParseError, TemplateError, type WhitespaceMode };
export type { TemplateErrorOptions } from "./template/errors.js";

/** The default autoescape function's name. */
export const DEFAULT_AUTOESCAPE = "xhtml_escape";

// The largest `range()` the templates may build (it is an array).
const MAX_RANGE = 10_000_000;

/**
 * Python's `range(stop)` / `range(start, stop, step)`, as an array.
 * @throws RangeError for a zero step or more than ten million numbers.
 */
function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new RangeError("range() arg 3 must not be zero");
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (!Number.isFinite(count) || count > MAX_RANGE) {
    throw new RangeError(`range() of ${count} numbers is over the limit of ${MAX_RANGE}`);
  }
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  return out;
}

/**
 * Python's `len()`: the length of a string or array, the size of a `Map` or `Set`, the number
 * of keys of a plain object.
 * @throws TypeError for values without a length.
 */
function len(value: unknown): number {
  if (typeof value === "string" || Array.isArray(value)) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  if (value !== null && typeof value === "object") {
    const length = (value as { length?: unknown }).length;
    if (typeof length === "number") return length;
    return Object.keys(value).length;
  }
  throw new TypeError(`object of type ${typeof value} has no len()`);
}

/** `url_escape(value, plus = true)`, Tornado's signature; options objects work too. */
function templateUrlEscape(
  value: string | Uint8Array,
  plus: boolean | { plus?: boolean } = true,
): string {
  return urlEscape(value, typeof plus === "object" ? plus : { plus });
}

/**
 * The names every template sees (a null-prototype object, frozen). The loader's namespace and
 * the names passed to `generate()` override them.
 */
export const DEFAULT_NAMESPACE: Readonly<Record<string, unknown>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, unknown>, {
    escape: xhtmlEscape,
    xhtml_escape: xhtmlEscape,
    xhtmlEscape,
    url_escape: templateUrlEscape,
    urlEscape: templateUrlEscape,
    json_encode: jsonEncode,
    jsonEncode,
    squeeze,
    linkify,
    range,
    len,
  }),
);

// ---------------------------------------------------------------------------------------------
// Helpers the generated code calls (closure constants of each compiled function).

function toText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  }
  return String(value);
}

function iterate(value: unknown): Iterable<unknown> {
  if (Array.isArray(value)) return value;
  if (value !== null && value !== undefined) {
    if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") {
      return value as Iterable<unknown>;
    }
    if (typeof value === "object") return Object.keys(value);
  }
  throw new TypeError(`${value === null ? "null" : typeof value} is not iterable`);
}

function matches(error: unknown, types: unknown): boolean {
  if (Array.isArray(types)) return types.some((t) => matches(error, t));
  if (typeof types !== "function") {
    throw new TypeError("except needs a class or an array of classes");
  }
  return error instanceof types;
}

function importName(root: unknown, rootName: string, path: string[], statement: string): unknown {
  let value = root === undefined ? (globalThis as Record<string, unknown>)[rootName] : root;
  if (value === undefined || value === null) {
    throw new TemplateError(`cannot ${statement}: no ${rootName} in the template namespace`, {
      code: "ERR_TEMPLATE_IMPORT",
    });
  }
  for (const part of path) {
    value = (value as Record<string, unknown>)[part];
    if (value === undefined) {
      throw new TemplateError(`cannot ${statement}: ${rootName} has no ${path.join(".")}`, {
        code: "ERR_TEMPLATE_IMPORT",
      });
    }
  }
  return value;
}

// The HTML escape of the default namespace, specialised for the generated code: the same
// output as `xhtmlEscape`, with the string conversion folded in, a regex test as the fast path
// (most values need no escaping and are returned as they are) and a charCode loop instead of
// `replace` with a callback for the rest.
const HTML_SPECIAL_RE = /[&<>"']/;

function escapeHtmlSlow(text: string): string {
  let out = "";
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    let entity: string;
    switch (text.charCodeAt(i)) {
      case 38:
        entity = "&amp;";
        break;
      case 60:
        entity = "&lt;";
        break;
      case 62:
        entity = "&gt;";
        break;
      case 34:
        entity = "&quot;";
        break;
      case 39:
        entity = "&#x27;";
        break;
      default:
        continue;
    }
    if (last !== i) out += text.slice(last, i);
    out += entity;
    last = i + 1;
  }
  return last === text.length ? out : out + text.slice(last);
}

function escapeHtml(value: unknown): string {
  const text = typeof value === "string" ? value : toText(value);
  return HTML_SPECIAL_RE.test(text) ? escapeHtmlSlow(text) : text;
}

/** Wraps a namespace escape function so it receives a string. */
function wrapEscape(fn: unknown, name: string): (value: unknown) => string {
  if (typeof fn !== "function") {
    return () => {
      throw fn === undefined
        ? new ReferenceError(`${name} is not defined`)
        : new TypeError(`autoescape ${name} is not a function`);
    };
  }
  return (value) => toText(fn(typeof value === "string" ? value : toText(value)));
}

const HELPER_NAMES = [
  "_tt$str",
  "_tt$iter",
  "_tt$match",
  "_tt$import",
  "_tt$escapeHtml",
  "_tt$wrapEscape",
];
const HELPERS = [toText, iterate, matches, importName, escapeHtml, wrapEscape];

/** Wraps a function body so that `HELPER_NAMES` are closure constants. */
function functionSource(prologue: string, body: string, url: string): string {
  return (
    `"use strict"; return function _tt$execute(_tt$a, _tt$l, _tt$d) { ${prologue}\n` +
    `${body}\n};\n//# sourceURL=${url}`
  );
}

// How many lines V8 reports before the first line of a `new Function` body, measured once.
const LINE_OFFSET = ((): number => {
  const url = "tornado-template/probe";
  const factory = new Function(
    ...HELPER_NAMES,
    functionSource("", "return new Error().stack;", url),
  ) as () => () => string;
  const match = /tornado-template\/probe:(\d+):/.exec(factory()() ?? "");
  return match === null ? 2 : Number(match[1]) - 2;
})();

type Compiled = (args: object, loaderNamespace: object, defaults: object) => string;

// Names that every object inherits: looked up as own properties only.
const OBJECT_PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

// Bound on compiled variants per template (one per set of names the namespace provides).
const MAX_VARIANTS = 32;

let templateCounter = 0;

/** Options of {@link Template}. */
export interface TemplateOptions {
  /** The name for error messages, and for relative `{% include %}` paths. @defaultValue "<string>" */
  name?: string;
  /** The loader that resolves `{% extends %}` and `{% include %}`. @defaultValue null */
  loader?: BaseLoader | null;
  /**
   * The name of the escape function in the namespace, or null to disable autoescaping.
   * @defaultValue the loader's, else `"xhtml_escape"`
   */
  autoescape?: string | null;
  /**
   * Whitespace handling of template text (see {@link filterWhitespace}).
   * @defaultValue the loader's, else `"single"` for `.html` and `.js` names, else `"all"`
   */
  whitespace?: WhitespaceMode;
}

/**
 * A compiled template. The constructor parses and compiles (loading ancestors and included
 * files through the loader); {@link Template.generate} renders.
 *
 * @example
 * ```ts
 * const t = new Template("Hello {{ name }}!");
 * t.generate({ name: "<Ben>" }); // "Hello &lt;Ben&gt;!"
 * ```
 */
export class Template {
  /** The template's name (its path relative to the loader root when loaded). */
  readonly name: string;
  /**
   * The autoescape function's name, or null. Set by the options and by `{% autoescape %}`
   * while parsing.
   */
  autoescape: string | null;
  /** The loader's namespace (names every render of this template sees), or `{}`. */
  readonly namespace: Record<string, unknown>;
  /** The loader, or null. */
  readonly loader: BaseLoader | null;
  /** @internal The parsed file. */
  readonly file: FileNode;
  /** The generated JavaScript (the function source, for debugging). */
  readonly code: string;
  #generated: GeneratedCode;
  #names: string[];
  #protoNames: boolean[];
  #binds: Set<string>;
  #body: string;
  #url: string;
  #frameRe: RegExp;
  #variants = new Map<string, Compiled>();
  #lastKey = "";
  #lastVariant: Compiled;

  /**
   * Parses and compiles a template.
   *
   * @param source - the template text; bytes are decoded as UTF-8.
   * @param options - name, loader, autoescape and whitespace; see {@link TemplateOptions}.
   * @throws ParseError for a syntax error (in the template or in its JavaScript), naming the
   *   template and line; or when an ancestor or included file fails to parse.
   * @throws TemplateError (`ERR_TEMPLATE_NOT_FOUND`) when an extended or included file is missing.
   * @throws TypeError / RangeError for bad options.
   */
  constructor(source: string | Uint8Array, options: TemplateOptions = {}) {
    if (typeof source !== "string" && !(source instanceof Uint8Array)) {
      throw new TypeError("template source must be a string or Uint8Array");
    }
    const { name = "<string>", loader = null, autoescape, whitespace } = options;
    if (typeof name !== "string") throw new TypeError("template name must be a string");
    if (loader !== null && !(loader instanceof BaseLoader)) {
      throw new TypeError("loader must be a BaseLoader");
    }
    if (autoescape !== undefined && autoescape !== null && typeof autoescape !== "string") {
      throw new TypeError("autoescape must be a function name or null");
    }
    if (whitespace !== undefined && !isWhitespaceMode(whitespace)) {
      throw new RangeError(`invalid whitespace mode ${String(whitespace)}`);
    }
    this.name = name;
    let mode = whitespace ?? loader?.whitespace ?? null;
    if (mode === null) mode = name.endsWith(".html") || name.endsWith(".js") ? "single" : "all";
    this.autoescape =
      autoescape !== undefined
        ? autoescape
        : loader !== null
          ? loader.autoescape
          : DEFAULT_AUTOESCAPE;
    this.namespace = loader?.namespace ?? {};
    this.loader = loader;
    const text = typeof source === "string" ? source : toUnicode(source);
    this.file = { template: this, body: [] };
    this.file.body = parseTemplate(this, text, mode);

    const ancestors = this.#ancestors().reverse();
    this.#generated = generate(ancestors, loader);
    const names = new Set([...this.#generated.names, ...this.#generated.binds]);
    this.#names = [...names];
    this.#protoNames = this.#names.map((n) => OBJECT_PROTOTYPE_NAMES.has(n));
    this.#binds = this.#generated.binds;
    this.#body = this.#generated.lines.join("\n");
    this.#url = `tornado-template/${++templateCounter}/${name.replace(/[^\w.\-/]/g, "_")}`;
    this.#frameRe = new RegExp(`${this.#url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:(\\d+):`);

    // Compile the variant where the namespace provides nothing: it checks the syntax.
    const key = "-".repeat(this.#names.length);
    this.code = functionSource(this.#prologue(key), this.#body, this.#url);
    this.#lastVariant = this.#compile(key, this.code);
    this.#lastKey = key;
  }

  #ancestors(): FileNode[] {
    const ancestors: FileNode[] = [this.file];
    for (const node of this.file.body) {
      if (node.kind !== "extends") continue;
      if (this.loader === null) {
        throw new ParseError(
          "{% extends %} block found, but no template loader",
          this.name,
          node.line,
        );
      }
      ancestors.push(...this.loader.load(node.name, this.name).#ancestors());
    }
    return ancestors;
  }

  /** The first line of a variant: binds each name from where the namespace has it. */
  #prologue(key: string): string {
    const consts: string[] = [];
    const lets: string[] = [];
    this.#names.forEach((name, i) => {
      const source = key[i];
      const init =
        source === "a"
          ? `_tt$a.${name}`
          : source === "l"
            ? `_tt$l.${name}`
            : source === "d"
              ? `_tt$d.${name}`
              : null;
      if (this.#binds.has(name)) lets.push(init === null ? name : `${name} = ${init}`);
      else if (init !== null) consts.push(`${name} = ${init}`);
    });
    let prologue = "";
    if (consts.length > 0) prologue += `const ${consts.join(", ")}; `;
    if (lets.length > 0) prologue += `let ${lets.join(", ")}; `;
    for (const name of this.#generated.escapes) {
      const source = key[this.#names.indexOf(name)];
      const builtin = source === "d" && DEFAULT_NAMESPACE[name] === xhtmlEscape;
      const fn = builtin
        ? "_tt$escapeHtml"
        : `_tt$wrapEscape(typeof ${name} === "undefined" ? undefined : ${name}, ${JSON.stringify(name)})`;
      prologue += `const _tt$ae$${name} = ${fn}; `;
    }
    return prologue;
  }

  #compile(key: string, source: string): Compiled {
    let compiled: Compiled;
    try {
      compiled = (new Function(...HELPER_NAMES, source) as (...h: unknown[]) => Compiled)(
        ...HELPERS,
      );
    } catch (error) {
      if (error instanceof SyntaxError) throw findSyntaxError(this.#generated, this.name, error);
      throw error;
    }
    if (this.#variants.size >= MAX_VARIANTS) this.#variants.clear();
    this.#variants.set(key, compiled);
    return compiled;
  }

  /** The compiled variant for the names this namespace (and the loader's) provide. */
  #variant(args: object): Compiled {
    const names = this.#names;
    const loaderNamespace = this.namespace;
    let key = "";
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (this.#protoNames[i]) {
        key += Object.hasOwn(args, name) ? "a" : Object.hasOwn(loaderNamespace, name) ? "l" : "-";
      } else {
        key +=
          name in args
            ? "a"
            : name in loaderNamespace
              ? "l"
              : name in DEFAULT_NAMESPACE
                ? "d"
                : "-";
      }
    }
    if (key === this.#lastKey) return this.#lastVariant;
    let variant = this.#variants.get(key);
    if (variant === undefined) {
      variant = this.#compile(key, functionSource(this.#prologue(key), this.#body, this.#url));
    }
    this.#lastKey = key;
    this.#lastVariant = variant;
    return variant;
  }

  /**
   * Renders the template.
   *
   * @param namespace - the names the template reads, over the loader's namespace and
   *   {@link DEFAULT_NAMESPACE}. @defaultValue `{}`
   * @returns the output as a string (Tornado returns UTF-8 bytes).
   * @throws TemplateError (`ERR_TEMPLATE_RUNTIME`) wrapping any error thrown while rendering,
   *   its message ending with the template and line, e.g. `at sub.html:1 (via base.html:3)`.
   */
  generate(namespace: Record<string, unknown> = {}): string {
    if (namespace === null || typeof namespace !== "object") {
      throw new TypeError("template namespace must be an object");
    }
    const variant = this.#variant(namespace);
    try {
      return variant(namespace, this.namespace, DEFAULT_NAMESPACE);
    } catch (error) {
      throw this.#runtimeError(error);
    }
  }

  #runtimeError(error: unknown): TemplateError {
    let stack = "";
    if (error instanceof Error) stack = error.stack ?? "";
    const match = this.#frameRe.exec(stack);
    const index = match === null ? -1 : Number(match[1]) - LINE_OFFSET - 2;
    const location = this.#generated.locations[index];
    const where = location === undefined ? this.name : location.text;
    const message = error instanceof Error ? error.message : String(error);
    const nested = error instanceof TemplateError && error.code === "ERR_TEMPLATE_RUNTIME";
    return new TemplateError(
      nested ? `${message} (rendered from ${where})` : `${message} at ${where}`,
      {
        filename: location?.filename ?? this.name,
        lineno: location?.lineno ?? 0,
        cause: error,
        code: "ERR_TEMPLATE_RUNTIME",
      },
    );
  }
}

/** Options of the loaders. */
export interface LoaderOptions {
  /**
   * The default autoescape function's name for the templates loaded, or null for none.
   * @defaultValue "xhtml_escape"
   */
  autoescape?: string | null;
  /** Names added to the default namespace of every template loaded. @defaultValue `{}` */
  namespace?: Record<string, unknown>;
  /**
   * The whitespace mode of the templates loaded.
   * @defaultValue null: `"single"` for `.html` and `.js` files, `"all"` for others
   */
  whitespace?: WhitespaceMode | null;
}

/**
 * Base class of template loaders: resolves names, compiles each template once and caches it.
 * A loader is needed for `{% extends %}` and `{% include %}`. Subclasses implement
 * {@link BaseLoader.resolvePath} and {@link BaseLoader.createTemplate}.
 */
export abstract class BaseLoader {
  /** The default autoescape function's name, or null. */
  readonly autoescape: string | null;
  /** Names added to the namespace of every template loaded. */
  readonly namespace: Record<string, unknown>;
  /** The whitespace mode, or null for the per-extension default. */
  readonly whitespace: WhitespaceMode | null;
  #templates = new Map<string, Template>();
  #loading = new Set<string>();

  /** @throws TypeError / RangeError for bad options. */
  constructor(options: LoaderOptions = {}) {
    const { autoescape = DEFAULT_AUTOESCAPE, namespace = {}, whitespace = null } = options;
    if (autoescape !== null && typeof autoescape !== "string") {
      throw new TypeError("autoescape must be a function name or null");
    }
    if (namespace === null || typeof namespace !== "object") {
      throw new TypeError("namespace must be an object");
    }
    if (whitespace !== null && !isWhitespaceMode(whitespace)) {
      throw new RangeError(`invalid whitespace mode ${String(whitespace)}`);
    }
    this.autoescape = autoescape;
    this.namespace = namespace;
    this.whitespace = whitespace;
  }

  /** Drops every compiled template, so the next `load` reads and compiles again. */
  reset(): void {
    this.#templates.clear();
  }

  /** Converts a possibly relative name (relative to `parentPath`'s folder) to a loader name. */
  abstract resolvePath(name: string, parentPath?: string): string;

  /**
   * Returns the compiled template for a name, compiling it on first use.
   *
   * @param name - the template's name; relative to `parentPath`'s folder when given.
   * @param parentPath - the name of the template that refers to this one.
   * @throws ParseError for a syntax error, or a circular `{% extends %}`/`{% include %}`.
   * @throws TemplateError (`ERR_TEMPLATE_NOT_FOUND`) when there is no such template.
   */
  load(name: string, parentPath?: string): Template {
    const resolved = this.resolvePath(name, parentPath);
    const cached = this.#templates.get(resolved);
    if (cached !== undefined) return cached;
    if (this.#loading.has(resolved)) {
      throw new ParseError(
        `circular {% extends %} or {% include %} of ${resolved}`,
        parentPath ?? resolved,
        0,
      );
    }
    this.#loading.add(resolved);
    let template: Template;
    try {
      template = this.createTemplate(resolved);
    } finally {
      this.#loading.delete(resolved);
    }
    this.#templates.set(resolved, template);
    return template;
  }

  /** Reads and compiles the template of a resolved name. */
  protected abstract createTemplate(name: string): Template;
}

function notFound(name: string, cause?: unknown): TemplateError {
  return new TemplateError(`template not found: ${name}`, {
    filename: name,
    cause,
    code: "ERR_TEMPLATE_NOT_FOUND",
  });
}

function isRelativeParent(parentPath: string | undefined, name: string): parentPath is string {
  return (
    parentPath !== undefined &&
    parentPath !== "" &&
    !parentPath.startsWith("<") &&
    !parentPath.startsWith("/") &&
    !name.startsWith("/")
  );
}

/**
 * Loads templates from a root directory (read synchronously, once per name until `reset()`).
 * A name starting with `/` is an absolute path; other names are relative to the root, or to
 * the including template's folder when that stays inside the root.
 */
export class Loader extends BaseLoader {
  /** The absolute root directory. */
  readonly root: string;

  /**
   * @param rootDirectory - the templates' folder.
   * @param options - autoescape, namespace and whitespace; see {@link LoaderOptions}.
   */
  constructor(rootDirectory: string, options: LoaderOptions = {}) {
    super(options);
    if (typeof rootDirectory !== "string") throw new TypeError("root directory must be a string");
    this.root = resolve(rootDirectory);
  }

  override resolvePath(name: string, parentPath?: string): string {
    if (isRelativeParent(parentPath, name)) {
      const fileDir = dirname(resolve(join(this.root, parentPath)));
      const relativePath = resolve(fileDir, name);
      if (relativePath.startsWith(this.root + sep)) {
        return relativePath.slice(this.root.length + 1);
      }
    }
    return name;
  }

  protected override createTemplate(name: string): Template {
    const path = resolve(this.root, name);
    let source: Buffer;
    try {
      source = readFileSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") throw notFound(name, error);
      throw new TemplateError(`cannot read template ${name}`, {
        filename: name,
        cause: error,
        code: "ERR_TEMPLATE_READ",
      });
    }
    return new Template(source, { name, loader: this });
  }
}

/** Loads templates from an object of names to sources; relative names use POSIX paths. */
export class DictLoader extends BaseLoader {
  /** The templates' sources by name. */
  readonly dict: Readonly<Record<string, string | Uint8Array>>;

  /**
   * @param dict - template sources by name.
   * @param options - autoescape, namespace and whitespace; see {@link LoaderOptions}.
   */
  constructor(dict: Record<string, string | Uint8Array>, options: LoaderOptions = {}) {
    super(options);
    if (dict === null || typeof dict !== "object") throw new TypeError("dict must be an object");
    this.dict = dict;
  }

  override resolvePath(name: string, parentPath?: string): string {
    if (isRelativeParent(parentPath, name)) {
      return posix.normalize(posix.join(posix.dirname(parentPath), name));
    }
    return name;
  }

  protected override createTemplate(name: string): Template {
    if (!Object.hasOwn(this.dict, name)) throw notFound(name);
    return new Template(this.dict[name]!, { name, loader: this });
  }
}
