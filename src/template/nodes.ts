// The parse tree of a template file, shared by the parser and the code generator.

import type { Translated, TranslatedTarget } from "./jsexpr.js";

/** Whitespace handling for template text; see `filterWhitespace` in `template.ts`. */
export type WhitespaceMode = "all" | "single" | "oneline";

/** What the parser and code generator need to know about a template. */
export interface TemplateLike {
  readonly name: string;
  /** The autoescape expression (e.g. `xhtml_escape`), or null for none. Set while parsing. */
  autoescape: string | null;
  /** The parsed file. */
  readonly file: FileNode;
}

/** What the code generator needs from a loader. */
export interface LoaderLike {
  load(name: string, parentPath?: string): TemplateLike;
}

export interface FileNode {
  template: TemplateLike;
  body: Node[];
}

export interface TextNode {
  kind: "text";
  value: string;
  line: number;
  whitespace: WhitespaceMode;
}

export interface ExpressionNode {
  kind: "expression";
  js: Translated;
  line: number;
  raw: boolean;
}

export interface StatementNode {
  kind: "statement";
  js: TranslatedTarget;
  line: number;
}

export interface ImportNode {
  kind: "import";
  /** Each binding: the local name, the root module name, the property path under it. */
  bindings: { local: string; root: string; path: string[]; statement: string }[];
  line: number;
}

export interface ExtendsNode {
  kind: "extends";
  name: string;
  line: number;
}

export interface IncludeNode {
  kind: "include";
  name: string;
  /** The including template's name, to resolve relative paths. */
  templateName: string;
  line: number;
}

export interface BlockNode {
  kind: "block";
  name: string;
  body: Node[];
  template: TemplateLike;
  line: number;
}

export interface ApplyNode {
  kind: "apply";
  fn: Translated;
  body: Node[];
  line: number;
}

export interface IfNode {
  kind: "if";
  /** `if` and `elif` clauses in order, then `else` with a null condition. */
  clauses: { condition: Translated | null; body: Node[]; line: number }[];
  line: number;
}

export interface LoopNode {
  kind: "for" | "while";
  /** `for`: the translated target; `while`: unused. */
  target: TranslatedTarget | null;
  /** `for`: the iterated expression; `while`: the condition. */
  expression: Translated;
  /** `for x of e` iterates `e` as JavaScript does, without the plain-object rule. */
  rawIteration: boolean;
  body: Node[];
  elseBody: Node[] | null;
  line: number;
  elseLine: number;
}

export interface ExceptClause {
  /** The exception class expression (a Python tuple becomes an array), or null for all. */
  types: Translated | null;
  /** The `as` name, or null. */
  name: string | null;
  body: Node[];
  line: number;
}

export interface TryNode {
  kind: "try";
  body: Node[];
  excepts: ExceptClause[];
  elseBody: Node[] | null;
  finallyBody: Node[] | null;
  line: number;
  elseLine: number;
  finallyLine: number;
}

export interface JumpNode {
  kind: "break" | "continue";
  loop: LoopNode;
  line: number;
}

export type Node =
  | TextNode
  | ExpressionNode
  | StatementNode
  | ImportNode
  | ExtendsNode
  | IncludeNode
  | BlockNode
  | ApplyNode
  | IfNode
  | LoopNode
  | TryNode
  | JumpNode;

/** The nodes directly inside a node (all clause bodies), for tree walks. */
export function childBodies(node: Node): Node[][] {
  switch (node.kind) {
    case "block":
    case "apply":
      return [node.body];
    case "if":
      return node.clauses.map((c) => c.body);
    case "for":
    case "while":
      return node.elseBody === null ? [node.body] : [node.body, node.elseBody];
    case "try": {
      const bodies = [node.body, ...node.excepts.map((e) => e.body)];
      if (node.elseBody !== null) bodies.push(node.elseBody);
      if (node.finallyBody !== null) bodies.push(node.finallyBody);
      return bodies;
    }
    default:
      return [];
  }
}
