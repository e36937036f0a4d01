// The JavaScript side of the template language: a small tokenizer for the expressions and
// statements inside `{{ }}` and `{% %}`, which finds the free names a template reads (so the
// generated function can bind them from the namespace as locals), rewrites the cheap Python-isms
// (`and`, `or`, `not`, `is`, `is not`, `True`, `False`, `None`) and turns Python-style binding
// targets (`k, v`, `(a, b)`) into JavaScript destructuring patterns.
//
// The tokenizer never throws: text it does not understand passes through unchanged and the
// JavaScript compiler reports it, and the template compiler maps that report to a template line.

/** A token of a JavaScript expression. `space` covers whitespace and comments. */
export interface Token {
  type: "ident" | "num" | "str" | "tmpl" | "regex" | "punct" | "space";
  text: string;
}

/** JavaScript code translated from a template fragment, with the names it reads. */
export interface Translated {
  /** The JavaScript source. */
  code: string;
  /** Free identifiers (candidates to bind from the namespace). */
  names: Set<string>;
}

/** A translated binding target (of `{% set %}`, `{% for %}`), with the names it binds. */
export interface TranslatedTarget extends Translated {
  /** Names the target assigns, hoisted as locals of the enclosing template function. */
  binds: Set<string>;
}

// Words that are never free names: reserved words, literals, and identifiers that cannot be
// declared in strict mode or have a syntactic meaning after a rewrite.
const KEYWORDS = new Set([
  "arguments",
  "async",
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "enum",
  "eval",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "implements",
  "import",
  "in",
  "instanceof",
  "interface",
  "let",
  "new",
  "null",
  "of",
  "package",
  "private",
  "protected",
  "public",
  "return",
  "static",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "var",
  "void",
  "while",
  "with",
  "yield",
]);

// Keywords after which an expression starts (so a `/` begins a regular expression).
const EXPRESSION_KEYWORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
  "and",
  "or",
  "not",
  "is",
]);

// Longest first, so the first match is the longest punctuator.
const PUNCTUATORS = [
  ">>>=",
  "...",
  "===",
  "!==",
  "**=",
  "<<=",
  ">>=",
  ">>>",
  "&&=",
  "||=",
  "??=",
  "=>",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "??",
  "?.",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "**",
  "<<",
  ">>",
];

/** Assignment operators, as they separate a `{% set %}` target from its value. */
const ASSIGN_OPS = new Set([
  "=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "**=",
  "<<=",
  ">>=",
  ">>>=",
  "&=",
  "|=",
  "^=",
  "&&=",
  "||=",
  "??=",
]);

// Tokens that end the operand of a rewritten `not` (Python's `not` binds looser than
// comparisons but tighter than `and`/`or`).
const NOT_STOPS = new Set([",", ";", "?", ":", "&&", "||", "??", "=>", ...ASSIGN_OPS]);

const IDENT_RE = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/uy;
const NUMBER_RE =
  /(?:0[xXoObB][\da-fA-F_]+n?|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?n?)/y;
const SPACE_RE = /\s+/y;

/** Splits JavaScript source into tokens; comments become `space` tokens keeping their newlines. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // One entry per open `{` or template substitution `${`, to know where a `}` resumes a template.
  const braces: boolean[] = [];
  let last: Token | null = null;
  let i = 0;
  const n = source.length;
  const push = (type: Token["type"], text: string): void => {
    const token = { type, text };
    tokens.push(token);
    if (type !== "space") last = token;
  };
  while (i < n) {
    const c = source[i]!;
    SPACE_RE.lastIndex = i;
    if (SPACE_RE.test(source)) {
      push("space", source.slice(i, SPACE_RE.lastIndex));
      i = SPACE_RE.lastIndex;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      let end = source.indexOf("\n", i);
      if (end === -1) end = n;
      push("space", " ");
      i = end;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      let end = source.indexOf("*/", i + 2);
      end = end === -1 ? n : end + 2;
      const newlines = source.slice(i, end).replace(/[^\n]/g, "");
      push("space", newlines || " ");
      i = end;
      continue;
    }
    IDENT_RE.lastIndex = i;
    if (IDENT_RE.test(source)) {
      push("ident", source.slice(i, IDENT_RE.lastIndex));
      i = IDENT_RE.lastIndex;
      continue;
    }
    if ((c >= "0" && c <= "9") || (c === "." && /\d/.test(source[i + 1] ?? ""))) {
      NUMBER_RE.lastIndex = i;
      NUMBER_RE.test(source);
      const end = Math.max(NUMBER_RE.lastIndex, i + 1);
      push("num", source.slice(i, end));
      i = end;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      const end = Math.min(j + 1, n);
      push("str", source.slice(i, end));
      i = end;
      continue;
    }
    if (c === "`" || (c === "}" && braces.length > 0 && braces[braces.length - 1])) {
      if (c === "}") braces.pop();
      const end = scanTemplateChunk(source, i + 1);
      const text = source.slice(i, end);
      if (text.endsWith("${")) braces.push(true);
      push("tmpl", text);
      i = end;
      continue;
    }
    if (c === "/" && regexAllowed(last)) {
      const end = scanRegex(source, i);
      push("regex", source.slice(i, end));
      i = end;
      continue;
    }
    let punct = c;
    for (const p of PUNCTUATORS) {
      if (source.startsWith(p, i)) {
        punct = p;
        break;
      }
    }
    // `?.5` is a conditional followed by a number, not optional chaining.
    if (punct === "?." && /\d/.test(source[i + 2] ?? "")) punct = "?";
    if (punct === "{") braces.push(false);
    else if (punct === "}") braces.pop();
    push("punct", punct);
    i += punct.length;
  }
  return tokens;
}

