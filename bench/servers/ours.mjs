// tornado-ts HTTPServer with a plain request callback: a fixed hello or a small JSON object.
import { HTTPServer } from "tornado-ts/httpserver";
import { HTTPHeaders, ResponseStartLine } from "tornado-ts/httputil";

const port = Number(process.argv[2] ?? 8001);
const HELLO = Buffer.from("Hello, world!");
const OK = new ResponseStartLine("HTTP/1.1", 200, "OK");

const server = new HTTPServer((request) => {
  const connection = request.connection;
  let body = HELLO;
  let type = "text/plain";
  if (request.path === "/json") {
    body = Buffer.from(JSON.stringify({ message: "Hello, world!", n: 42, ok: true }));
    type = "application/json";
  }
  connection.writeHeaders(
    OK,
    new HTTPHeaders({ "Content-Type": type, "Content-Length": String(body.length) }),
    body,
  );
  connection.finish();
});
await server.listen(port, "127.0.0.1");
console.log("ready");
