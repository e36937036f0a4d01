/**
 * GNU gettext `.mo` catalogs for `tornado.locale`: the part of Python's `gettext` module that
 * Tornado's `load_gettext_translations` relies on, with no dependency.
 *
 * {@link GettextTranslations.parse} reads a compiled catalog in either byte order (as
 * `msgfmt` writes it on little-endian machines, or big-endian), decodes messages with the
 * charset named in the header's `Content-Type`, and compiles the header's `Plural-Forms`
 * formula with {@link parsePluralForms}, a small parser and evaluator for the C expressions
 * gettext allows (never `eval`). Contexts are stored as gettext does: `context\x04msgid`.
 *
 * Main exports: {@link GettextTranslations}, {@link parsePluralForms},
 * {@link GettextFormatError}, {@link PluralFormsError}.
 */

import { pythonDecoder } from "./codecs.js";

/** Magic number of a `.mo` file, read in the file's byte order. */
const MO_MAGIC = 0x950412de;
/** The same magic read in the other byte order. */
const MO_MAGIC_SWAPPED = 0xde120495;
/** Longest `Plural-Forms` formula accepted, in characters (as Python's `gettext`). */
const MAX_PLURAL_LENGTH = 1000;
/** Deepest nesting of parentheses and conditionals accepted in a plural formula. */
const MAX_PLURAL_DEPTH = 20;

/** A compiled `.mo` file that cannot be read: bad magic, version, offsets or charset. */
export class GettextFormatError extends Error {
  override name = "GettextFormatError";
  /** Stable code for this error class. */
  readonly code = "ERR_GETTEXT_FORMAT";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A `Plural-Forms` formula that does not parse (bad token, unbalanced parenthesis, too long
 * or too deep), or one that divides by zero when evaluated.
 */
export class PluralFormsError extends Error {
  override name = "PluralFormsError";
  /** Stable code for this error class. */
  readonly code = "ERR_GETTEXT_PLURAL_FORMS";
  /** The formula as given. */
  readonly formula: string;

  constructor(message: string, formula: string, options?: ErrorOptions) {
    super(message, options);
    this.formula = formula;
  }
}

// ---------------------------------------------------------------------------------------------
// Plural-Forms formulas

/** A node of a compiled plural formula. */
type PluralNode =
  | { readonly kind: "n" }
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "not"; readonly operand: PluralNode }
  | {
      readonly kind: "binary";
      readonly op: string;
      readonly left: PluralNode;
      readonly right: PluralNode;
    }
  | {
      readonly kind: "conditional";
      readonly test: PluralNode;
      readonly then: PluralNode;
      readonly otherwise: PluralNode;
    };

/** Binary operators and their precedence, loosest first (C's order). */
const BINARY_PRECEDENCE: Readonly<Record<string, number>> = {
  "||": 1,
  "&&": 2,
  "==": 3,
  "!=": 3,
  "<": 4,
  ">": 4,
  "<=": 4,
  ">=": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  "%": 6,
};

const TOKEN_RE =
  /[ \t]+|([0-9]+)(?![A-Za-z0-9_])|(n)(?![A-Za-z0-9_])|([()?:*/%+-]|[<>!]=?|==|&&|\|\|)|(\w+|[^])/gy;

function tokenize(formula: string): string[] {
  const tokens: string[] = [];
  TOKEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN_RE.exec(formula)) !== null) {
    if (m[4] !== undefined) {
      throw new PluralFormsError(`invalid token in plural form: ${m[4]}`, formula);
    }
    const token = m[1] ?? m[2] ?? m[3];
    if (token !== undefined) tokens.push(token);
  }
  return tokens;
}

/** Recursive-descent parser over the token list; depth-limited. */
class PluralParser {
  readonly #tokens: string[];
  readonly #formula: string;
  #pos = 0;
  #depth = 0;

  constructor(formula: string) {
    this.#formula = formula;
    this.#tokens = tokenize(formula);
  }

  parse(): PluralNode {
    const node = this.#conditional();
    if (this.#pos < this.#tokens.length) throw this.#unexpected();
    return node;
  }

  #peek(): string | undefined {
    return this.#tokens[this.#pos];
  }