/** Scans a template literal chunk from after its opening `` ` `` or `}` to after `` ` `` or `${`. */
function scanTemplateChunk(source: string, start: number): number {
  let j = start;
  while (j < source.length) {
    const c = source[j];
    if (c === "\\") j += 2;
    else if (c === "`") return j + 1;
    else if (c === "$" && source[j + 1] === "{") return j + 2;
    else j += 1;
  }
  return source.length;
}

function scanRegex(source: string, start: number): number {
  let j = start + 1;
  let inClass = false;
  while (j < source.length) {
    const c = source[j];
    if (c === "\\") {
      j += 2;
      continue;
    }
    if (c === "\n") return j;
    if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) {
      j += 1;
      while (j < source.length && /[a-z]/i.test(source[j]!)) j += 1;
      return j;
    }
    j += 1;
  }
  return j;
}

function regexAllowed(last: Token | null): boolean {
  if (last === null) return true;
  if (last.type === "ident") return EXPRESSION_KEYWORDS.has(last.text);
  if (last.type === "punct") return !(last.text === ")" || last.text === "]" || last.text === "}");
  if (last.type === "tmpl") return last.text.endsWith("${");
  return false;
}

/** Whether a token ends an operand (so a following word is a binary operator). */
function endsOperand(token: Token | undefined): boolean {
  if (token === undefined) return false;
  switch (token.type) {
    case "num":
    case "str":
    case "regex":
      return true;
    case "tmpl":
      return token.text.endsWith("`");
    case "ident":
      return !EXPRESSION_KEYWORDS.has(token.text);
    case "punct":
      return (
        token.text === ")" ||
        token.text === "]" ||
        token.text === "}" ||
        token.text === "++" ||
        token.text === "--"
      );
    default:
      return false;
  }
}

/** Whether a token can start an operand (so a preceding `not` is Python's unary `not`). */
function startsOperand(token: Token | undefined): boolean {
  if (token === undefined) return false;
  switch (token.type) {
    case "num":
    case "str":
    case "regex":
      return true;
    case "tmpl":
      return token.text.startsWith("`");
    case "ident":
      return !(
        token.text === "in" ||
        token.text === "of" ||
        token.text === "instanceof" ||
        token.text === "and" ||
        token.text === "or" ||
        token.text === "is"
      );
    case "punct":
      return ["(", "[", "{", "!", "-", "+", "~", "...", "++", "--"].includes(token.text);
    default:
      return false;
  }
}

/** The bracket depth change of a token: +1 for openers, -1 for closers. */
function depthDelta(token: Token): number {
  if (token.type === "punct") {
    if (token.text === "(" || token.text === "[" || token.text === "{") return 1;
    if (token.text === ")" || token.text === "]" || token.text === "}") return -1;
  } else if (token.type === "tmpl") {
    return (token.text.endsWith("${") ? 1 : 0) - (token.text.startsWith("}") ? 1 : 0);
  }
  return 0;
}

function isCloser(token: Token): boolean {
  return (
    (token.type === "punct" && (token.text === ")" || token.text === "]" || token.text === "}")) ||
    (token.type === "tmpl" && token.text.startsWith("}"))
  );
}

/** Removes leading and trailing `space` tokens. */
export function trimTokens(tokens: Token[]): Token[] {
  let start = 0;
  let end = tokens.length;
  while (start < end && tokens[start]!.type === "space") start += 1;
  while (end > start && tokens[end - 1]!.type === "space") end -= 1;
  return tokens.slice(start, end);
}

/** Indexes of top-level tokens (bracket depth 0) for which `match` is true. */
export function topLevel(tokens: Token[], match: (token: Token) => boolean): number[] {
  const found: number[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (depth === 0 && match(token)) found.push(i);
    depth += depthDelta(token);
    if (depth < 0) depth = 0;
  }
  return found;
}

