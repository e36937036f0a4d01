// The template parser: splits template text into text, `{{ }}`, `{# #}` and `{% %}` tags and
// builds the tree of nodes.ts, translating the JavaScript inside tags with jsexpr.ts. Follows
// Tornado's `_parse` rule for rule, so templates split the same way as in Python.

import { ParseError } from "./errors.js";
import {
  splitTopLevel,
  tokenize,
  topLevel,
  translate,
  translateStatement,
  translateTarget,
  translateTokens,
  trimTokens,
} from "./jsexpr.js";
import type {
  ExceptClause,
  ImportNode,
  LoopNode,
  Node,
  TemplateLike,
  TryNode,
  WhitespaceMode,
} from "./nodes.js";

// Python's `\s` for str patterns (str.isspace), which JavaScript's `\s` does not match exactly:
// Python adds \x1c-\x1f and \x85, JavaScript adds \ufeff.
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const SPACES_TABS_RE = /[\t ]+/g;
const AROUND_NEWLINE_RE = new RegExp(`[${PY_SPACE}]*\\n[${PY_SPACE}]*`, "g");
const ANY_SPACE_RE = new RegExp(`[${PY_SPACE}]+`, "g");

/** Whether a string names a whitespace mode. */
export function isWhitespaceMode(mode: unknown): mode is WhitespaceMode {
  return mode === "all" || mode === "single" || mode === "oneline";
}

/**
 * Transforms the whitespace of template text according to a mode:
 * `all` keeps it; `single` collapses runs of spaces and tabs to one space and whitespace around
 * a newline to one newline; `oneline` collapses every whitespace run, newlines included, to one
 * space. Whitespace is Python's (`str.isspace`), as in Tornado.
 *
 * @throws RangeError for an unknown mode.
 */
export function filterWhitespace(mode: WhitespaceMode, text: string): string {
  switch (mode) {
    case "all":
      return text;
    case "single":
      return text.replace(SPACES_TABS_RE, " ").replace(AROUND_NEWLINE_RE, "\n");
    case "oneline":
      return text.replace(ANY_SPACE_RE, " ");
    default:
      throw new RangeError(`invalid whitespace mode ${String(mode)}`);
  }
}

/** The template text with a cursor and the current line (1-based). */
class Reader {
  line = 1;
  pos = 0;
  constructor(
    readonly name: string,
    readonly text: string,
    public whitespace: WhitespaceMode,
  ) {}

  /** The index of `needle` at or after `start` (relative to the cursor), or -1. */
  find(needle: string, start = 0): number {
    const index = this.text.indexOf(needle, this.pos + start);
    return index === -1 ? -1 : index - this.pos;
  }

  /** Consumes `count` characters (all remaining by default), counting newlines. */
  consume(count = this.text.length - this.pos): string {
    const end = this.pos + count;
    const s = this.text.slice(this.pos, end);
    for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) this.line += 1;
    this.pos = end;
    return s;
  }

  remaining(): number {
    return this.text.length - this.pos;
  }

  charAt(offset: number): string {
    return this.text[this.pos + offset] ?? "";
  }

  error(message: string, line = this.line): never {
    throw new ParseError(message, this.name, line);
  }
}

/** A `{% %}` tag that ends a body: `end` or an intermediate tag (`else`, `elif`, …). */
interface Tag {
  operator: string;
  suffix: string;
  line: number;
}

interface Context {
  /** The operator of the enclosing block (`if`, `for`, `apply`, …), or null at file level. */
  block: string | null;
  /** The innermost loop a `{% break %}` here would leave, or null. */
  loop: LoopNode | null;
}

const INTERMEDIATE: Record<string, readonly string[]> = {
  else: ["if", "for", "while", "try"],
  elif: ["if"],
  except: ["try"],
  finally: ["try"],
};

const SIMPLE_OPERATORS = new Set([
  "extends",
  "include",
  "set",
  "import",
  "from",
  "comment",
  "autoescape",
  "whitespace",
  "raw",
  "module",
]);

/**
 * Parses template text into nodes. `{% autoescape %}` directives set `template.autoescape`
 * as they are read (so they apply to the whole file).
 *
 * @throws ParseError for a syntax error, with the template name and line.
 */
export function parseTemplate(
  template: TemplateLike,
  text: string,
  whitespace: WhitespaceMode,
): Node[] {
  const reader = new Reader(template.name, text, whitespace);
  return parseBody(reader, template, { block: null, loop: null }).nodes;
}

function stripQuotes(s: string): string {
  return s.replace(/^"+|"+$/g, "").replace(/^'+|'+$/g, "");
}