  #unexpected(): PluralFormsError {
    const token = this.#peek();
    return new PluralFormsError(
      token === undefined
        ? "unexpected end of plural form"
        : `unexpected token in plural form: ${token}`,
      this.#formula,
    );
  }

  #enter(): void {
    if (++this.#depth > MAX_PLURAL_DEPTH) {
      throw new PluralFormsError("plural form expression is too complex", this.#formula);
    }
  }

  /** `test ? then : otherwise`, right-associative, the loosest construct. */
  #conditional(): PluralNode {
    const test = this.#binary(1);
    if (this.#peek() !== "?") return test;
    this.#pos++;
    // The middle operand counts as a nesting level (Python parenthesises it); a chain of
    // conditionals in the last operand does not.
    this.#enter();
    const then = this.#conditional();
    this.#depth--;
    if (this.#peek() !== ":") throw this.#unexpected();
    this.#pos++;
    const otherwise = this.#conditional();
    return { kind: "conditional", test, then, otherwise };
  }

  /** Left-associative binary operators of at least `minPrecedence`. */
  #binary(minPrecedence: number): PluralNode {
    let left = this.#unary();
    for (;;) {
      const op = this.#peek();
      const precedence = op === undefined ? undefined : BINARY_PRECEDENCE[op];
      if (op === undefined || precedence === undefined || precedence < minPrecedence) {
        return left;
      }
      this.#pos++;
      const right = this.#binary(precedence + 1);
      left = { kind: "binary", op, left, right };
    }
  }

  #unary(): PluralNode {
    if (this.#peek() === "!") {
      this.#pos++;
      return { kind: "not", operand: this.#unary() };
    }
    return this.#primary();
  }

  #primary(): PluralNode {
    const token = this.#peek();
    if (token === "(") {
      this.#pos++;
      this.#enter();
      const inner = this.#conditional();
      if (this.#peek() !== ")") {
        throw new PluralFormsError("unbalanced parenthesis in plural form", this.#formula);
      }
      this.#pos++;
      this.#depth--;
      return inner;
    }
    if (token === "n") {
      this.#pos++;
      return { kind: "n" };
    }
    if (token !== undefined && /^[0-9]+$/.test(token)) {
      this.#pos++;
      return { kind: "number", value: Number.parseInt(token, 10) };
    }
    throw this.#unexpected();
  }
}

type Evaluator = (n: number) => number;

/** Turns a formula tree into nested closures, built once per catalog and called per lookup. */
function compile(node: PluralNode, formula: string): Evaluator {
  switch (node.kind) {
    case "n":
      return (n) => n;
    case "number": {
      const value = node.value;
      return () => value;
    }
    case "not": {
      const operand = compile(node.operand, formula);
      return (n) => (operand(n) === 0 ? 1 : 0);
    }
    case "conditional": {
      const test = compile(node.test, formula);
      const then = compile(node.then, formula);
      const otherwise = compile(node.otherwise, formula);
      return (n) => (test(n) !== 0 ? then(n) : otherwise(n));
    }
    case "binary": {
      const a = compile(node.left, formula);
      const b = compile(node.right, formula);
      switch (node.op) {
        // && and || short-circuit and yield 0 or 1, as in C.
        case "&&":
          return (n) => (a(n) !== 0 && b(n) !== 0 ? 1 : 0);
        case "||":
          return (n) => (a(n) !== 0 || b(n) !== 0 ? 1 : 0);
        case "==":
          return (n) => (a(n) === b(n) ? 1 : 0);
        case "!=":
          return (n) => (a(n) !== b(n) ? 1 : 0);
        case "<":
          return (n) => (a(n) < b(n) ? 1 : 0);
        case ">":
          return (n) => (a(n) > b(n) ? 1 : 0);
        case "<=":
          return (n) => (a(n) <= b(n) ? 1 : 0);
        case ">=":
          return (n) => (a(n) >= b(n) ? 1 : 0);
        case "+":
          return (n) => a(n) + b(n);
        case "-":
          return (n) => a(n) - b(n);
        case "*":
          return (n) => a(n) * b(n);
        case "/":
        case "%": {
          const divide = node.op === "/";
          return (n) => {
            const left = a(n);
            const right = b(n);
            if (right === 0) throw new PluralFormsError("division by zero in plural form", formula);
            return divide ? Math.trunc(left / right) : left % right;
          };
        }
      }
      throw new PluralFormsError(`unknown operator ${node.op}`, formula);
    }
  }
}

