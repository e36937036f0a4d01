// HTTP/1.x start lines (request line, status line), their strict parsers, and the table of
// reason phrases.

import { HTTPInputError, quoteForMessage } from "./errors.js";

// RFC 9112: request-line = method SP request-target SP HTTP-version. The target is checked
// loosely, as Tornado does: any run of visible ASCII or obs-text (no CTL, SP or DEL).
const REQUEST_LINE_RE =
  /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7E\x80-\xFF]+) (HTTP\/[0-9]\.[0-9])$/;
// RFC 9112: status-line = HTTP-version SP status-code SP [ reason-phrase ].
const STATUS_LINE_RE = /^(HTTP\/[0-9]\.[0-9]) ([0-9]{3}) ([\t\x20-\x7E\x80-\xFF]+)?$/;
const REASON_PHRASE_RE = /^[\t\x20-\x7E\x80-\xFF]+$/;

/**
 * True if `s` is a valid RFC 9112 reason phrase: one or more of HTAB, SP, visible ASCII or
 * obs-text. `web` uses it to refuse a user-supplied reason that could inject a header.
 */
export function isReasonPhrase(s: string): boolean {
  return REASON_PHRASE_RE.test(s);
}

/** The first line of an HTTP request: `method path version` (`GET /foo HTTP/1.1`). */
export class RequestStartLine {
  /**
   * @param method - e.g. `"GET"`.
   * @param path - the request target as sent (path and query), e.g. `"/foo?a=1"`.
   * @param version - e.g. `"HTTP/1.1"`; `HTTPConnection.writeHeaders` ignores it.
   */
  constructor(
    readonly method: string,
    readonly path: string,
    readonly version: string,
  ) {}

  /** The line as sent: `GET /foo HTTP/1.1`. */
  toString(): string {
    return `${this.method} ${this.path} ${this.version}`;
  }
}

/** The first line of an HTTP response: `version code reason` (`HTTP/1.1 200 OK`). */
export class ResponseStartLine {
  /**
   * @param version - e.g. `"HTTP/1.1"`; `HTTPConnection.writeHeaders` writes HTTP/1.1 anyway.
   * @param code - the status code, e.g. 200.
   * @param reason - the reason phrase; may be empty.
   */
  constructor(
    readonly version: string,
    readonly code: number,
    readonly reason: string,
  ) {}

  /** The line as sent: `HTTP/1.1 200 OK`. */
  toString(): string {
    return `${this.version} ${this.code} ${this.reason}`;
  }
}

/**
 * Parses an HTTP/1.x request line, strictly: a token method, one SP, a target without
 * control characters or spaces, one SP, and `HTTP/1.<digit>`.
 *
 * @example
 * ```ts
 * parseRequestStartLine("GET /foo HTTP/1.1"); // RequestStartLine { method: "GET", path: "/foo", version: "HTTP/1.1" }
 * ```
 * @throws HTTPInputError "Malformed HTTP request line", or "Unexpected HTTP version" for
 *   a well-formed line of another major version (`HTTP/2.0`).
 */
export function parseRequestStartLine(line: string): RequestStartLine {
  const match = REQUEST_LINE_RE.exec(line);
  if (match === null) {
    throw new HTTPInputError(`Malformed HTTP request line ${quoteForMessage(line)}`);
  }
  const version = match[3]!;
  if (!version.startsWith("HTTP/1")) {
    throw new HTTPInputError(`Unexpected HTTP version ${quoteForMessage(version)}`);
  }
  return new RequestStartLine(match[1]!, match[2]!, version);
}

/**
 * Parses an HTTP/1.x status line: `HTTP/1.<digit>`, SP, three digits, SP, and an optional
 * reason phrase (the SP after the code is required, as RFC 9112 says).
 *
 * @example
 * ```ts
 * parseResponseStartLine("HTTP/1.1 200 OK"); // ResponseStartLine { version: "HTTP/1.1", code: 200, reason: "OK" }
 * ```
 * @throws HTTPInputError "Error parsing response start line", or "Unexpected HTTP version".
 */
export function parseResponseStartLine(line: string): ResponseStartLine {
  const match = STATUS_LINE_RE.exec(line);
  if (match === null) {
    throw new HTTPInputError(`Error parsing response start line ${quoteForMessage(line)}`);
  }
  const version = match[1]!;
  if (!version.startsWith("HTTP/1")) {
    throw new HTTPInputError(`Unexpected HTTP version ${quoteForMessage(version)}`);
  }
  return new ResponseStartLine(version, Number(match[2]), match[3] ?? "");
}

/**
 * Status code → standard reason phrase (Python's `http.client.responses`, as Tornado uses).
 * Look up with a fallback: `responses[code] ?? "Unknown"`.
 */
export const responses: Readonly<Record<number, string>> = Object.freeze({
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request-URI Too Long",
  415: "Unsupported Media Type",
  416: "Requested Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a Teapot",
  421: "Misdirected Request",
  422: "Unprocessable Entity",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
});