function parseBody(
  reader: Reader,
  template: TemplateLike,
  context: Context,
): { nodes: Node[]; end: Tag | null } {
  const nodes: Node[] = [];
  for (;;) {
    // Find the next tag.
    let curly = 0;
    for (;;) {
      curly = reader.find("{", curly);
      if (curly === -1 || curly + 1 === reader.remaining()) {
        if (context.block !== null) {
          reader.error(`Missing {% end %} block for ${context.block}`);
        }
        const value = reader.consume();
        nodes.push({ kind: "text", value, line: reader.line, whitespace: reader.whitespace });
        return { nodes, end: null };
      }
      const next = reader.charAt(curly + 1);
      if (next !== "{" && next !== "%" && next !== "#") {
        curly += 1;
        continue;
      }
      // With more than two curlies in a row, the innermost ones open the tag (for LaTeX and
      // the like, where curlies mean something).
      if (curly + 2 < reader.remaining() && next === "{" && reader.charAt(curly + 2) === "{") {
        curly += 1;
        continue;
      }
      break;
    }
    if (curly > 0) {
      const value = reader.consume(curly);
      nodes.push({ kind: "text", value, line: reader.line, whitespace: reader.whitespace });
    }
    const startBrace = reader.consume(2);
    const line = reader.line;

    // `{{!`, `{%!` and `{#!` are the literal braces.
    if (reader.remaining() > 0 && reader.charAt(0) === "!") {
      reader.consume(1);
      nodes.push({ kind: "text", value: startBrace, line, whitespace: reader.whitespace });
      continue;
    }

    if (startBrace === "{#") {
      const end = reader.find("#}");
      if (end === -1) reader.error("Missing end comment #}");
      reader.consume(end + 2);
      continue;
    }

    if (startBrace === "{{") {
      const end = reader.find("}}");
      if (end === -1) reader.error("Missing end expression }}");
      const contents = reader.consume(end).trim();
      reader.consume(2);
      if (!contents) reader.error("Empty expression");
      nodes.push({ kind: "expression", js: translate(contents), line, raw: false });
      continue;
    }

    const end = reader.find("%}");
    if (end === -1) reader.error("Missing end block %}");
    const contents = reader.consume(end).trim();
    reader.consume(2);
    if (!contents) reader.error("Empty block tag ({% %})");

    const space = contents.search(/\s/);
    const operator = space === -1 ? contents : contents.slice(0, space);
    const suffix = space === -1 ? "" : contents.slice(space + 1).trim();

    const allowedParents = INTERMEDIATE[operator];
    if (allowedParents !== undefined) {
      if (context.block === null) {
        reader.error(`${operator} outside ${allowedParents.join("/")} block`, line);
      }
      if (!allowedParents.includes(context.block)) {
        reader.error(`${operator} block cannot be attached to ${context.block} block`, line);
      }
      if (suffix && (operator === "else" || operator === "finally")) {
        reader.error(`${operator} takes no argument: ${suffix}`, line);
      }
      return { nodes, end: { operator, suffix, line } };
    }
    if (operator === "end") {
      if (context.block === null) reader.error("Extra {% end %} block", line);
      return { nodes, end: { operator, suffix, line } };
    }

    if (SIMPLE_OPERATORS.has(operator)) {
      const node = parseSimple(reader, template, operator, suffix, line);
      if (node !== null) nodes.push(node);
      continue;
    }

    switch (operator) {
      case "apply": {
        const body = parseBody(reader, template, { block: operator, loop: null });
        if (!suffix) reader.error("apply missing method name", line);
        nodes.push({ kind: "apply", fn: translate(suffix), body: body.nodes, line });
        continue;
      }
      case "block": {
        const body = parseBody(reader, template, { block: operator, loop: context.loop });
        if (!suffix) reader.error("block missing name", line);
        nodes.push({ kind: "block", name: suffix, body: body.nodes, template, line });
        continue;
      }
      case "if":
        nodes.push(parseIf(reader, template, context, suffix, line));
        continue;
      case "for":
      case "while":
        nodes.push(parseLoop(reader, template, context, operator, suffix, line));
        continue;
      case "try":
        nodes.push(parseTry(reader, template, context, suffix, line));
        continue;
      case "break":
      case "continue":
        if (context.loop === null) reader.error(`${operator} outside for/while block`, line);
        if (suffix) reader.error(`${operator} takes no argument: ${suffix}`, line);
        nodes.push({ kind: operator, loop: context.loop, line });
        continue;
      default:
        reader.error(`unknown operator: '${operator}'`, line);
    }
  }
}

