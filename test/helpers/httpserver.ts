// An HTTPServer on 127.0.0.1 with an ephemeral port whose callback answers with a JSON echo
// of what it parsed: method, uri, version, headers (lowercase names, values joined by ", ")
// and body (latin1). `seen` lists the URIs that reached the application.
import type { AddressInfo } from "node:net";
import { HTTPServer, type HTTPServerOptions, type RequestCallback } from "../../src/httpserver.js";
import { HTTPHeaders, type HTTPServerRequest, ResponseStartLine } from "../../src/httputil.js";

export interface EchoServer {
  server: HTTPServer;
  port: number;
  seen: string[];
  close(): Promise<void>;
}

/** What the echo callback answers for a request. */
export function echoOf(request: HTTPServerRequest): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers.getAll()) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return {
    method: request.method,
    uri: request.uri,
    version: request.version,
    headers,
    body: request.body.toString("latin1"),
  };
}

/** Answers `request` with a 200 and `body` as JSON. */
export function answerJson(request: HTTPServerRequest, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), "latin1");
  const connection = request.connection!;
  // A HEAD response carries the headers of the GET response and no body.
  void connection
    .writeHeaders(
      new ResponseStartLine("HTTP/1.1", 200, "OK"),
      new HTTPHeaders({
        "Content-Type": "application/json",
        "Content-Length": String(body.length),
      }),
      request.method === "HEAD" ? undefined : body,
    )
    .catch(() => {});
  connection.finish();
}

/** Starts `server` on 127.0.0.1 and an ephemeral port. */
export async function listenLocal(server: HTTPServer): Promise<number> {
  await server.listen(0, "127.0.0.1");
  const address = server.addresses()[0] as AddressInfo;
  return address.port;
}

/** An HTTPServer whose callback answers with {@link echoOf}, or `callback` if given. */
export async function startEchoServer(
  options: HTTPServerOptions = {},
  callback?: RequestCallback,
): Promise<EchoServer> {
  const seen: string[] = [];
  const server = new HTTPServer((request) => {
    seen.push(request.uri);
    if (callback !== undefined) return callback(request);
    answerJson(request, echoOf(request));
    return undefined;
  }, options);
  const port = await listenLocal(server);
  return {
    server,
    port,
    seen,
    async close() {
      server.stop();
      await server.closeAllConnections();
    },
  };
}
