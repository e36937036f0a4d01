// The code generator: turns the parse tree of a template, with its ancestors (`{% extends %}`),
// included files and the most-derived `{% block %}`s, into the body of one JavaScript function
// that appends to a local string. Every generated line remembers the template line it came
// from, so runtime errors and syntax errors can name it ("sub.html:4 (via base.html:1)").

import { ParseError } from "./errors.js";
import { translate, type Translated } from "./jsexpr.js";
import { filterWhitespace } from "./parse.js";
import {
  type BlockNode,
  childBodies,
  type FileNode,
  type LoaderLike,
  type LoopNode,
  type Node,
  type TemplateLike,
  type TryNode,
} from "./nodes.js";

/** Where a generated line comes from. */
export interface Location {
  filename: string;
  lineno: number;
  /** `"page.html:4"` or `"sub.html:1 (via base.html:1)"`, as Tornado's code comments. */
  text: string;
}

/** A fragment of user JavaScript, kept to find the culprit when the function does not compile. */
interface Fragment {
  kind: "expression" | "statement" | "target";
  code: string;
  location: Location;
}

/** The generated function body and what the function reads. */
export interface GeneratedCode {
  /** Body lines, without the prologue that binds names. */
  lines: string[];
  /** The location of each body line. */
  locations: Location[];
  /** Free names the code reads (candidates from the namespace). */
  names: string[];
  /** Names the code assigns at the function's top level (`let` locals). */
  binds: Set<string>;
  /** User fragments, for syntax error reports. */
  fragments: Fragment[];
  /** Autoescape functions named by an identifier, called through `_tt$ae$<name>`. */
  escapes: string[];
}

const IDENTIFIER_RE = /^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u;

// Templates nested deeper than this through includes and blocks are taken to be recursive.
const MAX_NESTING = 100;

/**
 * Generates the code of a template with its ancestors. `ancestors` runs from the root
 * template (the one without `{% extends %}`) to the template being compiled.
 */
export function generate(ancestors: FileNode[], loader: LoaderLike | null): GeneratedCode {
  const namedBlocks = new Map<string, BlockNode>();
  for (const ancestor of ancestors) findNamedBlocks(ancestor.body, loader, namedBlocks, 0);
  const writer = new CodeWriter(namedBlocks, loader, ancestors[0]!.template);
  writer.emit('let _tt$out = "", _tt$t;', 0);
  writer.generateNodes(ancestors[0]!.body);
  writer.emit("return _tt$out;", 0);
  return {
    lines: writer.lines,
    locations: writer.locations,
    names: [...writer.names],
    binds: writer.scopes[0]!,
    fragments: writer.fragments,
    escapes: [...writer.escapes],
  };
}

function findNamedBlocks(
  nodes: Node[],
  loader: LoaderLike | null,
  found: Map<string, BlockNode>,
  depth: number,
): void {
  if (depth > MAX_NESTING) {
    throw new ParseError("templates nested too deeply (recursive include?)", null, 0);
  }
  for (const node of nodes) {
    if (node.kind === "block") {
      found.set(node.name, node);
    } else if (node.kind === "include") {
      const included = requireLoader(loader, node, node.templateName).load(
        node.name,
        node.templateName,
      );
      findNamedBlocks(included.file.body, loader, found, depth + 1);
      continue;
    }
    for (const body of childBodies(node)) findNamedBlocks(body, loader, found, depth + 1);
  }
}

function requireLoader(loader: LoaderLike | null, node: Node, templateName: string): LoaderLike {
  if (loader === null) {
    throw new ParseError(
      `{% ${node.kind} %} block found, but no template loader`,
      templateName,
      node.line,
    );
  }
  return loader;
}

class CodeWriter {
  readonly lines: string[] = [];
  readonly locations: Location[] = [];
  readonly names = new Set<string>();
  /** Names assigned in each function scope: [0] the template function, then apply blocks. */
  readonly scopes: Set<string>[] = [new Set()];
  readonly fragments: Fragment[] = [];
  /** Escape functions named by a plain identifier (see the "expression" case). */
  readonly escapes = new Set<string>();
  #includeStack: { template: TemplateLike; line: number }[] = [];
  #includeChain: TemplateLike[] = [];
  #current: TemplateLike;
  #counter = 0;
  #lastLocation: Location | null = null;
  #lastContext = 0;
  #loopIds = new Map<LoopNode, number>();
  #autoescapeCache = new Map<string, Translated>();

  constructor(
    readonly namedBlocks: Map<string, BlockNode>,
    readonly loader: LoaderLike | null,
    current: TemplateLike,
  ) {
    this.#current = current;
  }