/**
 * Compiles the `plural=` formula of a `Plural-Forms` header (e.g.
 * `n%10==1 && n%100!=11 ? 0 : n != 0 ? 1 : 2`) into a function from a count to the index of
 * the plural form to use.
 *
 * The grammar is gettext's: `n`, decimal integers, parentheses, `!`, `* / %`, `+ -`,
 * `< > <= >=`, `== !=`, `&&`, `||` and `? :`, with C's precedence and integer arithmetic
 * (division truncates; comparisons and logical operators yield 0 or 1).
 *
 * @param formula - the expression after `plural=`, without the trailing `;`.
 * @returns a function of an integer count.
 * @throws PluralFormsError if the formula does not parse, is longer than 1000 characters or
 *   nests deeper than 20 levels; the returned function throws it on a division by zero.
 * @throws TypeError (from the returned function) if the count is not an integer.
 */
export function parsePluralForms(formula: string): (n: number) => number {
  if (formula.length > MAX_PLURAL_LENGTH) {
    throw new PluralFormsError("plural form expression is too long", formula);
  }
  const evaluate = compile(new PluralParser(formula).parse(), formula);
  return (n: number) => {
    if (!Number.isInteger(n)) throw new TypeError(`Plural value must be an integer, got ${n}`);
    return evaluate(n);
  };
}

// ---------------------------------------------------------------------------------------------
// Python's str.strip()

