// The behaviour every AsyncHTTPClient implementation shares (Tornado's HTTPClientCommonTestCase
// and the implementation-independent part of SimpleHTTPClientTestMixin), as one exported suite
// run per implementation against a node:http server with Tornado's test handlers.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  type AsyncHTTPClient,
  HTTPClientError,
  HTTPRequest,
  HTTPResponse,
  HTTPStreamClosedError,
  HTTPTimeoutError,
  HTTPTooManyRedirectsError,
} from "../../src/httpclient.js";
import { HTTPHeaders } from "../../src/httputil.js";

/** Builds a client of the implementation under test. */
export type ClientFactory = (options?: Record<string, unknown>) => AsyncHTTPClient;

/** A node:http server with Tornado's httpclient_test handlers; counts connections. */
export interface TestServer {
  port: number;
  url(path: string): string;
  connections: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

function digestExpected(
  method: string,
  uri: string,
  params: Map<string, string>,
  password: string,
): string {
  const algorithm =
    (params.get("algorithm") ?? "MD5").toUpperCase() === "SHA-256" ? "sha256" : "md5";
  const h = (s: string) => createHash(algorithm).update(s).digest("hex");
  const ha1 = h(`${params.get("username")}:${params.get("realm")}:${password}`);
  const ha2 = h(`${method}:${uri}`);
  return h(
    `${ha1}:${params.get("nonce")}:${params.get("nc")}:${params.get("cnonce")}:${params.get("qop")}:${ha2}`,
  );
}

function authParams(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of header.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) out.set(m[1]!, m[2] ?? m[3]!);
  return out;
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const url = new URL(req.url!, "http://x");
  const q = url.searchParams;
  const path = url.pathname;
  const send = (text: string | Buffer, status = 200, headers: http.OutgoingHttpHeaders = {}) => {
    const data = typeof text === "string" ? Buffer.from(text) : text;
    res.writeHead(status, { "Content-Length": String(data.length), ...headers });
    res.end(req.method === "HEAD" ? undefined : data);
  };
  if (path === "/hello") return send(`Hello ${q.get("name") ?? "world"}!`);
  if (path === "/post") {
    const form = new URLSearchParams(body.toString("latin1"));
    return send(`Post arg1: ${form.get("arg1")}, arg2: ${form.get("arg2")}`);
  }
  if (path === "/chunk") {
    res.write("asdf");
    setImmediate(() => res.end("qwer"));
    return;
  }
  if (path === "/auth") return send(req.headers.authorization ?? "");
  if (path.startsWith("/countdown/")) {
    const n = Number(path.slice("/countdown/".length));
    if (n > 0) return send("", 302, { Location: `/countdown/${n - 1}` });
    return send("Zero");
  }
  if (path === "/echopost") return send(body);
  if (path === "/user_agent") return send(req.headers["user-agent"] ?? "");
  if (path === "/304_with_content_length") {
    res.writeHead(304, { "Content-Length": "42" });
    res.end();
    return;
  }
  if (path === "/all_methods") {
    let text = req.method!;
    if (body.length > 0) text += `\n${body.toString("utf8")}`;
    return send(text);
  }
  if (path === "/redirect") {
    const status = Number(q.get("status") ?? 302);
    const location = q.get("url");
    return send("redirect body", status, location === null ? {} : { Location: location });
  }
  if (path === "/see_other_post") return send("", 303, { Location: "/see_other_get" });
  if (path === "/see_other_get")
    return send(req.method === "GET" && body.length === 0 ? "ok" : "fail");
  if (path === "/echo") {
    return send(
      JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: body.toString("utf8"),
      }),
      200,
      { "Content-Type": "application/json" },
    );
  }
  if (path === "/gzip") {
    const data = gzipSync(Buffer.from("asdfqwer".repeat(100)));
    return send(data, 200, { "Content-Encoding": "gzip" });
  }
  if (path === "/invalid_gzip") {
    return send(Buffer.from("not gzip at all, no"), 200, { "Content-Encoding": "gzip" });
  }
  if (path === "/set_header") {
    return send("", 200, { [q.get("k")!]: q.get("v")! });
  }
  if (path === "/no_content") {
    res.writeHead(204);
    res.end();
    return;
  }
  if (path === "/slow") {
    const timer = setTimeout(() => send("slow"), Number(q.get("ms") ?? 5000));
    res.on("close", () => clearTimeout(timer));
    return;
  }
  if (path === "/stream") {
    const n = Number(q.get("n") ?? 3);
    let i = 0;
    const next = () => {
      if (i === n) return void res.end();
      res.write(`piece${i++};`, () => setImmediate(next));
    };
    next();
    return;
  }
  if (path === "/digest") {
    const algorithm = q.get("algorithm") ?? "MD5";
    const header = req.headers.authorization;
    if (header === undefined || !header.startsWith("Digest ")) {
      return send("", 401, {
        "WWW-Authenticate": `Digest realm="test", nonce="abc123", qop="auth", algorithm=${algorithm}, opaque="op"`,
      });
    }
    const params = authParams(header);
    const ok =
      params.get("response") ===
        digestExpected(req.method!, params.get("uri")!, params, "secret") &&
      params.get("uri") === req.url &&
      params.get("opaque") === "op";
    return send(ok ? `ok ${params.get("username")}` : "bad digest", ok ? 200 : 403);
  }
  send("not found", 404);
}

