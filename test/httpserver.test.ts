// HTTPServer behaviour over raw sockets: keep-alive, pipelining, HTTP/1.0, chunked, HEAD,
// xheaders, Unix sockets, TLS, output framing errors, streaming delegates, graceful close.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { HTTP1Connection } from "../src/http1connection.js";
import { HTTPServer } from "../src/httpserver.js";
import {
  HTTPHeaders,
  type HTTPMessageDelegate,
  type HTTPConnection,
  HTTPOutputError,
  type HTTPServerRequest,
  ResponseStartLine,
  RequestStartLine,
} from "../src/httputil.js";
import { appLog, genLog } from "../src/log.js";
import { bindUnixSocket } from "../src/netutil.js";
import { ExpectLog } from "../src/testing.js";
import { answerJson, echoOf, listenLocal, startEchoServer } from "./helpers/httpserver.js";
import { fixture } from "./helpers/paths.js";
import { streamAndPeer } from "./helpers/network.js";
import { rawExchange } from "./helpers/rawhttp.js";

const OK = new ResponseStartLine("HTTP/1.1", 200, "OK");

/** A connected raw socket with a queue of received bytes, for multi-step exchanges. */
class RawClient {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]);
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Reads one response with a Content-Length or chunked body (or none for HEAD/204/304). */
  async readResponse(
    options: { head?: boolean } = {},
  ): Promise<{ status: number; headers: Map<string, string>; body: Buffer }> {
    for (;;) {
      const text = this.#buffer.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const lines = text.slice(0, end).split("\r\n");
        const status = Number(lines[0]!.split(" ")[1]);
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const i = line.indexOf(":");
          headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
        }
        const bodyStart = end + 4;
        if (options.head || status === 204 || status === 304 || (status >= 100 && status < 200)) {
          this.#buffer = this.#buffer.subarray(bodyStart);
          return { status, headers, body: Buffer.alloc(0) };
        }
        const cl = headers.get("content-length");
        if (cl !== undefined) {
          const n = Number(cl);
          if (this.#buffer.length >= bodyStart + n) {
            const body = this.#buffer.subarray(bodyStart, bodyStart + n);
            this.#buffer = this.#buffer.subarray(bodyStart + n);
            return { status, headers, body };
          }
        } else if (headers.get("transfer-encoding") === "chunked") {
          const rest = this.#buffer.subarray(bodyStart).toString("latin1");
          const parts: string[] = [];
          let pos = 0;
          let done = false;
          for (;;) {
            const le = rest.indexOf("\r\n", pos);
            if (le < 0) break;
            const size = Number.parseInt(rest.slice(pos, le), 16);
            if (rest.length < le + 2 + size + 2) break;
            if (size === 0) {
              pos = le + 4;
              done = true;
              break;
            }
            parts.push(rest.slice(le + 2, le + 2 + size));
            pos = le + 2 + size + 2;
          }
          if (done) {
            this.#buffer = this.#buffer.subarray(bodyStart + pos);
            return { status, headers, body: Buffer.from(parts.join(""), "latin1") };
          }
        } else if (this.closed) {
          const body = this.#buffer.subarray(bodyStart);
          this.#buffer = Buffer.alloc(0);
          return { status, headers, body };
        }
      }
      if (this.closed)
        throw new Error(`connection closed; buffered ${JSON.stringify(text.slice(0, 200))}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }
}

describe("keep-alive", () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const f of cleanup) await f();
  });
  async function server(options = {}) {
    const s = await startEchoServer(options);
    cleanup.push(() => s.close());
    return s;
  }
  async function client(port: number) {
    const c = await RawClient.open(port);
    cleanup.push(() => c.close());
    return c;
  }

  test("two requests on one connection [test_two_requests]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(JSON.parse((await c.readResponse()).body.toString()).uri, "/1");
    c.write("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(JSON.parse((await c.readResponse()).body.toString()).uri, "/2");
    assert.equal(c.closed, false);
  });

  test("Connection: close is answered and honoured [test_request_close]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const r = await c.readResponse();
    assert.equal(r.headers.get("connection"), "close");
    await c.waitClosed();
  });

  test("HTTP/1.0 closes after the response [test_http10]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write("GET / HTTP/1.0\r\n\r\n");
    const r = await c.readResponse();
    assert.equal(r.status, 200);
    assert.equal(r.headers.has("connection"), false);
    await c.waitClosed();
  });

  test("HTTP/1.0 keep-alive is honoured [test_http10_keepalive]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const r = await c.readResponse();
    assert.equal(r.headers.get("connection"), "Keep-Alive");
    c.write("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal(JSON.parse((await c.readResponse()).body.toString()).uri, "/b");
  });

  test("HTTP/1.0 keep-alive with extra CRLF between requests [test_http10_keepalive_extra_crlf]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write("POST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx\r\n");
    assert.equal((await c.readResponse()).status, 200);
    c.write("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal(JSON.parse((await c.readResponse()).body.toString()).uri, "/b");
  });

  test("pipelined requests are answered in order [test_pipelined_requests]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write(Array.from({ length: 20 }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""));
    for (let i = 0; i < 20; i++) {
      assert.equal(JSON.parse((await c.readResponse()).body.toString()).uri, `/${i}`);
    }
  });

  test("a client that sends pipelined requests and leaves causes no error [test_pipelined_cancel]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
    c.close();
    // The server must notice the close without logging an error (an error log fails the file).
    const c2 = await client(s.port);
    c2.write("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await c2.readResponse()).status, 200);
  });

  test("a chunked POST then a GET on one connection [test_keepalive_chunked]", async () => {
    const s = await server();
    const c = await client(s.port);
    c.write(
      "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert.equal(JSON.parse((await c.readResponse()).body.toString()).body, "abc");
    c.write("GET /g HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(JSON.parse((await c.readResponse()).body.toString()).uri, "/g");
  });

  test("HEAD gets headers but no chunked body, and the connection stays usable [test_keepalive_chunked_head_no_body]", async () => {
    const s = await startEchoServer({}, (request) => {
      const connection = request.connection!;
      void connection.writeHeaders(OK, new HTTPHeaders({ "Content-Type": "text/plain" }));
      if (request.method !== "HEAD") void connection.write(Buffer.from("body"));
      connection.finish();
    });
    cleanup.push(() => s.close());
    const c = await client(s.port);
    c.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    const r = await c.readResponse({ head: true });
    assert.equal(r.headers.has("transfer-encoding"), false);
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const g = await c.readResponse();
    assert.equal(g.headers.get("transfer-encoding"), "chunked");
    assert.equal(g.body.toString(), "body");
  });

  /**
   * Runs `respond` for a request whose client has left (and the server has seen it go), and
   * resolves once `respond` has run.
   */
  async function answerAfterClientLeft(respond: (request: HTTPServerRequest) => void) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const s = await startEchoServer({}, async (request) => {
      await released;
      respond(request);
      finished();
    });
    cleanup.push(() => s.close());
    const c = await client(s.port);
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    while (s.seen.length === 0) await new Promise((r) => setImmediate(r));
    c.close();
    await new Promise((r) => c.socket.once("close", r));
    while (s.server.connectionCount > 0) await new Promise((r) => setImmediate(r));
    release();
    await done;
  }

  test("a response finished after the client left logs nothing [test_finish_while_closed]", async () => {
    await answerAfterClientLeft((request) => answerJson(request, { late: true }));
  });

  test("writes after the client left, their Promises ignored, are no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    cleanup.push(() => process.off("unhandledRejection", onUnhandled));
    await answerAfterClientLeft((request) => {
      const connection = request.connection!;
      // As a careless application does: no await, no catch.
      void connection.writeHeaders(
        OK,
        new HTTPHeaders({ "Content-Length": "2" }),
        Buffer.from("hi"),
      );
      void connection.write(Buffer.from("more"));
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  });

  test("a client that leaves mid-download causes no error [test_cancel_during_download]", async () => {
    const big = Buffer.alloc(8 << 20, "d");
    const s = await startEchoServer({}, async (request) => {
      const connection = request.connection!;
      await connection
        .writeHeaders(OK, new HTTPHeaders({ "Content-Length": String(big.length) }))
        .catch(() => {});
      await connection.write(big).catch(() => {});
      try {
        connection.finish();
      } catch {
        // The stream closed under us: the Content-Length check may throw, which is expected.
      }
    });
    cleanup.push(() => s.close());
    const c = await client(s.port);
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise<void>((resolve) => c.socket.once("data", () => resolve()));
    c.close();
  });
});

describe("request parsing through the server", () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const f of cleanup) await f();
  });

  test("empty query values are kept [test_empty_query_string]", async () => {
    let args: Map<string, Buffer[]> | undefined;
    const s = await startEchoServer({}, (request) => {
      args = request.arguments;
      answerJson(request, {});
    });
    cleanup.push(() => s.close());
    await rawExchange(s.port, "GET /echo?foo=&foo= HTTP/1.1\r\nHost: x\r\n\r\n", {
      until: (d) => d.includes("{}"),
    });
    assert.deepEqual(args!.get("foo")!.map(String), ["", ""]);
  });

  test("a double slash path is left alone [test_double_slash]", async () => {
    const s = await startEchoServer({});
    cleanup.push(() => s.close());
    const r = await rawExchange(s.port, "GET //doubleslash HTTP/1.1\r\nHost: x\r\n\r\n", {
      until: (d) => d.includes("}"),
    });
    assert.match(r.data.toString(), /"uri":"\/\/doubleslash"/);
  });

  test("a multipart form over the wire is parsed [test_multipart_form]", async () => {
    let request: HTTPServerRequest | undefined;
    const s = await startEchoServer({}, (r) => {
      request = r;
      answerJson(r, {});
    });
    cleanup.push(() => s.close());
    const body = [
      "--1234567890",
      'Content-Disposition: form-data; name="header"',
      "",
      "\u00e1",
      "--1234567890",
      'Content-Disposition: form-data; name="files"; filename="\u00f3"',
      "",
      "\u00fa",
      "--1234567890--",
      "",
    ].join("\r\n");
    const bytes = Buffer.from(body, "utf8");
    await rawExchange(
      s.port,
      Buffer.concat([
        Buffer.from(
          `POST /multipart HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=1234567890\r\nContent-Length: ${bytes.length}\r\n\r\n`,
        ),
        bytes,
      ]),
      { until: (d) => d.includes("{}") },
    );
    assert.equal(request!.bodyArguments.get("header")![0]!.toString("utf8"), "\u00e1");
    const file = request!.files.get("files")![0]!;
    assert.equal(file.filename, "\u00f3");
    assert.equal(file.body.toString("utf8"), "\u00fa");
  });

  test("bare LF line ends are accepted in lenient mode [test_newlines]", async () => {
    const s = await startEchoServer({ lenient: true });
    cleanup.push(() => s.close());
    for (const newline of ["\r\n", "\n"]) {
      const r = await rawExchange(s.port, `GET /hello HTTP/1.0${newline}${newline}`, {
        until: (d) => d.includes("}"),
      });
      assert.deepEqual(r.statuses, [200]);
    }
  });

  test("protocol can be forced [test_manual_protocol]", async () => {
    let protocol = "";
    const s = await startEchoServer({ protocol: "https" }, (r) => {
      protocol = r.protocol;
      answerJson(r, {});
    });
    cleanup.push(() => s.close());
    await rawExchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", {
      until: (d) => d.includes("{}"),
    });
    assert.equal(protocol, "https");
  });
});

describe("xheaders", () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const f of cleanup) await f();
  });

  async function seen(
    options: object,
    headers: string,
  ): Promise<{ remoteIp: string | null; protocol: string }> {
    let out = { remoteIp: null as string | null, protocol: "" };
    const s = await startEchoServer(options, (r) => {
      out = { remoteIp: r.remoteIp, protocol: r.protocol };
      answerJson(r, {});
    });
    cleanup.push(() => s.close());
    await rawExchange(s.port, `GET / HTTP/1.1\r\nHost: x\r\n${headers}\r\n`, {
      until: (d) => d.includes("{}"),
    });
    return out;
  }

  test("X-Real-Ip and X-Forwarded-For set remoteIp; invalid ones are ignored [test_ip_headers]", async () => {
    assert.equal((await seen({ xheaders: true }, "X-Real-IP: 4.4.4.4\r\n")).remoteIp, "4.4.4.4");
    assert.equal(
      (await seen({ xheaders: true }, "X-Forwarded-For: 4.4.4.4, 5.5.5.5\r\n")).remoteIp,
      "5.5.5.5",
    );
    assert.equal(
      (await seen({ xheaders: true }, "X-Real-IP: 2620:0:1cfe:face:b00c::3\r\n")).remoteIp,
      "2620:0:1cfe:face:b00c::3",
    );
    assert.equal(
      (await seen({ xheaders: true }, "X-Real-IP: 4.4.4.4<script>\r\n")).remoteIp,
      "127.0.0.1",
    );
    assert.equal((await seen({ xheaders: false }, "X-Real-IP: 4.4.4.4\r\n")).remoteIp, "127.0.0.1");
  });

  test("trusted downstream proxies are skipped [test_trusted_downstream]", async () => {
    const r = await seen(
      { xheaders: true, trustedDownstream: ["5.5.5.5"] },
      "X-Forwarded-For: 4.4.4.4, 5.5.5.5\r\n",
    );
    assert.equal(r.remoteIp, "4.4.4.4");
  });

  test("X-Scheme and X-Forwarded-Proto set the protocol [test_scheme_headers]", async () => {
    assert.equal((await seen({ xheaders: true }, "X-Scheme: https\r\n")).protocol, "https");
    assert.equal(
      (await seen({ xheaders: true }, "X-Forwarded-Proto: https\r\n")).protocol,
      "https",
    );
    assert.equal(
      (await seen({ xheaders: true }, "X-Forwarded-Proto: https, http\r\n")).protocol,
      "http",
    );
    assert.equal(
      (await seen({ xheaders: true }, "X-Forwarded-Proto: gopher\r\n")).protocol,
      "http",
    );
  });
});

describe("Unix sockets", () => {
  test("requests over a Unix socket [test_unix_socket] [test_unix_socket_bad_request]", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tts-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "http.sock");
    const server = new HTTPServer((r) => answerJson(r, { remoteIp: r.remoteIp }));
    server.addSocket(await bindUnixSocket(path));
    t.after(async () => {
      server.stop();
      await server.closeAllConnections();
    });
    const talk = (bytes: string) =>
      new Promise<string>((resolve) => {
        const s = connect(path);
        let data = "";
        s.on("data", (d) => {
          data += d.toString("latin1");
          if (data.includes("}") || data.includes("Content-Length: 0")) s.destroy();
        });
        s.on("close", () => resolve(data));
        s.write(bytes);
      });
    const ok = await talk("GET /hello HTTP/1.0\r\n\r\n");
    assert.match(ok, /^HTTP\/1\.1 200/);
    assert.match(ok, /"remoteIp":"0\.0\.0\.0"/);
    using _log = new ExpectLog(genLog, /Malformed HTTP message from/);
    const bad = await talk("garbage\r\n\r\n");
    assert.match(bad, /^HTTP\/1\.1 400/);
  });
});

describe("TLS", () => {
  const cert = readFileSync(fixture("test.crt"));
  const key = readFileSync(fixture("test.key"));

  async function tlsRequest(port: number, request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () =>
        s.write(request),
      );
      let data = "";
      s.on("data", (d) => {
        data += d.toString("latin1");
        if (/\r\n\r\n[\s\S]*\}$/.test(data)) s.end();
      });
      s.on("close", () => resolve(data));
      s.on("error", reject);
    });
  }

  test("GET and a large POST over TLS [test_ssl] [test_large_post]", async (t) => {
    const s = await startEchoServer({ ssl: { cert, key } });
    t.after(() => s.close());
    const get = await tlsRequest(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.match(get, /^HTTP\/1\.1 200/);
    const body = "A".repeat(5000);
    const post = await tlsRequest(
      s.port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.match(post, /"body":"A{5000}"/);
  });

  test("plain HTTP to a TLS port is dropped [test_non_ssl_request]", async (t) => {
    const s = await startEchoServer({ ssl: { cert, key } });
    t.after(() => s.close());
    using _log = new ExpectLog(genLog, /./, { required: false });
    const r = await rawExchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { waitMs: 5000 });
    assert.equal(r.closed, true);
    assert.doesNotMatch(r.data.toString("latin1"), /HTTP\/1\.1 200/);
    assert.deepEqual(s.seen, []);
  });
});

describe("output framing", () => {
  test("writing more or less than Content-Length is an error and closes [test_invalid_output_content_length]", async (t) => {
    const errors: string[] = [];
    const s = await startEchoServer({}, (request) => {
      const connection = request.connection!;
      const path = request.path;
      try {
        if (path === "/more") {
          void connection
            .writeHeaders(OK, new HTTPHeaders({ "Content-Length": "2" }))
            .catch(() => {});
          void connection.write(Buffer.from("abc")).catch(() => {});
        } else {
          void connection
            .writeHeaders(OK, new HTTPHeaders({ "Content-Length": "10" }))
            .catch(() => {});
          void connection.write(Buffer.from("abc")).catch(() => {});
          connection.finish();
        }
      } catch (error) {
        errors.push((error as Error).message);
      }
    });
    t.after(() => s.close());
    const more = await rawExchange(s.port, "GET /more HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(more.closed, true);
    const less = await rawExchange(s.port, "GET /less HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(less.closed, true);
    assert.deepEqual(errors, [
      "Tried to write more data than Content-Length",
      "Tried to write 7 bytes less than Content-Length",
    ]);
  });

  test("each response carries exactly its own header lines, however the fields repeat or change", async (t) => {
    // Responses that repeat the last one's fields, change one value (same length or not),
    // reorder them, add a repeated name, or have none, in turn on one connection; the head of
    // each must be exactly its own fields.
    const sets: Array<Array<[string, string]>> = [
      [
        ["Content-Type", "text/plain"],
        ["X-A", "1"],
      ],
      [
        ["Content-Type", "text/plain"],
        ["X-A", "1"],
      ],
      [
        ["Content-Type", "text/plain"],
        ["X-A", "2"],
      ],
      [
        ["Content-Type", "text/html"],
        ["X-A", "2"],
      ],
      [
        ["X-A", "2"],
        ["Content-Type", "text/html"],
      ],
      [
        ["X-A", "2"],
        ["X-A", "3"],
      ],
      [
        ["X-A", "2"],
        ["X-A", "3"],
      ],
      [],
      [["Content-Type", "text/plain"]],
      [
        ["Content-Type", "text/plain"],
        ["X-A", "1"],
      ],
    ];
    const s = await startEchoServer({}, (request) => {
      const index = Number(request.path.slice(1));
      const headers = new HTTPHeaders(
        sets[index]!.map(([n, v]) => [n, String(v)] as [string, string]),
      );
      headers.add("Content-Length", "1");
      void request.connection!.writeHeaders(OK, headers, Buffer.from(String(index)));
      request.connection!.finish();
    });
    t.after(() => s.close());
    const requests = sets.map((_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join("");
    const expected = sets
      .map(
        (fields, i) =>
          `HTTP/1.1 200 OK\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join("")}` +
          `Content-Length: 1\r\n\r\n${i}`,
      )
      .join("");
    const r = await rawExchange(s.port, requests, {
      until: (d) => d.length >= Buffer.byteLength(expected),
    });
    assert.equal(r.data.toString("latin1"), expected);
  });

  test("CR, LF or NUL in an outgoing header throws and writes nothing", async (t) => {
    let thrown: unknown;
    const s = await startEchoServer({}, (request) => {
      try {
        void request.connection!.writeHeaders(OK, new HTTPHeaders([["X-Bad", "a\r\nInjected: 1"]]));
      } catch (error) {
        thrown = error;
        answerJson(request, { ok: 1 });
      }
    });
    t.after(() => s.close());
    const r = await rawExchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", {
      until: (d) => d.includes("}"),
    });
    assert.ok(thrown instanceof Error);
    assert.doesNotMatch(r.data.toString(), /Injected/);
  });
});

test("requestTime() counts from the request's arrival on a served connection", async (t) => {
  const times: number[] = [];
  const s = await startEchoServer({}, (request) => {
    times.push(request.requestTime());
    setTimeout(() => {
      times.push(request.requestTime());
      answerJson(request, { ok: 1 });
    }, 30);
  });
  t.after(() => s.close());
  const r = await rawExchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.deepEqual(r.statuses, [200]);
  const [atStart, atAnswer] = times as [number, number];
  assert.ok(atStart >= 0 && atStart < 1000, `at the callback: ${atStart} ms`);
  assert.ok(atAnswer >= 29 && atAnswer < 5000, `after a 30 ms timer: ${atAnswer} ms`);
});

describe("characters latin-1 cannot carry", () => {
  test("a header value or reason above U+00FF throws HTTPOutputError and writes nothing", async (t) => {
    // Written as latin-1, U+010D U+010A would lose their high byte and become CR LF.
    const thrown: unknown[] = [];
    const s = await startEchoServer({}, (request) => {
      const connection = request.connection!;
      const headers = new HTTPHeaders({ "Content-Length": "2" });
      headers.set("X-Name", "a\u010d\u010aInjected: 1");
      for (const [line, h] of [
        [OK, headers],
        [new ResponseStartLine("HTTP/1.1", 200, "OK\u010d\u010aInjected: 2"), new HTTPHeaders()],
      ] as const) {
        try {
          void connection.writeHeaders(line, h, Buffer.from("ok"));
        } catch (error) {
          thrown.push(error);
        }
      }
      answerJson(request, { ok: 1 });
    });
    t.after(() => s.close());
    const r = await rawExchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", {
      until: (d) => d.includes("}"),
    });
    assert.equal(thrown.length, 2);
    for (const error of thrown) assert.ok(error instanceof HTTPOutputError, String(error));
    assert.doesNotMatch(r.data.toString("latin1"), /Injected/);
    assert.deepEqual(r.statuses, [200]);
  });

  test("a client request target or header above U+00FF throws HTTPOutputError", async (t) => {
    const [stream] = await streamAndPeer(t);
    const connection = new HTTP1Connection(stream, true);
    assert.throws(
      () =>
        connection.writeHeaders(
          new RequestStartLine("GET", "/\u0120x", "HTTP/1.1"),
          new HTTPHeaders(),
        ),
      HTTPOutputError,
    );
    for (const value of ["\u010d\u010a", `${"a".repeat(100)}\u010d\u010aX: 1`]) {
      const headers = new HTTPHeaders();
      headers.set("X-Name", value);
      assert.throws(
        () => connection.writeHeaders(new RequestStartLine("GET", "/", "HTTP/1.1"), headers),
        HTTPOutputError,
      );
    }
    assert.equal(stream.writeBufferSize, 0);
  });
});

/** A streaming delegate recording the body pieces it receives. */
class StreamingRecorder implements HTTPMessageDelegate {
  readonly chunks: number[] = [];
  constructor(
    readonly connection: HTTPConnection,
    readonly onHeaders?: (connection: HTTP1Connection) => void,
  ) {}
  headersReceived(_s: RequestStartLine | ResponseStartLine, _h: HTTPHeaders): void {
    this.onHeaders?.(this.connection as HTTP1Connection);
  }
  dataReceived(chunk: Buffer): void {
    this.chunks.push(chunk.length);
  }
  finish(): void {
    const body = Buffer.from(JSON.stringify({ chunks: this.chunks }));
    void this.connection
      .writeHeaders(OK, new HTTPHeaders({ "Content-Length": String(body.length) }), body)
      .catch(() => {});
    this.connection.finish();
  }
  onConnectionClose(): void {}
}

describe("streaming delegates", () => {
  async function streamingServer(
    t: { after: (f: () => unknown) => void },
    options: object,
    onHeaders?: (c: HTTP1Connection) => void,
  ) {
    const server = new HTTPServer(
      {
        startRequest: (_server: object, connection: HTTPConnection) =>
          new StreamingRecorder(connection, onHeaders),
        onClose: () => {},
      },
      options,
    );
    const port = await listenLocal(server);
    t.after(async () => {
      server.stop();
      await server.closeAllConnections();
    });
    return port;
  }

  test("body pieces are at most chunkSize bytes [test_regular_body] [test_chunked_body]", async (t) => {
    const port = await streamingServer(t, { chunkSize: 16 });
    const body = "x".repeat(100);
    const r1 = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${body}`,
      { until: (d) => d.includes("]}") },
    );
    const chunks1: number[] = JSON.parse(r1.data.toString().split("\r\n\r\n")[1]!).chunks;
    assert.ok(chunks1.every((n) => n <= 16));
    assert.equal(
      chunks1.reduce((a, b) => a + b, 0),
      100,
    );
    const r2 = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${body}\r\n0\r\n\r\n`,
      { until: (d) => d.includes("]}") },
    );
    const chunks2: number[] = JSON.parse(r2.data.toString().split("\r\n\r\n")[1]!).chunks;
    assert.ok(chunks2.every((n) => n <= 16));
    assert.equal(
      chunks2.reduce((a, b) => a + b, 0),
      100,
    );
  });

  test("a delegate can raise the body limit for one request [test_large_body_streaming_override]", async (t) => {
    const port = await streamingServer(t, { maxBodySize: 10 }, (connection) =>
      connection.setMaxBodySize(1000),
    );
    const r = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${"y".repeat(100)}`,
      {
        until: (d) => d.includes("]}"),
      },
    );
    assert.deepEqual(r.statuses, [200]);
  });

  test("without an override a streamed body over the limit gets 413 [test_large_body_streaming]", async (t) => {
    const port = await streamingServer(t, { maxBodySize: 10 });
    using _log = new ExpectLog(genLog, /Malformed HTTP message/);
    const r = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${"y".repeat(100)}`,
    );
    assert.deepEqual(r.statuses, [413]);
  });
});

describe("shutdown", () => {
  test("close() closes idle connections, lets an in-flight request finish, then resolves", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const slowStarted = new Promise<void>((r) => (entered = r));
    const server = new HTTPServer(async (request) => {
      if (request.path === "/slow") {
        entered();
        await gate;
      }
      answerJson(request, echoOf(request));
    });
    const port = await listenLocal(server);
    const idle = await RawClient.open(port);
    idle.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    await idle.readResponse();
    const busy = await RawClient.open(port);
    busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await slowStarted;
    const closing = server.close({ timeout: 5000 });
    await idle.waitClosed();
    assert.equal(busy.closed, false);
    release();
    const r = await busy.readResponse();
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("connection"), "close");
    await closing;
    await busy.waitClosed();
    assert.equal(server.connectionCount, 0);
  });

  test("a failing async request callback is logged and its connection closed, the server lives on", async (t) => {
    const s = await startEchoServer({}, async (request) => {
      if (request.path === "/fail") throw new Error("async handler failed");
      answerJson(request, {});
    });
    t.after(() => s.close());
    using expect = new ExpectLog(appLog, /Uncaught exception in request callback for \/fail/);
    const r = await rawExchange(s.port, "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", { waitMs: 5000 });
    assert.equal(r.closed, true);
    assert.deepEqual(r.statuses, []);
    assert.equal(expect.matched, 1);
    const ok = await rawExchange(s.port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", {
      until: (d) => d.includes("{}"),
    });
    assert.deepEqual(ok.statuses, [200]);
  });

  test("an exception in a request callback is logged and the connection closed", async (t) => {
    const s = await startEchoServer({}, () => {
      throw new Error("handler failed");
    });
    t.after(() => s.close());
    using _log = new ExpectLog(appLog, /./, { required: false });
    using _log2 = new ExpectLog(genLog, /Uncaught exception/, { required: false });
    const r = await rawExchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { waitMs: 5000 });
    assert.equal(r.closed, true);
  });
});