/** Splits tokens at top-level commas. */
export function splitTopLevel(tokens: Token[], text = ","): Token[][] {
  const cuts = topLevel(tokens, (t) => t.type === "punct" && t.text === text);
  const parts: Token[][] = [];
  let start = 0;
  for (const cut of cuts) {
    parts.push(tokens.slice(start, cut));
    start = cut + 1;
  }
  parts.push(tokens.slice(start));
  return parts;
}

/** Whether the first token opens a bracket that the last token closes. */
function wrapped(tokens: Token[], open: string, close: string): boolean {
  if (tokens.length < 2) return false;
  const first = tokens[0]!;
  const last = tokens[tokens.length - 1]!;
  if (first.type !== "punct" || first.text !== open || last.type !== "punct") return false;
  if (last.text !== close) return false;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    depth += depthDelta(tokens[i]!);
    if (depth === 0 && i < tokens.length - 1) return false;
  }
  return true;
}

function nextSignificant(tokens: Token[], i: number): Token | undefined {
  for (let j = i + 1; j < tokens.length; j++) if (tokens[j]!.type !== "space") return tokens[j];
  return undefined;
}

/**
 * Translates expression tokens to JavaScript: collects free names and rewrites Python-isms.
 * `and`/`or` become `&&`/`||` after an operand; a unary `not x` becomes `!(x)` up to the next
 * `and`/`or`/comma/closing bracket; `is`/`is not` become `===`/`!==`; `True`, `False` and
 * `None` become `true`, `false` and `null` (they are keywords in Python 3).
 */
export function translateTokens(tokens: Token[], names: Set<string> = new Set()): Translated {
  let code = "";
  let depth = 0;
  let prev: Token | undefined;
  // Bracket depths of the `not` operands still open.
  const nots: number[] = [];
  const closeNots = (): void => {
    while (nots.length > 0 && nots[nots.length - 1]! >= depth) {
      nots.pop();
      code += ")";
    }
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.type === "space") {
      code += token.text;
      continue;
    }
    if (isCloser(token)) {
      closeNots();
      depth -= 1;
    }
    let text = token.text;
    let significant: Token = token;
    if (token.type === "ident") {
      const afterDot = prev?.type === "punct" && (prev.text === "." || prev.text === "?.");
      const next = nextSignificant(tokens, i);
      const isKey =
        next?.type === "punct" &&
        next.text === ":" &&
        prev?.type === "punct" &&
        (prev.text === "{" || prev.text === ",");
      if (!afterDot && !isKey) {
        const word = token.text;
        if ((word === "and" || word === "or") && endsOperand(prev)) {
          closeNots();
          text = word === "and" ? "&&" : "||";
          significant = { type: "punct", text };
        } else if (word === "is" && endsOperand(prev)) {
          if (next?.type === "ident" && next.text === "not") {
            text = "!==";
            // Skip the `not` and any space before it.
            while (tokens[i + 1]!.type === "space") {
              code += tokens[i + 1]!.text;
              i += 1;
            }
            i += 1;
          } else {
            text = "===";
          }
          significant = { type: "punct", text };
        } else if (word === "not" && !endsOperand(prev) && startsOperand(next)) {
          text = "!(";
          nots.push(depth);
          significant = { type: "punct", text: "(" };
        } else if (word === "True" || word === "False" || word === "None") {
          text = word === "True" ? "true" : word === "False" ? "false" : "null";
          significant = { type: "num", text };
        } else if (!KEYWORDS.has(word) && !word.startsWith("_tt$")) {
          names.add(word);
        }
      }
    } else if (token.type === "punct" && NOT_STOPS.has(token.text)) {
      closeNots();
    }
    code += text;
    if (!isCloser(token)) depth += depthDelta(token);
    else if (token.type === "tmpl" && token.text.endsWith("${")) depth += 1;
    prev = significant;
  }
  depth = 0;
  closeNots();
  return { code, names };
}

/** Translates an expression (see {@link translateTokens}). */
export function translate(source: string, names?: Set<string>): Translated {
  return translateTokens(tokenize(source), names);
}

/**
 * Translates a binding target: `x`, `k, v` and `(k, v)` (Python tuples) become `x` and
 * `[k, v]`; JavaScript array and object patterns pass through; anything else (`a.b`, `a[i]`) is
 * an ordinary assignment target. Names bound by plain identifiers are returned in `binds`.
 */
export function translateTarget(
  tokens: Token[],
  names: Set<string> = new Set(),
  binds: Set<string> = new Set(),
): TranslatedTarget {
  tokens = trimTokens(tokens);
  const code = targetCode(tokens, names, binds);
  return { code, names, binds };
}