  #location(line: number): Location {
    // Consecutive lines mostly share a location: reuse it (compiling big templates is
    // dominated by these allocations otherwise).
    const last = this.#lastLocation;
    if (last !== null && last.lineno === line && this.#lastContext === this.#includeStack.length) {
      return last;
    }
    let text = `${this.#current.name}:${line}`;
    if (this.#includeStack.length > 0) {
      const via = this.#includeStack.map((e) => `${e.template.name}:${e.line}`).reverse();
      text += ` (via ${via.join(", ")})`;
    }
    const location = { filename: this.#current.name, lineno: line, text };
    this.#lastLocation = location;
    this.#lastContext = this.#includeStack.length;
    return location;
  }

  /**
   * Appends a string to the output, one statement per part. (Joining consecutive parts into one
   * `_tt$out += a + b + c` measured slower in V8, and would lose the parts before a failing one
   * inside `{% try %}`.)
   */
  #output(part: string, line: number): void {
    this.emit(`_tt$out += ${part};`, line);
  }

  /** Appends a statement (which may span lines) attributed to a template line. */
  emit(code: string, line: number): void {
    const location = this.#location(line);
    for (const part of code.split("\n")) {
      this.lines.push(part);
      this.locations.push(location);
    }
  }

  #fragment(kind: Fragment["kind"], js: Translated, line: number): string {
    for (const name of js.names) this.names.add(name);
    this.fragments.push({ kind, code: js.code, location: this.#location(line) });
    return js.code;
  }

  #bind(names: Iterable<string>): void {
    const scope = this.scopes[this.scopes.length - 1]!;
    for (const name of names) scope.add(name);
  }

  #withTemplate(template: TemplateLike, line: number, fn: () => void): void {
    if (this.#includeStack.length > MAX_NESTING) {
      throw new ParseError("templates nested too deeply (recursive include?)", template.name, line);
    }
    this.#includeStack.push({ template: this.#current, line });
    this.#current = template;
    this.#lastLocation = null;
    try {
      fn();
    } finally {
      this.#current = this.#includeStack.pop()!.template;
      this.#lastLocation = null;
    }
  }

  generateNodes(nodes: Node[]): void {
    for (const node of nodes) this.#generate(node);
  }

  #generate(node: Node): void {
    switch (node.kind) {
      case "text": {
        // Compress whitespace unless the chunk looks preformatted (Tornado's heuristic).
        const value = node.value.includes("<pre>")
          ? node.value
          : filterWhitespace(node.whitespace, node.value);
        if (value) {
          this.#output(JSON.stringify(value), node.line);
        }
        return;
      }
      case "expression": {
        const code = this.#fragment("expression", node.js, node.line);
        const escape = node.raw ? null : this.#current.autoescape;
        if (escape === null) {
          this.#output(
            `(typeof (_tt$t = (${code})) === "string" ? _tt$t : _tt$str(_tt$t))`,
            node.line,
          );
        } else if (IDENTIFIER_RE.test(escape)) {
          // A named escape function goes through a per-render alias (`_tt$ae$name`) that the
          // prologue binds: to the built-in fast HTML escape when the name is the default
          // namespace's `xhtml_escape`, else to a wrapper that converts the value to a string.
          this.names.add(escape);
          this.escapes.add(escape);
          this.#output(`_tt$ae$${escape}(${code})`, node.line);
        } else {
          const fn = this.#fragment("expression", this.#autoescape(escape), node.line);
          this.#output(
            `_tt$str((${fn})(typeof (_tt$t = (${code})) === "string" ? _tt$t : _tt$str(_tt$t)))`,
            node.line,
          );
        }
        return;
      }
      case "statement":
        this.#bind(node.js.binds);
        this.emit(`${this.#fragment("statement", node.js, node.line)};`, node.line);
        return;
      case "import":
        for (const b of node.bindings) {
          this.#bind([b.local]);
          this.names.add(b.root);
          const args = [
            `typeof ${b.root} === "undefined" ? undefined : ${b.root}`,
            JSON.stringify(b.root),
            JSON.stringify(b.path),
            JSON.stringify(b.statement),
          ];
          this.emit(`${b.local} = _tt$import(${args.join(", ")});`, node.line);
        }
        return;
      case "extends":
        return;
      case "include": {
        const loader = requireLoader(this.loader, node, node.templateName);
        const included = loader.load(node.name, node.templateName);
        if (this.#includeChain.includes(included)) {
          throw new ParseError(
            `recursive {% include %} of ${included.name}`,
            node.templateName,
            node.line,
          );
        }
        this.#includeChain.push(included);
        try {
          this.#withTemplate(included, node.line, () => this.generateNodes(included.file.body));
        } finally {
          this.#includeChain.pop();
        }
        return;
      }
      case "block": {
        const block = this.namedBlocks.get(node.name) ?? node;
        this.#withTemplate(block.template, node.line, () => this.generateNodes(block.body));
        return;
      }
      case "apply": {
        const fn = this.#fragment("expression", node.fn, node.line);
        this.emit(`_tt$out += _tt$str((${fn})((() => {`, node.line);
        const placeholder = this.lines.length;
        this.emit("", node.line);
        this.emit('let _tt$out = "";', node.line);
        const scope = new Set<string>();
        this.scopes.push(scope);
        this.generateNodes(node.body);
        this.scopes.pop();
        if (scope.size > 0) this.lines[placeholder] = `let ${[...scope].join(", ")};`;
        this.emit("return _tt$out;", node.line);
        this.emit("})()));", node.line);
        return;
      }
      case "if":
        node.clauses.forEach((clause, i) => {
          const head = i === 0 ? "if" : "} else if";
          if (clause.condition === null) {
            this.emit("} else {", clause.line);
          } else {
            const condition = this.#fragment("expression", clause.condition, clause.line);
            this.emit(`${head} (${condition}) {`, clause.line);
          }
          this.generateNodes(clause.body);
        });
        this.emit("}", node.line);
        return;
      case "for":
      case "while":
        this.#generateLoop(node);
        return;
      case "try":
        this.#generateTry(node);
        return;
      case "break":
      case "continue": {
        const id = this.#loopIds.get(node.loop);
        if (node.kind === "break" && node.loop.elseBody !== null && id !== undefined) {
          this.emit(`{ _tt$brk${id} = true; break; }`, node.line);
        } else {
          this.emit(`${node.kind};`, node.line);
        }
        return;
      }
    }
  }

  #autoescape(expression: string): Translated {
    let translated = this.#autoescapeCache.get(expression);
    if (translated === undefined) {
      translated = translate(expression);
      this.#autoescapeCache.set(expression, translated);
    }
    return translated;
  }

  #generateLoop(node: LoopNode): void {
    const id = this.#counter++;
    this.#loopIds.set(node, id);
    const expression = this.#fragment("expression", node.expression, node.line);
    if (node.elseBody !== null) this.emit(`let _tt$brk${id} = false;`, node.line);
    if (node.kind === "for") {
      const target = node.target!;
      this.#bind(target.binds);
      const code = this.#fragment("target", target, node.line);
      const iterable = node.rawIteration ? `(${expression})` : `_tt$iter(${expression})`;
      this.emit(`for (${code} of ${iterable}) {`, node.line);
    } else {
      this.emit(`while (${expression}) {`, node.line);
    }
    this.generateNodes(node.body);
    this.emit("}", node.line);
    if (node.elseBody !== null) {
      this.emit(`if (!_tt$brk${id}) {`, node.elseLine);
      this.generateNodes(node.elseBody);
      this.emit("}", node.elseLine);
    }
  }

  #generateTry(node: TryNode): void {
    const id = this.#counter++;
    const hasFinally = node.finallyBody !== null;
    const hasElse = node.elseBody !== null;
    if (hasFinally) this.emit("try {", node.line);
    if (node.excepts.length > 0) {
      if (hasElse) this.emit(`let _tt$ok${id} = false;`, node.line);
      this.emit("try {", node.line);
      this.generateNodes(node.body);
      if (hasElse) this.emit(`_tt$ok${id} = true;`, node.line);
      let bare = false;
      node.excepts.forEach((clause, i) => {
        const head = i === 0 ? `} catch (_tt$e${id}) {\n` : "} else ";
        if (clause.types === null) {
          bare = true;
          this.emit(`${head}{`, clause.line);
        } else {
          const types = this.#fragment("expression", clause.types, clause.line);
          this.emit(`${head}if (_tt$match(_tt$e${id}, ${types})) {`, clause.line);
        }
        if (clause.name !== null) {
          this.emit(`const ${clause.name} = _tt$e${id};`, clause.line);
        }
        this.generateNodes(clause.body);
      });
      const last = node.excepts[node.excepts.length - 1]!;
      this.emit(bare ? "}" : `} else throw _tt$e${id};`, last.line);
      this.emit("}", last.line);
      if (hasElse) {
        this.emit(`if (_tt$ok${id}) {`, node.elseLine);
        this.generateNodes(node.elseBody!);
        this.emit("}", node.elseLine);
      }
    } else {
      this.generateNodes(node.body);
    }
    if (hasFinally) {
      this.emit("} finally {", node.finallyLine);
      this.generateNodes(node.finallyBody!);
      this.emit("}", node.finallyLine);
    }
  }
}

/** Finds the fragment that does not compile, for a ParseError naming its template line. */
export function findSyntaxError(code: GeneratedCode, rootName: string, error: unknown): ParseError {
  for (const fragment of code.fragments) {
    let wrapper: string;
    switch (fragment.kind) {
      case "expression":
        wrapper = `"use strict"; return (\n${fragment.code}\n);`;
        break;
      case "statement":
        wrapper = `"use strict";\n${fragment.code};`;
        break;
      case "target":
        wrapper = `"use strict"; for (${fragment.code} of []) {}`;
        break;
    }
    try {
      new Function(wrapper);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return new ParseError(
        `${message} in ${JSON.stringify(fragment.code.trim())}`,
        fragment.location.filename,
        fragment.location.lineno,
        e,
      );
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ParseError(`template does not compile: ${message}`, rootName, 0, error);
}