function parseSimple(
  reader: Reader,
  template: TemplateLike,
  operator: string,
  suffix: string,
  line: number,
): Node | null {
  switch (operator) {
    case "comment":
      return null;
    case "extends": {
      const name = stripQuotes(suffix);
      if (!name) reader.error("extends missing file path", line);
      return { kind: "extends", name, line };
    }
    case "include": {
      const name = stripQuotes(suffix);
      if (!name) reader.error("include missing file path", line);
      return { kind: "include", name, templateName: reader.name, line };
    }
    case "import":
    case "from":
      if (!suffix) reader.error("import missing statement", line);
      return parseImport(reader, operator, suffix, line);
    case "set":
      if (!suffix) reader.error("set missing statement", line);
      return { kind: "statement", js: translateStatement(suffix), line };
    case "autoescape": {
      const fn = suffix.trim();
      if (!fn) reader.error("autoescape missing function name", line);
      template.autoescape = fn === "None" || fn === "null" ? null : fn;
      return null;
    }
    case "whitespace": {
      const mode = suffix.trim();
      if (!isWhitespaceMode(mode)) reader.error(`invalid whitespace mode ${mode}`, line);
      reader.whitespace = mode;
      return null;
    }
    case "raw":
      if (!suffix) reader.error("Empty expression", line);
      return { kind: "expression", js: translate(suffix), line, raw: true };
    case "module":
      if (!suffix) reader.error("module missing expression", line);
      return { kind: "expression", js: translate(`_tt_modules.${suffix}`), line, raw: true };
    default:
      return reader.error(`unknown operator: '${operator}'`, line);
  }
}

function requireCondition(reader: Reader, operator: string, suffix: string, line: number): void {
  if (!suffix) reader.error(`${operator} missing condition`, line);
}

function parseIf(
  reader: Reader,
  template: TemplateLike,
  context: Context,
  suffix: string,
  line: number,
): Node {
  requireCondition(reader, "if", suffix, line);
  const inner: Context = { block: "if", loop: context.loop };
  const clauses: { condition: ReturnType<typeof translate> | null; body: Node[]; line: number }[] =
    [];
  let condition: ReturnType<typeof translate> | null = translate(suffix);
  let clauseLine = line;
  for (;;) {
    const { nodes, end } = parseBody(reader, template, inner);
    clauses.push({ condition, body: nodes, line: clauseLine });
    const tag = end!;
    if (tag.operator === "end") break;
    if (condition === null) reader.error(`${tag.operator} after else in if block`, tag.line);
    if (tag.operator === "elif") {
      requireCondition(reader, "elif", tag.suffix, tag.line);
      condition = translate(tag.suffix);
    } else {
      condition = null;
    }
    clauseLine = tag.line;
  }
  return { kind: "if", clauses, line };
}

function parseLoop(
  reader: Reader,
  template: TemplateLike,
  context: Context,
  operator: "for" | "while",
  suffix: string,
  line: number,
): Node {
  requireCondition(reader, operator, suffix, line);
  const loop: LoopNode = {
    kind: operator,
    target: null,
    expression: translate(suffix),
    rawIteration: false,
    body: [],
    elseBody: null,
    line,
    elseLine: line,
  };
  if (operator === "for") {
    const tokens = tokenize(suffix);
    const at = topLevel(tokens, (t) => t.type === "ident" && (t.text === "in" || t.text === "of"));
    if (at.length === 0) reader.error(`for loop needs 'in': ${suffix}`, line);
    const cut = at[0]!;
    const targetTokens = trimTokens(tokens.slice(0, cut));
    if (targetTokens.length === 0) reader.error(`for loop missing target: ${suffix}`, line);
    const iterable = trimTokens(tokens.slice(cut + 1));
    if (iterable.length === 0) reader.error(`for loop missing iterable: ${suffix}`, line);
    loop.target = translateTarget(targetTokens);
    loop.expression = translateTokens(iterable);
    loop.rawIteration = tokens[cut]!.text === "of";
  }
  const first = parseBody(reader, template, { block: operator, loop });
  loop.body = first.nodes;
  const tag = first.end!;
  if (tag.operator === "else") {
    // A break in the else clause leaves the enclosing loop, as in Python.
    const rest = parseBody(reader, template, { block: operator, loop: context.loop });
    loop.elseBody = rest.nodes;
    loop.elseLine = tag.line;
    if (rest.end!.operator !== "end") {
      reader.error(`${rest.end!.operator} after else in ${operator} block`, rest.end!.line);
    }
  }
  return loop;
}