/** Python's `str.strip()` whitespace (which, unlike JavaScript's, excludes U+FEFF). */
const PY_SPACE =
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** Python's `str.strip()`: removes Python's whitespace characters from both ends. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && PY_SPACE.includes(s[start]!)) start++;
  while (end > start && PY_SPACE.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

// ---------------------------------------------------------------------------------------------
// .mo catalogs

/**
 * A gettext message catalog: Python's `gettext.GNUTranslations`, read from a compiled `.mo`
 * file, with an optional fallback catalog consulted for messages it lacks.
 */
export class GettextTranslations {
  /** Plain messages by msgid (contexts as `context\x04msgid`). */
  readonly #catalog = new Map<string, string>();
  /** Plural forms by msgid, then by plural index. */
  readonly #plurals = new Map<string, string[]>();
  /** Header fields, keys lowercased (`content-type`, `plural-forms`, …). */
  readonly info: Readonly<Record<string, string>>;
  /** The charset named in the header, or null (then messages are ASCII). */
  readonly charset: string | null;
  /** The plural formula: count → index of the plural form. Germanic (`n != 1`) by default. */
  readonly plural: (n: number) => number;
  #fallback: GettextTranslations | null = null;

  private constructor(
    info: Record<string, string>,
    charset: string | null,
    plural: (n: number) => number,
  ) {
    this.info = info;
    this.charset = charset;
    this.plural = plural;
  }

  /**
   * Parses a compiled `.mo` catalog, in either byte order.
   *
   * The header entry (empty msgid) gives the charset (`Content-Type: …; charset=X`) used to
   * decode the entries after it (ASCII before one is seen, as in Python) and the
   * `Plural-Forms` formula. A msgid holding a NUL is a plural entry: its translation is the
   * NUL-separated list of forms.
   *
   * @param data - the whole file.
   * @throws GettextFormatError on a bad magic number, an unknown major version (not 0 or 1),
   *   a table or string outside the file, a header without `charset=`, an unknown charset or
   *   bytes invalid in it.
   * @throws PluralFormsError if the `Plural-Forms` formula does not parse.
   */
  static parse(data: Uint8Array): GettextTranslations {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const length = data.byteLength;
    if (length < 20) throw new GettextFormatError("Bad magic number");
    const magic = view.getUint32(0, true);
    let little: boolean;
    if (magic === MO_MAGIC) little = true;
    else if (magic === MO_MAGIC_SWAPPED) little = false;
    else throw new GettextFormatError("Bad magic number");
    const version = view.getUint32(4, little);
    const major = version >>> 16;
    if (major !== 0 && major !== 1) {
      throw new GettextFormatError(`Bad version number ${major}`);
    }
    const count = view.getUint32(8, little);
    let originals = view.getUint32(12, little);
    let translations = view.getUint32(16, little);
    const info: Record<string, string> = {};
    let charset: string | null = null;
    let decode = pythonDecoder("ascii")!;
    let plural: (n: number) => number = (n) => (n !== 1 ? 1 : 0);
    const entries: [string, string[] | string][] = [];
    const utf8 = pythonDecoder("utf-8")!;
    const slot = (offset: number): [number, number] => {
      if (offset + 8 > length) throw new GettextFormatError("File is corrupt");
      return [view.getUint32(offset, little), view.getUint32(offset + 4, little)];
    };
    const decodeWith = (bytes: Uint8Array): string => {
      try {
        return decode(bytes);
      } catch (err) {
        throw new GettextFormatError(`cannot decode a message as ${charset ?? "ascii"}`, {
          cause: err,
        });
      }
    };
    for (let i = 0; i < count; i++) {
      const [msgLength, msgOffset] = slot(originals);
      const [transLength, transOffset] = slot(translations);
      // Python requires each string to end before the file does (msgfmt NUL-terminates them).
      if (msgOffset + msgLength >= length || transOffset + transLength >= length) {
        throw new GettextFormatError("File is corrupt");
      }
      const msg = data.subarray(msgOffset, msgOffset + msgLength);
      const trans = data.subarray(transOffset, transOffset + transLength);
      if (msgLength === 0) {
        let lastKey: string | null = null;
        for (const rawLine of splitBytes(trans, 0x0a)) {
          let line: string;
          try {
            line = pyStrip(utf8(rawLine));
          } catch (err) {
            throw new GettextFormatError("the catalog header is not UTF-8", { cause: err });
          }
          if (line === "") continue;
          if (line.startsWith("#-#-#-#-#") && line.endsWith("#-#-#-#-#")) continue;
          const colon = line.indexOf(":");
          if (colon < 0) {
            if (lastKey !== null) info[lastKey] += `\n${line}`;
            continue;
          }
          const key = pyStrip(line.slice(0, colon)).toLowerCase();
          const value = pyStrip(line.slice(colon + 1));
          info[key] = value;
          lastKey = key;
          if (key === "content-type") {
            const at = value.indexOf("charset=");
            if (at < 0) {
              throw new GettextFormatError(`no charset= in Content-Type: ${value}`);
            }
            charset = value.slice(at + "charset=".length).split("charset=")[0]!;
            const next = pythonDecoder(charset);
            if (next === null) throw new GettextFormatError(`unknown charset ${charset}`);
            decode = next;
          } else if (key === "plural-forms") {
            const expression = value.split(";")[1]?.split("plural=")[1];
            if (expression === undefined) {
              throw new GettextFormatError(`no plural= in Plural-Forms: ${value}`);
            }
            plural = parsePluralForms(expression);
          }
        }
      }
      const nul = msg.indexOf(0);
      if (nul >= 0) {
        if (msg.indexOf(0, nul + 1) >= 0) {
          throw new GettextFormatError("a plural msgid holds more than one NUL");
        }
        const forms = splitBytes(trans, 0).map(decodeWith);
        entries.push([decodeWith(msg.subarray(0, nul)), forms]);
      } else {
        entries.push([decodeWith(msg), decodeWith(trans)]);
      }
      originals += 8;
      translations += 8;
    }
    const result = new GettextTranslations(info, charset, plural);
    for (const [msgid, value] of entries) {
      if (typeof value === "string") {
        result.#catalog.set(msgid, value);
      } else {
        // Later entries override earlier forms one index at a time, as Python's dict does.
        const forms = result.#plurals.get(msgid) ?? [];
        value.forEach((form, index) => {
          forms[index] = form;
        });
        result.#plurals.set(msgid, forms);
      }
    }
    return result;
  }

  /** Adds a catalog consulted for messages this one (and its fallbacks) lack. */
  addFallback(fallback: GettextTranslations): void {
    if (this.#fallback !== null) this.#fallback.addFallback(fallback);
    else this.#fallback = fallback;
  }

  /**
   * The translation of `message`: the plain entry, else the plural entry's form for a count of
   * 1, else the fallback's answer, else `message` itself.
   */
  gettext(message: string): string {
    const found = this.#catalog.get(message) ?? this.#plurals.get(message)?.[this.plural(1)];
    if (found !== undefined) return found;
    if (this.#fallback !== null) return this.#fallback.gettext(message);
    return message;
  }

  /**
   * The plural form for `count` of the entry `singular`, else the fallback's answer, else
   * `singular` when `count` is 1 and `plural` otherwise.
   * @throws TypeError if the catalog has a plural formula and `count` is not an integer.
   */
  ngettext(singular: string, plural: string, count: number): string {
    // The formula runs (and checks the count) even when the entry is missing, as in Python.
    const index = this.plural(count);
    const found = this.#plurals.get(singular)?.[index];
    if (found !== undefined) return found;
    if (this.#fallback !== null) return this.#fallback.ngettext(singular, plural, count);
    return count === 1 ? singular : plural;
  }
}

function splitBytes(bytes: Uint8Array, separator: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const at = bytes.indexOf(separator, start);
    if (at < 0) break;
    parts.push(bytes.subarray(start, at));
    start = at + 1;
  }
  parts.push(bytes.subarray(start));
  return parts;
}