/** Starts the test server on 127.0.0.1 and an ephemeral port. */
export async function startTestServer(): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  const state: TestServer = {
    port: 0,
    url: (path) => `http://127.0.0.1:${state.port}${path}`,
    connections: 0,
    sockets: new Set(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of state.sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("connection", (socket: Socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.on("close", () => state.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** A raw TCP server: `answer` gets each request head and writes whatever bytes it wants. */
export interface RawServer {
  port: number;
  url(path: string): string;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

export async function rawServer(
  answer: (socket: Socket, head: string, index: number) => void,
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = {
    port: 0,
    url: (path) => `http://127.0.0.1:${state.port}${path}`,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = "";
    socket.on("data", (data: Buffer) => {
      buffer += data.toString("latin1");
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.slice(0, end + 4);
        buffer = buffer.slice(end + 4);
        const length = /content-length: *(\d+)/i.exec(head);
        if (length !== null) buffer = buffer.slice(Number(length[1]));
        state.requests.push(head);
        answer(socket, head, state.requests.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

export function ok(body: string, extra = ""): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** A CONNECT proxy that checks Proxy-Authorization and counts tunnels. */
export async function connectProxy(t: { after: (fn: () => unknown) => void }): Promise<{
  port: number;
  tunnels: string[];
}> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    const onData = (data: Buffer) => {
      head += data.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const [, target] = /^CONNECT (\S+) HTTP\/1\.1\r\n/.exec(head) ?? [];
      if (!/Proxy-Authorization: Basic dXNlcjpwYXNz\r\n/i.test(head)) {
        socket.end("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      tunnels.push(target!);
      const colon = target!.lastIndexOf(":");
      const upstream = connect(Number(target!.slice(colon + 1)), "127.0.0.1", () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      upstream.on("error", () => socket.destroy());
    };
    socket.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, tunnels };
}

/** Runs the shared suite for one implementation. */
export function httpClientContract(name: string, make: ClientFactory): void {
  describe(`${name}: shared AsyncHTTPClient behaviour`, () => {
    let server: TestServer;
    let client: AsyncHTTPClient;
    before(async () => {
      server = await startTestServer();
      client = make();
    });
    after(async () => {
      client.close();
      await server.close();
    });

    test("fetches a page [test_hello_world]", async () => {
      const response = await client.fetch(server.url("/hello"));
      assert.equal(response.code, 200);
      assert.equal(response.headers.get("Content-Type"), undefined);
      assert.equal(response.text, "Hello world!");
      assert.ok(response.requestTime! >= 0);
      const named = await client.fetch(server.url("/hello?name=Ben"));
      assert.equal(named.text, "Hello Ben!");
    });

    test("posts a form body [test_post]", async () => {
      const response = await client.fetch(server.url("/post"), {
        method: "POST",
        body: "arg1=foo&arg2=bar",
      });
      assert.equal(response.code, 200);
      assert.equal(response.text, "Post arg1: foo, arg2: bar");
    });

    test("PATCH sends its body [test_patch_receives_payload]", async () => {
      const response = await client.fetch(server.url("/echopost"), {
        method: "PATCH",
        body: "some patch data",
      });
      assert.equal(response.text, "some patch data");
    });

    test("reads a chunked body [test_chunked]", async () => {
      const response = await client.fetch(server.url("/chunk"));
      assert.equal(response.text, "asdfqwer");
    });

    test("streams the body to streamingCallback, leaving body empty [test_streaming_callback]", async () => {
      const chunks: string[] = [];
      const response = await client.fetch(server.url("/stream?n=3"), {
        streamingCallback: (chunk) => void chunks.push(chunk.toString()),
      });
      assert.equal(chunks.join(""), "piece0;piece1;piece2;");
      assert.equal(response.body.length, 0);
    });

    test("an async streamingCallback pauses reading until it settles [test_streaming_callback_coroutine]", async () => {
      const seen: string[] = [];
      let inside = 0;
      await client.fetch(server.url("/stream?n=5"), {
        streamingCallback: async (chunk) => {
          assert.equal(inside++, 0);
          await new Promise<void>((resolve) => setImmediate(resolve));
          seen.push(chunk.toString());
          inside--;
        },
      });
      assert.equal(seen.join(""), "piece0;piece1;piece2;piece3;piece4;");
    });

    test("a fetch settles only after an async streamingCallback has handled the last chunk", async (t) => {
      // The rest of the body, and with it the end of the message, arrives while the callback
      // still works on the first piece.
      const gates: Array<() => void> = [];
      const raw = await rawServer((socket, _head, index) => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nAAAAA");
        void new Promise<void>((resolve) => {
          gates[index] = resolve;
        }).then(() => socket.write("BBBBB"));
      });
      t.after(() => raw.close());
      for (const failLast of [false, true]) {
        const log: string[] = [];
        const fetched = client
          .fetch(raw.url("/"), {
            streamingCallback: async (chunk) => {
              const piece = chunk.toString();
              log.push(`start ${piece}`);
              if (piece === "AAAAA") {
                gates.at(-1)!();
                // Turns enough for the rest to reach the client and be buffered.
                for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
              } else await new Promise((resolve) => setImmediate(resolve));
              if (failLast && piece !== "AAAAA") throw new Error("the callback failed");
              log.push(`done ${piece}`);
            },
          })
          .then(
            () => log.push("settled"),
            (error: Error) => log.push(`failed: ${error.message}`),
          );
        await fetched;
        assert.deepEqual(
          log,
          failLast
            ? ["start AAAAA", "done AAAAA", "start BBBBB", "failed: the callback failed"]
            : ["start AAAAA", "done AAAAA", "start BBBBB", "done BBBBB", "settled"],
        );
      }
    });

    test("sends basic auth [test_basic_auth]", async () => {
      const response = await client.fetch(server.url("/auth"), {
        authUsername: "Aladdin",
        authPassword: "open sesame",
      });
      assert.equal(response.text, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    });

    test("sends basic auth with authMode basic [test_basic_auth_explicit_mode]", async () => {
      const response = await client.fetch(server.url("/auth"), {
        authUsername: "Aladdin",
        authPassword: "open sesame",
        authMode: "basic",
      });
      assert.equal(response.text, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    });

    test("encodes unicode basic credentials as UTF-8 [test_basic_auth_unicode]", async () => {
      const response = await client.fetch(server.url("/auth"), {
        authUsername: "test",
        authPassword: "123£",
      });
      assert.equal(response.text, "Basic dGVzdDoxMjPCow==");
      const other = await client.fetch(server.url("/auth"), {
        authUsername: "test",
        authPassword: "123£",
      });
      assert.equal(other.text, "Basic dGVzdDoxMjPCow==");
    });

    test("refuses an unknown auth mode [test_unsupported_auth_mode]", () => {
      assert.throws(
        () =>
          client.fetch(server.url("/auth"), {
            authUsername: "Aladdin",
            authPassword: "open sesame",
            authMode: "asdf" as "basic",
          }),
        { name: "TypeError", code: "ERR_INVALID_HTTP_REQUEST" },
      );
    });

    test("answers a digest challenge (MD5 and SHA-256)", async () => {
      for (const algorithm of ["MD5", "SHA-256"]) {
        const response = await client.fetch(server.url(`/digest?algorithm=${algorithm}`), {
          authUsername: "Mufasa",
          authPassword: "secret",
          authMode: "digest",
        });
        assert.equal(response.code, 200);
        assert.equal(response.text, "ok Mufasa");
      }
      const wrong = await client.fetch(server.url("/digest"), {
        authUsername: "Mufasa",
        authPassword: "wrong",
        authMode: "digest",
        raiseError: false,
      });
      assert.equal(wrong.code, 403);
    });

    test("follows redirects unless told not to [test_follow_redirect]", async () => {
      const noFollow = await client.fetch(server.url("/countdown/2"), {
        followRedirects: false,
        raiseError: false,
      });
      assert.equal(noFollow.code, 302);
      assert.ok(noFollow.headers.get("Location")!.endsWith("/countdown/1"));
      const followed = await client.fetch(server.url("/countdown/2"));
      assert.equal(followed.code, 200);
      assert.ok(followed.effectiveUrl.endsWith("/countdown/0"));
      assert.equal(followed.text, "Zero");
    });

    test("stops at maxRedirects with a typed error [test_max_redirects]", async () => {
      const response = await client.fetch(server.url("/countdown/5"), {
        maxRedirects: 3,
        raiseError: false,
      });
      assert.equal(response.code, 302);
      assert.ok(response.effectiveUrl.endsWith("/countdown/2"), response.effectiveUrl);
      assert.ok(response.headers.get("Location")!.endsWith("/countdown/1"));
      assert.ok(response.error instanceof HTTPTooManyRedirectsError);
      await assert.rejects(
        client.fetch(server.url("/countdown/5"), { maxRedirects: 3 }),
        (error: unknown) => {
          assert.ok(error instanceof HTTPTooManyRedirectsError);
          assert.ok(error instanceof HTTPClientError);
          assert.equal(error.code, 302);
          assert.equal(error.errorCode, "ERR_HTTP_TOO_MANY_REDIRECTS");
          return true;
        },
      );
    });

    test("returns a redirect without Location as is [test_redirect_without_location]", async () => {
      const response = await client.fetch(server.url("/redirect?status=301"), {
        followRedirects: true,
        raiseError: false,
      });
      assert.equal(response.code, 301);
      assert.equal(response.text, "redirect body");
    });

    test("307 keeps PUT and its body [test_redirect_put_with_body] [test_put_307]", async () => {
      const response = await client.fetch(server.url("/redirect?status=307&url=/echopost"), {
        method: "PUT",
        body: "hello",
      });
      assert.equal(response.text, "hello");
    });

    test("a redirected PUT without body keeps no body [test_redirect_put_without_body]", async () => {
      const response = await client.fetch(server.url("/redirect?status=307&url=/all_methods"), {
        method: "PUT",
        allowNonstandardMethods: true,
      });
      assert.equal(response.text, "PUT");
    });

    test("301/302 turn POST into GET, 303 turns anything but HEAD into GET, 307/308 keep it [test_method_after_redirect]", async () => {
      for (const status of [301, 302, 303]) {
        const url = server.url(`/redirect?url=/all_methods&status=${status}`);
        const post = await client.fetch(url, { method: "POST", body: "" });
        assert.equal(post.text, "GET", `POST after ${status}`);
        for (const method of ["GET", "OPTIONS", "PUT", "DELETE"]) {
          const r = await client.fetch(url, { method, allowNonstandardMethods: true });
          assert.equal(r.text, status === 303 ? "GET" : method, `${method} after ${status}`);
        }
        const head = await client.fetch(url, { method: "HEAD" });
        assert.equal(head.code, 200);
        assert.equal(head.body.length, 0);
      }
      for (const status of [307, 308]) {
        const url = server.url(`/redirect?url=/all_methods&status=${status}`);
        const post = await client.fetch(url, { method: "POST", body: "data" });
        assert.equal(post.text, "POST\ndata");
      }
    });

    test("303 after POST fetches with GET and no body [test_see_other_redirect]", async () => {
      const response = await client.fetch(server.url("/see_other_post"), {
        method: "POST",
        body: "123",
      });
      assert.equal(response.text, "ok");
      assert.ok(response.effectiveUrl.endsWith("/see_other_get"));
    });

    test("sends credentials from the URL [test_credentials_in_url]", async () => {
      const url = server.url("/auth").replace("http://", "http://me:secret@");
      const response = await client.fetch(url);
      assert.equal(response.text, `Basic ${Buffer.from("me:secret").toString("base64")}`);
    });

    test("sends a string body as UTF-8 [test_body_encoding]", async () => {
      const unicode = "\u00e9";
      const response = await client.fetch(server.url("/echopost"), {
        method: "POST",
        body: unicode,
        headers: { "Content-Type": "application/blah" },
      });
      assert.equal(response.headers.get("Content-Length"), "2");
      assert.deepEqual(response.body, Buffer.from(unicode, "utf8"));
      const bytes = await client.fetch(server.url("/echopost"), {
        method: "POST",
        body: Buffer.from([0xe9]),
      });
      assert.deepEqual(bytes.body, Buffer.from([0xe9]));
    });

    test("response fields have their types [test_types]", async () => {
      const response = await client.fetch(server.url("/hello"));
      assert.ok(Buffer.isBuffer(response.body));
      assert.equal(typeof response.headers.get("Content-Length"), "string");
      assert.ok(response.headers instanceof HTTPHeaders);
      assert.equal(typeof response.code, "number");
      assert.equal(typeof response.effectiveUrl, "string");
    });

    test("decodes gzip unless decompressResponse is false [test_gzip]", async () => {
      const response = await client.fetch(server.url("/gzip"));
      assert.equal(response.text, "asdfqwer".repeat(100));
      assert.equal(response.headers.get("Content-Encoding"), undefined);
      const raw = await client.fetch(server.url("/gzip"), {
        decompressResponse: false,
        headers: { "Accept-Encoding": "gzip" },
      });
      assert.equal(raw.headers.get("Content-Encoding"), "gzip");
      assert.notEqual(raw.text, "asdfqwer".repeat(100));
    });

    test("invalid gzip fails the request [test_invalid_gzip]", async () => {
      await assert.rejects(client.fetch(server.url("/invalid_gzip")), (error: unknown) => {
        assert.ok(error instanceof Error);
        return true;
      });
      // The client is still usable afterwards.
      assert.equal((await client.fetch(server.url("/hello"))).code, 200);
    });

    test("headerCallback gets the status line, each header and a blank line [test_header_callback] [test_header_callback_to_parse_line]", async () => {
      const lines: string[] = [];
      const response = await client.fetch(server.url("/chunk"), {
        headerCallback: (line) => void lines.push(line),
      });
      assert.equal(response.text, "asdfqwer");
      assert.match(lines[0]!, /^HTTP\/1\.1 200 OK\r\n$/);
      assert.equal(lines.at(-1), "\r\n");
      const headers = new HTTPHeaders();
      for (const line of lines.slice(1, -1)) {
        assert.ok(line.endsWith("\r\n"));
        headers.parseLine(line);
      }
      assert.equal(headers.get("Transfer-Encoding")?.toLowerCase(), "chunked");
    });

    test("client defaults apply to requests [test_configure_defaults]", async () => {
      const withDefaults = make({ defaults: { userAgent: "TestDefaultUserAgent" } });
      try {
        const response = await withDefaults.fetch(server.url("/user_agent"));
        assert.equal(response.text, "TestDefaultUserAgent");
      } finally {
        withDefaults.close();
      }
    });

    test("header values may be given as strings or lists [test_header_types]", async () => {
      const response = await client.fetch(server.url("/echo"), {
        headers: { "X-One": "1", "X-Two": ["a", "b"] },
      });
      const echo = response.json() as { headers: Record<string, string> };
      assert.equal(echo.headers["x-one"], "1");
      assert.equal(echo.headers["x-two"], "a, b");
    });

    test("304 with Content-Length has no body [test_304_with_content_length]", async () => {
      const response = await client.fetch(server.url("/304_with_content_length"), {
        raiseError: false,
      });
      assert.equal(response.code, 304);
      assert.equal(response.headers.get("Content-Length"), "42");
      assert.equal(response.body.length, 0);
      assert.equal((await client.fetch(server.url("/hello"))).text, "Hello world!");
    });

    test("fetch resolves with the response [test_future_interface]", async () => {
      const response = await client.fetch(server.url("/hello"));
      assert.ok(response instanceof HTTPResponse);
      assert.equal(response.text, "Hello world!");
    });

    test("a non-2xx response rejects with HTTPClientError [test_future_http_error]", async () => {
      await assert.rejects(client.fetch(server.url("/notfound")), (error: unknown) => {
        assert.ok(error instanceof HTTPClientError);
        assert.equal(error.code, 404);
        assert.equal(error.message, "HTTP 404: Not Found");
        assert.equal(error.response!.code, 404);
        return true;
      });
    });

    test("raiseError false resolves a non-2xx response [test_future_http_error_no_raise]", async () => {
      const response = await client.fetch(server.url("/notfound"), { raiseError: false });
      assert.equal(response.code, 404);
      assert.ok(response.error instanceof HTTPClientError);
      assert.throws(() => response.rethrow(), HTTPClientError);
    });

    test("a response's request can be fetched again [test_reuse_request_from_response]", async () => {
      const response = await client.fetch(server.url("/hello"));
      assert.equal(response.request.url, server.url("/hello"));
      assert.ok(response.request instanceof HTTPRequest);
      const again = await client.fetch(response.request);
      assert.equal(again.text, "Hello world!");
    });

    test("every standard method works [test_all_methods]", async () => {
      for (const method of ["GET", "DELETE", "OPTIONS"]) {
        const response = await client.fetch(server.url("/all_methods"), { method });
        assert.equal(response.text, method);
      }
      for (const method of ["POST", "PUT", "PATCH"]) {
        const response = await client.fetch(server.url("/all_methods"), { method, body: "data" });
        assert.equal(response.text, `${method}\ndata`);
      }
      const head = await client.fetch(server.url("/all_methods"), { method: "HEAD" });
      assert.equal(head.body.length, 0);
      assert.equal(head.headers.get("Content-Length"), "4");
      const other = await client.fetch(server.url("/all_methods"), {
        method: "PROPFIND",
        allowNonstandardMethods: true,
      });
      assert.equal(other.text, "PROPFIND");
    });

    test("a body is required for POST/PUT/PATCH and refused otherwise [test_body_sanity_checks]", () => {
      for (const method of ["POST", "PUT", "PATCH"]) {
        assert.throws(
          () => client.fetch(server.url("/all_methods"), { method }),
          /Body must not be null/,
        );
      }
      for (const method of ["GET", "DELETE", "OPTIONS"]) {
        assert.throws(
          () => client.fetch(server.url("/all_methods"), { method, body: "data" }),
          /Body must be null/,
        );
      }
    });

    test("records timing [test_response_times]", async () => {
      const before = Date.now();
      const response = await client.fetch(server.url("/hello"));
      assert.ok(response.startTime! >= before - 1 && response.startTime! <= Date.now());
      assert.ok(response.requestTime! >= 0 && response.requestTime! < 10_000);
    });

    test("a request timeout gives a 599 timeout error [test_request_timeout]", async () => {
      await assert.rejects(
        client.fetch(server.url("/slow?ms=5000"), { requestTimeout: 100 }),
        (error: unknown) => {
          assert.ok(error instanceof HTTPTimeoutError, String(error));
          assert.equal(error.code, 599);
          assert.equal(error.message, "HTTP 599: Timeout during request");
          return true;
        },
      );
    });

    test("CR, LF or NUL in the URL, method or a header throws before connecting [test_header_crlf]", () => {
      const before = server.connections;
      for (const value of ["foo\r\nInjected: x", "foo\nInjected: x", "foo\0"]) {
        assert.throws(
          () => client.fetch(server.url("/echo"), { headers: { "X-Foo": value } }),
          TypeError,
        );
      }
      assert.throws(() => client.fetch(server.url("/echo\r\nX-Injected: 1")), TypeError);
      assert.throws(
        () => client.fetch(server.url("/echo"), { method: "GET /x HTTP/1.1\r\n" }),
        TypeError,
      );
      assert.throws(
        () => client.fetch(server.url("/echo"), { headers: { "X-Foo\r\nEvil": "1" } }),
        TypeError,
      );
      const request = new HTTPRequest(server.url("/echo"));
      request.url = server.url("/echo\nx");
      assert.throws(() => client.fetch(request), TypeError);
      assert.equal(server.connections, before);
    });

    test("credentials are dropped on a cross-origin redirect and kept on the same origin [test_strip_headers_on_redirect]", async () => {
      const otherOrigin = server.url("/echo").replace("127.0.0.1", "localhost");
      const headers = {
        Authorization: "secret",
        Cookie: "a=b",
        "Proxy-Authorization": "p",
        "X-Keep": "1",
      };
      const cross = await client.fetch(
        server.url(`/redirect?status=302&url=${encodeURIComponent(otherOrigin)}`),
        {
          headers,
        },
      );
      const crossEcho = cross.json() as { headers: Record<string, string> };
      assert.equal(crossEcho.headers["authorization"], undefined);
      assert.equal(crossEcho.headers["cookie"], undefined);
      assert.equal(crossEcho.headers["proxy-authorization"], undefined);
      assert.equal(crossEcho.headers["x-keep"], "1");
      const same = await client.fetch(server.url("/redirect?status=302&url=/echo"), { headers });
      const sameEcho = same.json() as { headers: Record<string, string> };
      assert.equal(sameEcho.headers["authorization"], "secret");
      assert.equal(sameEcho.headers["cookie"], "a=b");
      const auth = await client.fetch(
        server.url(
          `/redirect?status=307&url=${encodeURIComponent(otherOrigin.replace("/echo", "/auth"))}`,
        ),
        {
          authUsername: "u",
          authPassword: "p",
        },
      );
      assert.equal(auth.text, "");
    });

    test("HEAD returns headers and no body [test_head_request]", async () => {
      const response = await client.fetch(server.url("/hello"), { method: "HEAD" });
      assert.equal(response.code, 200);
      assert.equal(response.headers.get("Content-Length"), "12");
      assert.equal(response.body.length, 0);
    });

    test("OPTIONS works [test_options_request]", async () => {
      const response = await client.fetch(server.url("/all_methods"), { method: "OPTIONS" });
      assert.equal(response.text, "OPTIONS");
    });

    test("204 has an empty body [test_no_content] [test_204_no_content]", async () => {
      const response = await client.fetch(server.url("/no_content"));
      assert.equal(response.code, 204);
      assert.equal(response.body.length, 0);
    });

    test("Host is the URL's authority [test_host_header]", async () => {
      const response = await client.fetch(server.url("/echo"));
      const echo = response.json() as { headers: Record<string, string> };
      assert.equal(echo.headers["host"], `127.0.0.1:${server.port}`);
    });

    test("a refused connection rejects with the connection error [test_connection_refused]", async () => {
      const closed = await startTestServer();
      const port = closed.port;
      await closed.close();
      await assert.rejects(client.fetch(`http://127.0.0.1:${port}/`), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(
          `${(error as NodeJS.ErrnoException).code} ${error.message} ${String(error.cause)}`,
          /ECONNREFUSED|refused/i,
        );
        return true;
      });
    });

    test("sequential requests reuse kept-alive connections", async () => {
      const fresh = make();
      try {
        const before = server.connections;
        for (let i = 0; i < 10; i++) {
          assert.equal((await fresh.fetch(server.url("/hello"))).code, 200);
        }
        // undici opens a second connection early on; ours uses one (simple_httpclient.test).
        assert.ok(server.connections - before <= 2, `${server.connections - before} connections`);
      } finally {
        fresh.close();
      }
    });

    test("maxClients limits the connections in use [test_connection_limit] [test_max_clients]", async () => {
      const limited = make({ maxClients: 2 });
      try {
        const before = server.connections;
        const responses = await Promise.all(
          Array.from({ length: 6 }, () => limited.fetch(server.url("/slow?ms=20"))),
        );
        for (const r of responses) assert.equal(r.text, "slow");
        assert.ok(server.connections - before <= 2, `${server.connections - before} connections`);
      } finally {
        limited.close();
      }
    });

    test("a request waiting too long for a slot fails with Timeout in request queue [test_queue_timeout]", async () => {
      const limited = make({ maxClients: 1 });
      try {
        const slow = limited.fetch(server.url("/slow?ms=300"), { requestTimeout: 5000 });
        await assert.rejects(
          limited.fetch(server.url("/hello"), { requestTimeout: 50, connectTimeout: 50 }),
          (error: unknown) => {
            assert.ok(error instanceof HTTPTimeoutError);
            assert.equal(error.message, "HTTP 599: Timeout in request queue");
            return true;
          },
        );
        assert.equal((await slow).text, "slow");
      } finally {
        limited.close();
      }
    });

    test("a redirect completes with maxClients 1 (the slot is released first) [test_redirect_connection_limit]", async () => {
      const limited = make({ maxClients: 1 });
      try {
        const response = await limited.fetch(server.url("/countdown/3"));
        assert.equal(response.text, "Zero");
      } finally {
        limited.close();
      }
    });

    test("networkInterface binds the local address [test_bind_source_ip]", async () => {
      const response = await client.fetch(server.url("/echo"), { networkInterface: "127.0.0.1" });
      assert.equal(response.code, 200);
      await assert.rejects(client.fetch(server.url("/echo"), { networkInterface: "192.0.2.1" }));
    });

    test("a response with both Content-Length and Transfer-Encoding fails", async (t) => {
      const raw = await rawServer((socket) =>
        socket.write(
          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        ),
      );
      t.after(() => raw.close());
      await assert.rejects(client.fetch(raw.url("/")));
    });

    test("a connection closed mid-body fails with HTTPStreamClosedError (599)", async (t) => {
      const raw = await rawServer((socket) =>
        socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
      );
      t.after(() => raw.close());
      await assert.rejects(client.fetch(raw.url("/")), (error: unknown) => {
        assert.ok(error instanceof HTTPStreamClosedError, String(error));
        assert.equal(error.code, 599);
        return true;
      });
      // With a streaming callback too: what arrived is delivered, then the error.
      const seen: string[] = [];
      await assert.rejects(
        client.fetch(raw.url("/"), {
          streamingCallback: (chunk) => void seen.push(chunk.toString()),
        }),
        HTTPStreamClosedError,
      );
      assert.equal(seen.join(""), "abc");
    });

    test("a server that stalls after the headers hits requestTimeout", async (t) => {
      const raw = await rawServer((socket) =>
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"),
      );
      t.after(() => raw.close());
      await assert.rejects(client.fetch(raw.url("/"), { requestTimeout: 100 }), HTTPTimeoutError);
    });

    test("a body over maxBodySize fails, also when gzip-compressed [test_large_body]", async (t) => {
      const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
      const raw = await rawServer((socket, head) => {
        if (head.includes("/gzip")) {
          socket.write(
            `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`,
          );
          socket.write(bomb);
        } else socket.write(ok("x".repeat(4096)));
      });
      const limited = make({ maxBodySize: 1024 });
      t.after(() => {
        limited.close();
        return raw.close();
      });
      await assert.rejects(limited.fetch(raw.url("/plain")));
      await assert.rejects(limited.fetch(raw.url("/gzip")));
    });

    test("requests go through an authenticated CONNECT proxy; a refusal fails the request", async (t) => {
      const proxy = await connectProxy(t);
      const via = { proxyHost: "127.0.0.1", proxyPort: proxy.port };
      const response = await client.fetch(server.url("/hello"), {
        ...via,
        proxyUsername: "user",
        proxyPassword: "pass",
      });
      assert.equal(response.text, "Hello world!");
      assert.deepEqual(proxy.tunnels, [`127.0.0.1:${server.port}`]);
      await assert.rejects(client.fetch(server.url("/hello"), via));
    });

    test("options with an HTTPRequest are refused", () => {
      assert.throws(
        () => client.fetch(new HTTPRequest(server.url("/")), { method: "POST" }),
        TypeError,
      );
    });
  });
}
