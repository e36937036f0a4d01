/**
 * HTTP utility code shared by clients and servers: Tornado's `tornado.httputil`.
 *
 * - {@link HTTPHeaders}: case-insensitive, multi-valued headers with a strict RFC 9110 parser.
 * - {@link HTTPServerRequest}: one request as handlers see it (method, uri, headers, body,
 *   arguments, files, cookies).
 * - The interfaces between layers: {@link HTTPServerConnectionDelegate} (what `HTTPServer`
 *   feeds), {@link HTTPMessageDelegate} (what `HTTP1Connection` drives while reading a
 *   message) and {@link HTTPConnection} (what a response is written through).
 * - Start lines: {@link RequestStartLine}, {@link ResponseStartLine},
 *   {@link parseRequestStartLine}, {@link parseResponseStartLine}, {@link responses}.
 * - Bodies: {@link parseBodyArguments}, {@link parseMultipartFormData}, {@link HTTPFile}, and
 *   their limits ({@link ParseBodyConfig}, {@link setParseBodyConfig}).
 * - Helpers: {@link urlConcat}, {@link formatTimestamp}, {@link parseCookie},
 *   {@link splitHostAndPort}, {@link encodeUsernamePassword}, {@link qsToQsl},
 *   {@link parseRequestRange}, {@link getContentRange}, {@link parseHeader}.
 * - Errors: {@link HTTPInputError} (bad input from the peer), {@link HTTPOutputError}.
 *
 * Everything that parses network input throws `HTTPInputError` with a clear message, never
 * another exception, and runs in time linear in its input.
 */

export {
  type ArgumentMap,
  encodeHeader,
  type FileMap,
  getParseBodyConfig,
  HTTPFile,
  ParseBodyConfig,
  ParseMultipartConfig,
  ParseUrlencodedConfig,
  parseBodyArguments,
  parseHeader,
  parseMultipartFormData,
  setParseBodyConfig,
} from "./httputil/body.js";
export { parseCookie } from "./httputil/cookies.js";
export { HTTPInputError, HTTPOutputError } from "./httputil/errors.js";
export {
  DEFAULT_MAX_HEADERS,
  type HeaderParseOptions,
  HTTPHeaders,
  type HTTPHeadersInit,
  isFieldValue,
  isToken,
  normalizeHeaderName,
} from "./httputil/headers.js";
export {
  encodeUsernamePassword,
  formatTimestamp,
  getContentRange,
  parseContentRange,
  parseRequestRange,
  qsParseKeepBlank,
  qsToQsl,
  splitHostAndPort,
  type UrlArgs,
  urlConcat,
} from "./httputil/misc.js";
export {
  type HTTPConnection,
  type HTTPConnectionContext,
  type HTTPMessageDelegate,
  type HTTPServerConnectionDelegate,
  HTTPServerRequest,
  type HTTPServerRequestOptions,
  isHTTPServerConnectionDelegate,
  isValidHostHeader,
} from "./httputil/request.js";
export {
  isReasonPhrase,
  parseRequestStartLine,
  parseResponseStartLine,
  RequestStartLine,
  ResponseStartLine,
  responses,
} from "./httputil/startline.js";
