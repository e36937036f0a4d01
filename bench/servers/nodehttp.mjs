// node:http with the same replies as ours.mjs.
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8002);
const HELLO = Buffer.from("Hello, world!");
createServer((req, res) => {
  if (req.url === "/json") {
    const body = JSON.stringify({ message: "Hello, world!", n: 42, ok: true });
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": HELLO.length });
  res.end(HELLO);
}).listen(port, "127.0.0.1", () => console.log("ready"));
