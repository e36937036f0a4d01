// A child-process HTTPServer for the 1 GiB streaming tests: POST /upload counts a streamed
// body without keeping it; GET /download?size=N streams N bytes with flow control. Prints its
// port on stdout; the test reads its RSS from /proc.
import { HTTPServer } from "../../src/httpserver.js";
import {
  HTTPHeaders,
  type HTTPConnection,
  type HTTPMessageDelegate,
  type HTTPServerConnectionDelegate,
  type RequestStartLine,
  ResponseStartLine,
} from "../../src/httputil.js";

const OK = new ResponseStartLine("HTTP/1.1", 200, "OK");
const PIECE = Buffer.alloc(64 * 1024, "z");

class Streamer implements HTTPMessageDelegate {
  #path = "";
  #received = 0;
  constructor(readonly connection: HTTPConnection) {}
  headersReceived(startLine: RequestStartLine): void {
    this.#path = startLine.path;
  }
  dataReceived(chunk: Buffer): void {
    this.#received += chunk.length;
  }
  finish(): void {
    void this.#respond();
  }
  async #respond(): Promise<void> {
    const connection = this.connection;
    if (this.#path.startsWith("/download")) {
      const size = Number(new URL(this.#path, "http://x").searchParams.get("size"));
      await connection.writeHeaders(OK, new HTTPHeaders({ "Content-Length": String(size) }));
      for (let sent = 0; sent < size; sent += PIECE.length) {
        // Awaiting each write is the flow control: nothing piles up in memory.
        await connection.write(
          size - sent >= PIECE.length ? PIECE : PIECE.subarray(0, size - sent),
        );
      }
    } else {
      const body = Buffer.from(String(this.#received));
      await connection.writeHeaders(
        OK,
        new HTTPHeaders({ "Content-Length": String(body.length) }),
        body,
      );
    }
    connection.finish();
  }
  onConnectionClose(): void {}
}

const delegate: HTTPServerConnectionDelegate = {
  startRequest: (_server, connection) => new Streamer(connection),
  onClose: () => {},
};
const server = new HTTPServer(delegate, { maxBodySize: 2 ** 31 });
await server.listen(0, "127.0.0.1");
process.stdout.write(`${server.addresses()[0]!.port}\n`);
