// Error classes of tornado.httputil, and the helper that quotes untrusted text in messages.

/**
 * Raised for malformed HTTP requests or responses from a remote peer: a bad request line,
 * header, `Host`, body framing or form body.
 *
 * `HTTP1Connection` answers it with `400 Bad Request` and closes the connection; `status`
 * carries a more precise answer where one exists (431 for too many header fields).
 */
export class HTTPInputError extends Error {
  override name = "HTTPInputError";
  readonly code = "ERR_HTTP_INPUT";
  /** The HTTP status a server should answer with: 400 unless the error says otherwise. */
  readonly status: number;
  constructor(message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.status = options?.status ?? 400;
  }
}

/**
 * Raised for errors in HTTP output produced locally: writing more (or fewer) bytes than the
 * declared `Content-Length`, or writing after `finish()`.
 */
export class HTTPOutputError extends Error {
  override name = "HTTPOutputError";
  readonly code = "ERR_HTTP_OUTPUT";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const MAX_QUOTED = 120;

/**
 * Quotes untrusted text for an error message: JSON string syntax (so CR, LF and NUL show
 * escaped and a log line cannot be split), cut to a bounded length.
 */
export function quoteForMessage(text: string): string {
  if (text.length > MAX_QUOTED) {
    return `${JSON.stringify(text.slice(0, MAX_QUOTED))}… (${text.length} chars)`;
  }
  return JSON.stringify(text);
}