function parseTry(
  reader: Reader,
  template: TemplateLike,
  context: Context,
  suffix: string,
  line: number,
): Node {
  if (suffix) reader.error(`try takes no argument: ${suffix}`, line);
  const inner: Context = { block: "try", loop: context.loop };
  const node: TryNode = {
    kind: "try",
    body: [],
    excepts: [],
    elseBody: null,
    finallyBody: null,
    line,
    elseLine: line,
    finallyLine: line,
  };
  let section = "try";
  let pending: Tag = { operator: "try", suffix: "", line };
  let bare = false;
  for (;;) {
    const { nodes, end } = parseBody(reader, template, inner);
    switch (pending.operator) {
      case "try":
        node.body = nodes;
        break;
      case "except":
        node.excepts.push(parseExcept(reader, pending, nodes));
        break;
      case "else":
        node.elseBody = nodes;
        node.elseLine = pending.line;
        break;
      case "finally":
        node.finallyBody = nodes;
        node.finallyLine = pending.line;
        break;
    }
    const tag = end!;
    if (tag.operator === "end") break;
    // Python's order: except clauses (a bare one last), else, finally.
    const order = ["try", "except", "else", "finally"];
    if (
      order.indexOf(tag.operator) < order.indexOf(section) ||
      (tag.operator === section && tag.operator !== "except")
    ) {
      reader.error(`${tag.operator} after ${section} in try block`, tag.line);
    }
    if (tag.operator === "except" && bare) {
      reader.error("except after a bare except in try block", tag.line);
    }
    if (tag.operator === "except" && !tag.suffix) bare = true;
    if (tag.operator === "else" && section !== "except") {
      reader.error("else in try block needs an except", tag.line);
    }
    section = tag.operator;
    pending = tag;
  }
  if (node.excepts.length === 0 && node.finallyBody === null) {
    reader.error("try block needs an except or finally", line);
  }
  return node;
}

function parseExcept(reader: Reader, tag: Tag, body: Node[]): ExceptClause {
  const clause: ExceptClause = { types: null, name: null, body, line: tag.line };
  if (!tag.suffix) return clause;
  const tokens = trimTokens(tokenize(tag.suffix));
  const as = topLevel(tokens, (t) => t.type === "ident" && t.text === "as");
  let typeTokens = tokens;
  if (as.length > 0) {
    const nameTokens = trimTokens(tokens.slice(as[0]! + 1));
    if (nameTokens.length !== 1 || nameTokens[0]!.type !== "ident") {
      reader.error(`except needs a name after 'as': ${tag.suffix}`, tag.line);
    }
    clause.name = nameTokens[0]!.text;
    typeTokens = trimTokens(tokens.slice(0, as[0]));
  }
  if (typeTokens.length === 0) reader.error(`except missing exception class`, tag.line);
  // `(A, B)` and `A, B` catch either class.
  let inner = typeTokens;
  const first = inner[0]!;
  const last = inner[inner.length - 1]!;
  if (first.text === "(" && last.text === ")" && splitTopLevel(inner.slice(1, -1)).length > 1) {
    inner = inner.slice(1, -1);
  }
  const translated = translateTokens(inner);
  if (splitTopLevel(inner).length > 1) translated.code = `[${translated.code}]`;
  clause.types = translated;
  return clause;
}

const DOTTED_RE =
  /^[\p{ID_Start}$_][\p{ID_Continue}$]*(?:\s*\.\s*[\p{ID_Start}$_][\p{ID_Continue}$]*)*$/u;
const NAME_RE = /^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u;

function parseImport(reader: Reader, operator: string, suffix: string, line: number): ImportNode {
  const statement = `${operator} ${suffix}`;
  const bad = (): never => reader.error(`invalid import statement: ${statement}`, line);
  const dotted = (s: string): string[] => {
    if (!DOTTED_RE.test(s)) bad();
    return s.split(".").map((p) => p.trim());
  };
  const aliased = (item: string): [string, string | null] => {
    const m = /^(.*?)\s+as\s+(\S+)$/s.exec(item.trim());
    if (m === null) return [item.trim(), null];
    if (!NAME_RE.test(m[2]!)) bad();
    return [m[1]!.trim(), m[2]!];
  };
  const node: ImportNode = { kind: "import", bindings: [], line };
  if (operator === "import") {
    for (const item of suffix.split(",")) {
      const [module, alias] = aliased(item);
      const parts = dotted(module);
      if (alias === null) {
        node.bindings.push({ local: parts[0]!, root: parts[0]!, path: [], statement });
      } else {
        node.bindings.push({ local: alias, root: parts[0]!, path: parts.slice(1), statement });
      }
    }
    return node;
  }
  const m = /^(\S+)\s+import\s+(.+)$/s.exec(suffix);
  if (m === null) return bad();
  const parts = dotted(m[1]!);
  let names = m[2]!.trim();
  if (names.startsWith("(") && names.endsWith(")")) names = names.slice(1, -1);
  if (names.trim() === "*") reader.error(`import * is not supported: ${statement}`, line);
  for (const item of names.split(",")) {
    if (!item.trim()) continue;
    const [name, alias] = aliased(item);
    if (!NAME_RE.test(name)) bad();
    node.bindings.push({
      local: alias ?? name,
      root: parts[0]!,
      path: [...parts.slice(1), name],
      statement,
    });
  }
  if (node.bindings.length === 0) bad();
  return node;
}
