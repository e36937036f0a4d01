// The ceiling: raw net, a fixed reply per "\r\n\r\n" seen, no parsing at all.
import { createServer } from "node:net";

const port = Number(process.argv[2] ?? 8003);
const REPLY = Buffer.from(
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!",
);
createServer((socket) => {
  let tail = "";
  socket.on("data", (chunk) => {
    const text = tail + chunk.toString("latin1");
    let count = 0;
    let from = 0;
    for (;;) {
      const i = text.indexOf("\r\n\r\n", from);
      if (i < 0) break;
      count++;
      from = i + 4;
    }
    tail = text.slice(from);
    if (count === 1) socket.write(REPLY);
    else if (count > 1) socket.write(Buffer.concat(Array(count).fill(REPLY)));
  });
  socket.on("error", () => {});
}).listen(port, "127.0.0.1", () => console.log("ready"));
