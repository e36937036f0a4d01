// The template errors, in their own file so the parser and code generator can throw them
// without importing the public module. `template.ts` re-exports them.

/** Options of {@link TemplateError}. */
export interface TemplateErrorOptions {
  /** The template's name (its file name when loaded), or null when unknown. */
  filename?: string | null;
  /** The 1-based line in that template, or 0 when unknown. @defaultValue 0 */
  lineno?: number;
  /** The underlying error. */
  cause?: unknown;
  /** A stable error code. @defaultValue "ERR_TEMPLATE" */
  code?: string;
}

/**
 * An error from a template: a template not found (`code` `ERR_TEMPLATE_NOT_FOUND`), a failed
 * `{% import %}` (`ERR_TEMPLATE_IMPORT`), or an error thrown while rendering
 * (`ERR_TEMPLATE_RUNTIME`), which wraps the original error as `cause` and names the template
 * and line where it happened: `"Cannot read properties of undefined (reading 'x') at
 * page.html:4 (via base.html:2)"`.
 *
 * @remarks Tornado lets the original exception through and shows the template line in the
 * traceback; a JavaScript stack cannot carry that, so the error is wrapped. Code that cares
 * about the original class (an `HTTPError` thrown by a UI module, say) looks at `cause`.
 */
export class TemplateError extends Error {
  override name = "TemplateError";
  /** A stable code: `ERR_TEMPLATE_RUNTIME`, `ERR_TEMPLATE_NOT_FOUND`, `ERR_TEMPLATE_PARSE`, … */
  readonly code: string;
  /** The template's name, or null when unknown. */
  readonly filename: string | null;
  /** The 1-based line in the template, or 0 when unknown. */
  readonly lineno: number;

  constructor(message: string, options: TemplateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "ERR_TEMPLATE";
    this.filename = options.filename ?? null;
    this.lineno = options.lineno ?? 0;
  }
}

/**
 * A template syntax error, raised when a template is compiled: bad tags, unbalanced blocks,
 * directives in the wrong place, or JavaScript that does not compile. Its message is
 * `"<reason> at <filename>:<lineno>"`, as Tornado's `str(ParseError)`.
 *
 * @example
 * ```ts
 * new DictLoader({ "foo.html": "\n\n{{" }).load("foo.html");
 * // ParseError: Missing end expression }} at foo.html:3
 * ```
 */
export class ParseError extends TemplateError {
  override name = "ParseError";
  /** The reason alone, without the location (Tornado's `message` attribute). */
  readonly reason: string;

  /**
   * @param reason - what is wrong.
   * @param filename - the template's name; null prints as `<unknown>`. @defaultValue null
   * @param lineno - the 1-based line; 0 when unknown. @defaultValue 0
   * @param cause - the underlying error (a JavaScript `SyntaxError`, say).
   */
  constructor(reason: string, filename: string | null = null, lineno = 0, cause?: unknown) {
    super(`${reason} at ${filename ?? "<unknown>"}:${lineno}`, {
      filename,
      lineno,
      cause,
      code: "ERR_TEMPLATE_PARSE",
    });
    this.reason = reason;
  }
}
