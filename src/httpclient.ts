/**
 * Non-blocking HTTP client: Tornado's `tornado.httpclient`.
 *
 * - {@link AsyncHTTPClient}: the configurable client interface. `new AsyncHTTPClient()` builds
 *   a {@link SimpleAsyncHTTPClient} unless `AsyncHTTPClient.configure()` chose another
 *   implementation (`UndiciAsyncHTTPClient` from `tornado-ts/undici_httpclient`).
 * - {@link HTTPRequest}, {@link HTTPResponse}: one request and its response.
 * - Errors: {@link HTTPClientError} (Tornado's `HTTPError`; `code` is the HTTP status, 599
 *   when no response arrived), {@link HTTPTimeoutError}, {@link HTTPStreamClosedError},
 *   {@link HTTPTooManyRedirectsError}, {@link HTTPProxyError}.
 *
 * Durations are milliseconds (`requestTimeout: 20_000` is Tornado's 20 s default).
 *
 * @example
 * ```ts
 * import { AsyncHTTPClient, HTTPClientError } from "tornado-ts/httpclient";
 * const client = new AsyncHTTPClient();
 * try {
 *   const response = await client.fetch("http://127.0.0.1:8888/");
 *   console.log(response.text);
 * } catch (error) {
 *   if (error instanceof HTTPClientError) console.log("HTTP error", error.code);
 *   else throw error;
 * } finally {
 *   client.close();
 * }
 * ```
 */

export {
  AsyncHTTPClient,
  type AsyncHTTPClientOptions,
  type AuthMode,
  type BodyWriter,
  digestAuthorization,
  type FetchOptions,
  HTTPClientError,
  HTTPError,
  HTTPProxyError,
  HTTPRequest,
  type HTTPRequestOptions,
  HTTPResponse,
  type HTTPResponseInit,
  HTTPStreamClosedError,
  HTTPTimeoutError,
  HTTPTooManyRedirectsError,
  REQUEST_DEFAULTS,
  type TimeInfo,
  VERSION,
} from "./httpclient/base.js";
// Loading the simple client registers it as the default implementation.
export { SimpleAsyncHTTPClient, type SimpleAsyncHTTPClientOptions } from "./simple_httpclient.js";