function targetCode(tokens: Token[], names: Set<string>, binds: Set<string>): string {
  tokens = trimTokens(tokens);
  if (tokens.length === 0) return "";
  const parts = splitTopLevel(tokens);
  if (parts.length > 1) {
    return `[${parts.map((p) => targetCode(p, names, binds)).join(", ")}]`;
  }
  if (wrapped(tokens, "(", ")")) {
    const inner = trimTokens(tokens.slice(1, -1));
    if (splitTopLevel(inner).length > 1) return targetCode(inner, names, binds);
    return `(${targetCode(inner, names, binds)})`;
  }
  if (wrapped(tokens, "[", "]")) {
    const elements = splitTopLevel(tokens.slice(1, -1));
    return `[${elements.map((e) => elementCode(e, names, binds)).join(", ")}]`;
  }
  if (wrapped(tokens, "{", "}")) {
    const props = splitTopLevel(tokens.slice(1, -1));
    return `{${props.map((p) => propertyCode(p, names, binds)).join(", ")}}`;
  }
  const first = tokens[0]!;
  if (tokens.length === 1 && first.type === "ident" && !KEYWORDS.has(first.text)) {
    binds.add(first.text);
    return first.text;
  }
  return translateTokens(tokens, names).code;
}

/** An element of an array pattern: a target, `...rest`, or `target = default`. */
function elementCode(tokens: Token[], names: Set<string>, binds: Set<string>): string {
  tokens = trimTokens(tokens);
  if (tokens.length === 0) return "";
  const first = tokens[0]!;
  if (first.type === "punct" && first.text === "...") {
    return `...${targetCode(tokens.slice(1), names, binds)}`;
  }
  const eq = topLevel(tokens, (t) => t.type === "punct" && t.text === "=");
  if (eq.length > 0) {
    const at = eq[0]!;
    const target = targetCode(tokens.slice(0, at), names, binds);
    return `${target} = ${translateTokens(tokens.slice(at + 1), names).code}`;
  }
  return targetCode(tokens, names, binds);
}

/** A property of an object pattern: `key`, `key = default`, `key: target`, `...rest`. */
function propertyCode(tokens: Token[], names: Set<string>, binds: Set<string>): string {
  tokens = trimTokens(tokens);
  if (tokens.length === 0) return "";
  const first = tokens[0]!;
  if (first.type === "punct" && first.text === "...") {
    return `...${targetCode(tokens.slice(1), names, binds)}`;
  }
  const colon = topLevel(tokens, (t) => t.type === "punct" && t.text === ":");
  if (colon.length > 0) {
    const at = colon[0]!;
    let key = tokens
      .slice(0, at)
      .map((t) => t.text)
      .join("");
    const keyTokens = trimTokens(tokens.slice(0, at));
    if (wrapped(keyTokens, "[", "]")) {
      key = `[${translateTokens(keyTokens.slice(1, -1), names).code}]`;
    }
    return `${key.trim()}: ${elementCode(tokens.slice(at + 1), names, binds)}`;
  }
  return elementCode(tokens, names, binds);
}

/** A translated `{% set %}` statement. */
export function translateStatement(source: string): TranslatedTarget {
  const names = new Set<string>();
  const binds = new Set<string>();
  let tokens = trimTokens(tokenize(source));
  const head = tokens[0];
  if (
    head?.type === "ident" &&
    (head.text === "let" || head.text === "const" || head.text === "var")
  ) {
    tokens = trimTokens(tokens.slice(1));
  }
  const ops = topLevel(tokens, (t) => t.type === "punct" && ASSIGN_OPS.has(t.text));
  if (ops.length === 0) {
    return { code: `(${translateTokens(tokens, names).code})`, names, binds };
  }
  const firstOp = tokens[ops[0]!]!.text;
  if (firstOp !== "=") {
    const at = ops[0]!;
    const target = targetCode(tokens.slice(0, at), names, binds);
    const value = translateTokens(tokens.slice(at + 1), names).code;
    return { code: `(${target} ${firstOp} ${value})`, names, binds };
  }
  // `a = b = value`: every segment before the last `=` is a target.
  const cuts = ops.filter((i) => tokens[i]!.text === "=");
  const segments: Token[][] = [];
  let start = 0;
  for (const cut of cuts) {
    segments.push(tokens.slice(start, cut));
    start = cut + 1;
  }
  let valueTokens = tokens.slice(start);
  const tuple = segments.some((s) => splitTopLevel(trimTokens(s)).length > 1);
  let value = translateTokens(valueTokens, names).code;
  valueTokens = trimTokens(valueTokens);
  // Python's `a, b = 1, 2`: the value is a tuple too.
  if (tuple && splitTopLevel(valueTokens).length > 1) value = `[${value.trim()}]`;
  const targets = segments.map((s) => targetCode(s, names, binds));
  return { code: `(${targets.join(" = ")} = ${value.trim()})`, names, binds };
}
