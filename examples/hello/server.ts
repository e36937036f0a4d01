// The smallest tornado-ts HTTP server: an HTTPServer with a plain request callback, on
// http://localhost:8888 (or the port given as the first argument). Until the web framework
// lands this is what `npm start` runs.
//
//   npm run build && node dist/examples/hello/server.js [port]
import { HTTPServer } from "tornado-ts/httpserver";
import { HTTPHeaders, ResponseStartLine } from "tornado-ts/httputil";
import { accessLog } from "tornado-ts/log";

const port = Number(process.argv[2] ?? process.env["PORT"] ?? 8888);

const server = new HTTPServer((request) => {
  const started = performance.now();
  const name = request.queryArguments.get("name")?.[0]?.toString("utf8") ?? "world";
  const body = Buffer.from(`Hello, ${name}!\n`);
  const connection = request.connection!;
  void connection.writeHeaders(
    new ResponseStartLine("HTTP/1.1", 200, "OK"),
    new HTTPHeaders({
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Length": String(body.length),
    }),
    request.method === "HEAD" ? undefined : body,
  );
  connection.finish();
  accessLog.info(
    "200 %s %s (%s) %sms",
    request.method,
    request.uri,
    request.remoteIp,
    (performance.now() - started).toFixed(2),
  );
});

await server.listen(port);
const bound = server.addresses()[0]!.port;
console.log(`Listening on http://localhost:${bound}/ (try /?name=you); Ctrl-C to stop`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close({ timeout: 5000 }).then(() => process.exit(0));
  });
}
