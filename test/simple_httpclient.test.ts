// SimpleAsyncHTTPClient: the shared suite, then what is specific to it: connection pooling,
// limits, hostile responses from a raw socket, timeouts, body producers, 100-continue,
// proxies, TLS, our own HTTPServer and Python Tornado's server as peers; and the request,
// response and error classes of httpclient.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, test } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import {
  AsyncHTTPClient,
  HTTPClientError,
  HTTPProxyError,
  HTTPRequest,
  HTTPResponse,
  HTTPStreamClosedError,
  HTTPTimeoutError,
} from "../src/httpclient.js";
import { HTTPHeaders, HTTPInputError } from "../src/httputil.js";
import { type ResolvedAddress, Resolver } from "../src/netutil.js";
import { SimpleAsyncHTTPClient } from "../src/simple_httpclient.js";
import {
  httpClientContract,
  ok,
  type RawServer,
  rawServer,
  connectProxy,
  startTestServer,
} from "./helpers/httpclient-contract.js";
import { startEchoServer } from "./helpers/httpserver.js";
import { CERT, KEY } from "./helpers/network.js";
import { needPeer, pythonWithTornado } from "./helpers/peers.js";

httpClientContract("SimpleAsyncHTTPClient", (options) => new SimpleAsyncHTTPClient(options));

describe("SimpleAsyncHTTPClient: connection pooling", () => {
  test("sequential requests use one connection", async (t) => {
    const server = await rawServer((socket) => socket.write(ok("hi")));
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    for (let i = 0; i < 10; i++) assert.equal((await client.fetch(server.url("/"))).text, "hi");
    assert.equal(server.connections, 1);
    assert.equal(client.idleConnections, 1);
  });

  test("concurrent requests open up to maxClients connections, then reuse them", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient({ maxClients: 4 });
    t.after(() => {
      client.close();
      return server.close();
    });
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 8 }, () => client.fetch(server.url("/hello"))));
    }
    assert.ok(server.connections <= 4, `${server.connections} connections`);
    assert.ok(client.idleConnections <= 4);
  });

  test("maxIdlePerOrigin caps the idle connections; 0 sends Connection: close", async (t) => {
    const server = await startTestServer();
    const capped = new SimpleAsyncHTTPClient({ maxClients: 5, maxIdlePerOrigin: 2 });
    const none = new SimpleAsyncHTTPClient({ maxIdlePerOrigin: 0 });
    t.after(() => {
      capped.close();
      none.close();
      return server.close();
    });
    await Promise.all(Array.from({ length: 5 }, () => capped.fetch(server.url("/slow?ms=10"))));
    assert.equal(capped.idleConnections, 2);
    const echo = (await none.fetch(server.url("/echo"))).json() as {
      headers: Record<string, string>;
    };
    assert.equal(echo.headers["connection"], "close");
    assert.equal(none.idleConnections, 0);
  });

  test("an idle connection is closed after idleTimeout", async (t) => {
    let serverSide: Socket | null = null;
    const server = await rawServer((socket) => {
      serverSide = socket;
      socket.write(ok("hi"));
    });
    const client = new SimpleAsyncHTTPClient({ idleTimeout: 100 });
    t.after(() => {
      client.close();
      return server.close();
    });
    await client.fetch(server.url("/"));
    assert.equal(client.idleConnections, 1);
    await once(serverSide!, "end");
    assert.equal(client.idleConnections, 0);
  });

  test("a connection the server closed while idle is not reused", async (t) => {
    const server = await rawServer((socket) => {
      socket.write(ok("hi"));
      socket.end();
    });
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    assert.equal((await client.fetch(server.url("/"))).text, "hi");
    assert.equal((await client.fetch(server.url("/"))).text, "hi");
    assert.equal(server.connections, 2);
  });

  test("a response with Connection: close or HTTP/1.0 is not pooled", async (t) => {
    const server = await rawServer((socket, _head, i) => {
      if (i % 2 === 0) socket.write(ok("a", "Connection: close\r\n"));
      else socket.write("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb");
    });
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    assert.equal((await client.fetch(server.url("/"))).text, "a");
    assert.equal(client.idleConnections, 0);
    assert.equal((await client.fetch(server.url("/"))).text, "b");
    assert.equal(client.idleConnections, 0);
    assert.equal(server.connections, 2);
  });

  test("a reused connection the server closes at once is retried on a new one (idempotent methods)", async (t) => {
    const server = await rawServer((socket, _head, i) => {
      if (i === 0) socket.write(ok("first"));
      else if (i === 1) socket.destroy();
      else socket.write(ok("again"));
    });
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    assert.equal((await client.fetch(server.url("/"))).text, "first");
    assert.equal((await client.fetch(server.url("/"))).text, "again");
    assert.equal(server.connections, 2);
  });

  test("a HEAD response followed by stray body bytes is not reused [test_head_request]", async (t) => {
    const server = await rawServer((socket) => socket.write(ok("body!")));
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    const head = await client.fetch(server.url("/"), { method: "HEAD" });
    assert.equal(head.body.length, 0);
    assert.equal(head.headers.get("Content-Length"), "5");
    assert.equal((await client.fetch(server.url("/"))).text, "body!");
    assert.equal(server.connections, 2);
  });

  test("our HTTPServer as the peer: echo and reuse", async (t) => {
    const echo = await startEchoServer();
    const client = new SimpleAsyncHTTPClient();
    t.after(async () => {
      client.close();
      await echo.close();
    });
    for (let i = 0; i < 3; i++) {
      const response = await client.fetch(`http://127.0.0.1:${echo.port}/x?i=${i}`, {
        method: "POST",
        body: "a=1",
      });
      const parsed = response.json() as { method: string; uri: string; body: string };
      assert.equal(parsed.method, "POST");
      assert.equal(parsed.uri, `/x?i=${i}`);
      assert.equal(parsed.body, "a=1");
    }
    assert.equal(client.idleConnections, 1);
  });
});

describe("SimpleAsyncHTTPClient: hostile and malformed responses", () => {
  async function fetchRaw(
    t: { after: (fn: () => unknown) => void },
    response: string | Buffer,
    options: Record<string, unknown> = {},
    clientOptions: Record<string, unknown> = {},
  ): Promise<{ result: Promise<HTTPResponse>; server: RawServer; client: SimpleAsyncHTTPClient }> {
    const server = await rawServer((socket) => socket.write(response));
    const client = new SimpleAsyncHTTPClient(clientOptions);
    t.after(() => {
      client.close();
      return server.close();
    });
    return { result: client.fetch(server.url("/"), options), server, client };
  }

  for (const [title, response] of [
    [
      "Content-Length with Transfer-Encoding",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ],
    ["an invalid Content-Length (+10)", "HTTP/1.1 200 OK\r\nContent-Length: +10\r\n\r\n0123456789"],
    [
      "unequal Content-Lengths",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ],
    [
      "an invalid chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    ],
    ["a malformed status line", "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"],
    ["a bare LF in the headers", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"],
    ["a folded Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 0\r\n\r\n0123456789"],
  ] as const) {
    test(`${title} fails with HTTPInputError and the connection is discarded [test_chunked_with_content_length]`, async (t) => {
      const { result, client } = await fetchRaw(t, response);
      await assert.rejects(result, (error: unknown) => {
        assert.ok(error instanceof HTTPInputError, String(error));
        assert.equal(error.code, "ERR_HTTP_INPUT");
        return true;
      });
      assert.equal(client.idleConnections, 0);
    });
  }

  test("non-ASCII header values arrive as latin-1 text [test_non_ascii_header] [test_header_encoding]", async (t) => {
    const { result } = await fetchRaw(
      t,
      Buffer.concat([
        Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Name: caf"),
        Buffer.from([0xe9]),
        Buffer.from("\r\n\r\n"),
      ]),
    );
    assert.equal((await result).headers.get("X-Name"), "caf\u00e9");
  });

  test("obs-folded response headers are joined [test_multi_line_headers]", async (t) => {
    const { result } = await fetchRaw(
      t,
      "HTTP/1.1 200 OK\r\nX-XSS-Protection: 1;\r\n\tmode=block\r\nContent-Length: 0\r\n\r\n",
    );
    assert.equal((await result).headers.get("X-XSS-Protection"), "1; mode=block");
  });

  test("repeated equal Content-Lengths are accepted [test_multiple_content_length_accepted]", async (t) => {
    const { result } = await fetchRaw(
      t,
      "HTTP/1.1 200 OK\r\nContent-Length: 2,2\r\nContent-Length: 2\r\n\r\nok",
    );
    assert.equal((await result).text, "ok");
  });

  test("204 with a non-zero Content-Length is an error [test_204_invalid_content_length]", async (t) => {
    const { result, client } = await fetchRaw(
      t,
      "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    );
    await assert.rejects(result, HTTPInputError);
    assert.equal(client.idleConnections, 0);
  });

  test("a body without length is read until close [test_no_content_length] [test_chunked_close]", async (t) => {
    const server = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\n\r\nhello ");
      socket.end("world");
    });
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    assert.equal((await client.fetch(server.url("/"))).text, "hello world");
    assert.equal(client.idleConnections, 0);
  });

  test("a connection closed mid-body fails with HTTPStreamClosedError", async (t) => {
    const server = await rawServer((socket) =>
      socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
    );
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    await assert.rejects(client.fetch(server.url("/")), (error: unknown) => {
      assert.ok(error instanceof HTTPStreamClosedError, String(error));
      assert.equal(error.code, 599);
      return true;
    });
  });

  test("small headers pass, headers over maxHeaderSize fail [test_small_headers] [test_large_headers]", async (t) => {
    const server = await rawServer((socket, head) => {
      const size = head.includes("/large") ? 2000 : 100;
      socket.write(ok("ok", `X-Filler: ${"a".repeat(size)}\r\n`));
    });
    const client = new SimpleAsyncHTTPClient({ maxHeaderSize: 1024 });
    t.after(() => {
      client.close();
      return server.close();
    });
    assert.equal((await client.fetch(server.url("/small"))).text, "ok");
    await assert.rejects(client.fetch(server.url("/large")), (error: unknown) => {
      assert.ok(error instanceof HTTPInputError);
      assert.equal(error.status, 431);
      return true;
    });
  });

  test("bodies up to maxBodySize pass, larger ones fail [test_small_body] [test_large_body] [test_large_body]", async (t) => {
    const server = await rawServer((socket, head) => {
      socket.write(ok("x".repeat(head.includes("/large") ? 2048 : 1024)));
    });
    const client = new SimpleAsyncHTTPClient({ maxBodySize: 1024 });
    t.after(() => {
      client.close();
      return server.close();
    });
    assert.equal((await client.fetch(server.url("/small"))).body.length, 1024);
    await assert.rejects(client.fetch(server.url("/large")), (error: unknown) => {
      assert.ok(error instanceof HTTPInputError);
      assert.equal(error.status, 413);
      return true;
    });
  });

  test("a gzip bomb stops at maxBodySize", async (t) => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const server = await rawServer((socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`,
      );
      socket.write(bomb);
    });
    const client = new SimpleAsyncHTTPClient({ maxBodySize: 1024 * 1024 });
    t.after(() => {
      client.close();
      return server.close();
    });
    await assert.rejects(client.fetch(server.url("/")), (error: unknown) => {
      assert.ok(error instanceof HTTPInputError);
      assert.match(error.message, /decompressed body too large/);
      return true;
    });
  });

  test("a chain of encodings is not decoded at all (no decode loop to exhaust)", async (t) => {
    const body = gzipSync(gzipSync(Buffer.from("inner")));
    const chain = Array.from({ length: 1000 }, () => "gzip").join(", ");
    const { result } = await fetchRaw(
      t,
      Buffer.concat([
        Buffer.from(
          `HTTP/1.1 200 OK\r\nContent-Encoding: ${chain}\r\nContent-Length: ${body.length}\r\n\r\n`,
        ),
        body,
      ]),
    );
    const response = await result;
    assert.deepEqual(response.body, body);
    assert.equal(response.headers.get("Content-Encoding"), chain);
  });

  test("invalid gzip fails with HTTPInputError [test_invalid_gzip]", async (t) => {
    const { result } = await fetchRaw(
      t,
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 7\r\n\r\nnotgzip",
    );
    await assert.rejects(result, (error: unknown) => {
      assert.ok(error instanceof HTTPInputError);
      assert.match(error.message, /gzip/);
      return true;
    });
  });

  test("a server that stalls after the headers hits requestTimeout", async (t) => {
    const { result } = await fetchRaw(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", {
      requestTimeout: 100,
    });
    await assert.rejects(result, (error: unknown) => {
      assert.ok(error instanceof HTTPTimeoutError);
      assert.equal(error.message, "HTTP 599: Timeout during request");
      return true;
    });
  });

  test("endless 1xx responses hit requestTimeout", async (t) => {
    let timer: NodeJS.Timeout | null = null;
    const server = await rawServer((socket) => {
      timer = setInterval(() => socket.write("HTTP/1.1 102 Processing\r\n\r\n"), 5);
      socket.on("close", () => clearInterval(timer!));
    });
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      if (timer !== null) clearInterval(timer);
      client.close();
      return server.close();
    });
    await assert.rejects(client.fetch(server.url("/"), { requestTimeout: 150 }), HTTPTimeoutError);
  });

  test("a redirect loop stops at maxRedirects", async (t) => {
    const server = await rawServer((socket) =>
      socket.write("HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"),
    );
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    await assert.rejects(client.fetch(server.url("/")), {
      name: "HTTPTooManyRedirectsError",
      code: 302,
    });
    assert.equal(server.requests.length, 6);
  });

  test("a redirect from https to http drops credentials (origin change)", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    const request = new HTTPRequest("https://127.0.0.1:1/", {
      headers: { Cookie: "c=1", Authorization: "a" },
    });
    const response = new HTTPResponse(request, 302, {
      headers: new HTTPHeaders({ Location: server.url("/echo") }),
    });
    const next = client.redirectRequest(request.withDefaults(undefined), response)!;
    assert.equal(next.url, server.url("/echo"));
    assert.equal(next.headers.get("Cookie"), undefined);
    assert.equal(next.headers.get("Authorization"), undefined);
  });
});

describe("SimpleAsyncHTTPClient: timeouts, bodies, headers", () => {
  class HangingResolver extends Resolver {
    pending: (() => void)[] = [];
    override resolve(): Promise<ResolvedAddress[]> {
      return new Promise((_resolve, reject) =>
        this.pending.push(() => reject(new Error("closed"))),
      );
    }
    override close(): void {
      for (const p of this.pending) p();
    }
  }

  test("a connect that does not complete fails with Timeout while connecting [test_connect_timeout] [test_resolve_timeout]", async (t) => {
    const resolver = new HangingResolver();
    const client = new SimpleAsyncHTTPClient({ resolver });
    t.after(() => {
      client.close();
      resolver.close();
    });
    await assert.rejects(
      client.fetch("http://example.invalid/", { connectTimeout: 50 }),
      (error: unknown) => {
        assert.ok(error instanceof HTTPTimeoutError);
        assert.equal(error.message, "HTTP 599: Timeout while connecting");
        return true;
      },
    );
  });

  test("requestTimeout 0 means no timeout [test_zero_timeout]", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    const response = await client.fetch(server.url("/slow?ms=30"), {
      requestTimeout: 0,
      connectTimeout: 0,
    });
    assert.equal(response.text, "slow");
  });

  test("the default User-Agent names tornado-ts [test_default_user_agent]", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    assert.match((await client.fetch(server.url("/user_agent"))).text, /^tornado-ts\/\d/);
  });

  test("fetch does not change the caller's headers [test_header_reuse]", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    const headers = new HTTPHeaders({ "User-Agent": "Foo" });
    const request = new HTTPRequest(server.url("/hello"), { headers });
    await client.fetch(request);
    assert.deepEqual([...request.headers.getAll()], [["User-Agent", "Foo"]]);
  });

  for (const [title, contentLength] of [
    [
      "bodyProducer streams the body chunked [test_async_body_producer_chunked] [test_sync_body_producer_chunked] [test_native_body_producer_chunked]",
      false,
    ],
    [
      "bodyProducer streams the body with Content-Length [test_async_body_producer_content_length] [test_sync_body_producer_content_length] [test_native_body_producer_content_length]",
      true,
    ],
  ] as const) {
    test(title, async (t) => {
      const server = await startTestServer();
      const client = new SimpleAsyncHTTPClient();
      t.after(() => {
        client.close();
        return server.close();
      });
      const response = await client.fetch(server.url("/echopost"), {
        method: "POST",
        headers: contentLength ? { "Content-Length": "8" } : {},
        bodyProducer: async (write) => {
          await write("1234");
          await new Promise<void>((resolve) => setImmediate(resolve));
          await write(Buffer.from("5678"));
        },
      });
      assert.equal(response.text, "12345678");
    });
  }

  test("Expect: 100-continue sends the body after the interim response [test_100_continue]", async (t) => {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => res.end(`got ${Buffer.concat(chunks).toString()}`));
    });
    let continued = 0;
    server.on("checkContinue", (req, res) => {
      continued++;
      res.writeContinue();
      server.emit("request", req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      server.closeAllConnections();
      server.close();
    });
    const port = (server.address() as AddressInfo).port;
    const response = await client.fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      body: "payload",
      expect100Continue: true,
    });
    assert.equal(response.text, "got payload");
    assert.equal(continued, 1);
  });

  test("a final response instead of 100 Continue ends the exchange without the body [test_100_continue_early_response]", async (t) => {
    const server = await rawServer((socket) =>
      socket.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"),
    );
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    const response = await client.fetch(server.url("/"), {
      method: "POST",
      body: "x".repeat(10),
      expect100Continue: true,
      raiseError: false,
    });
    assert.equal(response.code, 403);
    assert.equal(response.text, "no");
    assert.equal(client.idleConnections, 0);
  });

  test("a response that comes while the body is still being produced is returned", async (t) => {
    const server = await rawServer((socket) => {
      socket.end("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig");
    });
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const response = await client.fetch(server.url("/"), {
      method: "PUT",
      raiseError: false,
      bodyProducer: async (write) => {
        await write("first piece");
        await gate;
        await write("never read");
      },
    });
    release();
    assert.equal(response.code, 413);
    assert.equal(response.text, "big");
    assert.equal(client.idleConnections, 0);
  });

  test("a redirect's body is not streamed to streamingCallback [test_streaming_follow_redirects]", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return server.close();
    });
    const chunks: string[] = [];
    await client.fetch(server.url("/redirect?url=/hello&status=302"), {
      streamingCallback: (chunk) => void chunks.push(chunk.toString()),
    });
    assert.deepEqual(chunks, ["Hello world!"]);
  });

  test("hostnameMapping sends a name to another host [test_hostname_mapping]", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient({
      hostnameMapping: { "www.example.com": "127.0.0.1" },
    });
    t.after(() => {
      client.close();
      return server.close();
    });
    const response = await client.fetch(`http://www.example.com:${server.port}/echo`);
    const echo = response.json() as { headers: Record<string, string> };
    assert.equal(echo.headers["host"], `www.example.com:${server.port}`);
  });

  test("hostnameMapping can map a host and port to another port [test_port_mapping]", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient({
      hostnameMapping: [
        [
          { host: "foo.example.com", port: 8000 },
          { host: "127.0.0.1", port: server.port },
        ],
      ],
    });
    t.after(() => {
      client.close();
      return server.close();
    });
    const response = await client.fetch("http://foo.example.com:8000/hello");
    assert.equal(response.text, "Hello world!");
  });

  test("IPv6 literal URLs work [test_ipv6]", async (t) => {
    const server = http.createServer((_req, res) => res.end("six"));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "::1", resolve);
      });
    } catch {
      t.diagnostic("no IPv6 loopback here");
      return;
    }
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      server.closeAllConnections();
      server.close();
    });
    const port = (server.address() as AddressInfo).port;
    assert.equal((await client.fetch(`http://[::1]:${port}/`)).text, "six");
  });

  test("close() fails queued requests and later fetches", async (t) => {
    const server = await startTestServer();
    const client = new SimpleAsyncHTTPClient({ maxClients: 1 });
    t.after(() => server.close());
    const running = client.fetch(server.url("/slow?ms=50")).catch((e: unknown) => e);
    const queued = client.fetch(server.url("/hello"));
    client.close();
    await assert.rejects(queued, /closed/);
    await running;
    await assert.rejects(client.fetch(server.url("/hello")), /closed/);
  });
});

describe("SimpleAsyncHTTPClient: TLS and proxies", () => {
  async function tlsServer(t: { after: (fn: () => unknown) => void }): Promise<number> {
    const server = createTlsServer(
      { key: readFileSync(KEY), cert: readFileSync(CERT) },
      (socket) => {
        socket.on("error", () => {});
        socket.once("data", () => socket.end(ok("secure")));
      },
    );
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as AddressInfo).port;
  }

  test("https with caCerts or validateCert false works; an untrusted certificate fails [test_ssl_options] [test_ssl_options_handshake_fail]", async (t) => {
    const port = await tlsServer(t);
    const client = new SimpleAsyncHTTPClient();
    t.after(() => client.close());
    const url = `https://localhost:${port}/`;
    assert.equal((await client.fetch(url, { caCerts: CERT })).text, "secure");
    assert.equal((await client.fetch(url, { validateCert: false })).text, "secure");
    await assert.rejects(client.fetch(url), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(String((error as NodeJS.ErrnoException).code), /CERT|SELF_SIGNED|UNABLE/);
      return true;
    });
  });

  test("sslOptions take a Node TLS context [test_ssl_context] [test_ssl_context_handshake_fail]", async (t) => {
    const port = await tlsServer(t);
    const client = new SimpleAsyncHTTPClient();
    t.after(() => client.close());
    const url = `https://localhost:${port}/`;
    assert.equal(
      (await client.fetch(url, { sslOptions: { ca: readFileSync(CERT) } })).text,
      "secure",
    );
    await assert.rejects(client.fetch(url, { sslOptions: { minVersion: "TLSv1.2" } }));
  });

  test("requests go through a CONNECT proxy, for http and https targets, and the tunnel is reused", async (t) => {
    const proxy = await connectProxy(t);
    const target = await startTestServer();
    const tlsPort = await tlsServer(t);
    const client = new SimpleAsyncHTTPClient();
    t.after(() => {
      client.close();
      return target.close();
    });
    const via = {
      proxyHost: "127.0.0.1",
      proxyPort: proxy.port,
      proxyUsername: "user",
      proxyPassword: "pass",
    };
    assert.equal((await client.fetch(target.url("/hello"), via)).text, "Hello world!");
    assert.equal((await client.fetch(target.url("/hello"), via)).text, "Hello world!");
    assert.equal(proxy.tunnels.length, 1);
    const secure = await client.fetch(`https://localhost:${tlsPort}/`, { ...via, caCerts: CERT });
    assert.equal(secure.text, "secure");
    assert.deepEqual(proxy.tunnels, [`127.0.0.1:${target.port}`, `localhost:${tlsPort}`]);
  });

  test("a proxy refusing CONNECT fails with HTTPProxyError", async (t) => {
    const proxy = await connectProxy(t);
    const client = new SimpleAsyncHTTPClient();
    t.after(() => client.close());
    await assert.rejects(
      client.fetch("http://127.0.0.1:1/", { proxyHost: "127.0.0.1", proxyPort: proxy.port }),
      (error: unknown) => {
        assert.ok(error instanceof HTTPProxyError);
        assert.equal(error.code, 407);
        return true;
      },
    );
  });
});

describe("SimpleAsyncHTTPClient against Python Tornado's server", () => {
  const script = `
import asyncio, sys, gzip
import tornado.web
class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello " + self.get_argument("name", "world"))
class Echo(tornado.web.RequestHandler):
    def post(self):
        self.write(self.request.body)
class Chunks(tornado.web.RequestHandler):
    async def get(self):
        for i in range(3):
            self.write("chunk%d;" % i)
            await self.flush()
class Redirect(tornado.web.RequestHandler):
    def get(self):
        self.redirect("/hello?name=redirected")
class Big(tornado.web.RequestHandler):
    def get(self):
        self.write("x" * 100000)
async def main():
    app = tornado.web.Application([("/hello", Hello), ("/echo", Echo), ("/chunks", Chunks), ("/redirect", Redirect), ("/big", Big)], compress_response=True)
    server = app.listen(0, "127.0.0.1")
    port = list(server._sockets.values())[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
`;
  test(
    "hello, POST echo, chunked, redirect and gzip with connection reuse",
    { skip: needPeer("python3-tornado") },
    async (t) => {
      const child = spawn(pythonWithTornado()!, ["-c", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      t.after(() => child.kill());
      const [line] = (await once(child.stdout!, "data")) as [Buffer];
      const port = Number(line.toString().trim());
      const client = new SimpleAsyncHTTPClient();
      t.after(() => client.close());
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await client.fetch(`${base}/hello?name=py`)).text, "Hello py");
      assert.equal(
        (await client.fetch(`${base}/echo`, { method: "POST", body: "ping" })).text,
        "ping",
      );
      assert.equal((await client.fetch(`${base}/chunks`)).text, "chunk0;chunk1;chunk2;");
      const redirected = await client.fetch(`${base}/redirect`);
      assert.equal(redirected.text, "Hello redirected");
      assert.ok(redirected.effectiveUrl.endsWith("/hello?name=redirected"));
      const big = await client.fetch(`${base}/big`);
      assert.equal(big.body.length, 100000);
      assert.equal(big.headers.get("X-Consumed-Content-Encoding"), "gzip");
      assert.equal(client.idleConnections, 1);
    },
  );
});

describe("httpclient: requests, responses and errors", () => {
  test("headers can be given and replaced [test_headers] [test_headers_setter] [test_null_headers_setter]", () => {
    const request = new HTTPRequest("http://example.com", { headers: { foo: "bar" } });
    assert.equal(request.headers.get("Foo"), "bar");
    request.headers = new HTTPHeaders({ bar: "baz" });
    assert.equal(request.headers.get("bar"), "baz");
    assert.equal(
      new HTTPRequest("http://example.com", { headers: null }).headers.get("x"),
      undefined,
    );
  });

  test("a string body is encoded as UTF-8 [test_body] [test_body_setter]", () => {
    const request = new HTTPRequest("http://example.com", { method: "POST", body: "foo\u00e9" });
    assert.deepEqual(request.body, Buffer.from("foo\u00e9", "utf8"));
    request.body = Buffer.from("bar");
    assert.deepEqual(request.body, Buffer.from("bar"));
  });

  test("ifModifiedSince sets the header as an HTTP date [test_if_modified_since]", () => {
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    const request = new HTTPRequest("http://example.com", { ifModifiedSince: date });
    assert.equal(request.headers.get("If-Modified-Since"), "Tue, 02 Jan 2024 03:04:05 GMT");
  });

  test("request fields fall back to client defaults, then Tornado's [test_request_set] [test_default_set] [test_both_set] [test_neither_set] [test_defaults_none]", () => {
    const request = new HTTPRequest("http://example.com", { userAgent: "mine" });
    const both = request.withDefaults({ userAgent: "default", networkInterface: "127.0.0.1" });
    assert.equal(both.userAgent, "mine");
    assert.equal(both.networkInterface, "127.0.0.1");
    const neither = new HTTPRequest("http://example.com").withDefaults(undefined);
    assert.equal(neither.userAgent, undefined);
    assert.equal(neither.requestTimeout, 20_000);
    assert.equal(neither.connectTimeout, 20_000);
    assert.equal(neither.maxRedirects, 5);
    assert.equal(neither.followRedirects, true);
    assert.equal(neither.decompressResponse, true);
  });

  test("unknown options are refused [test_bad_attribute]", () => {
    assert.throws(() => new HTTPRequest("http://example.com", { foo: 1 } as never), {
      code: "ERR_INVALID_HTTP_REQUEST",
    });
    assert.throws(() => new SimpleAsyncHTTPClient({ defaults: { foo: 1 } as never }), TypeError);
  });

  test("HTTPClientError reads HTTP <code>: <message> [test_plain_error]", () => {
    const error = new HTTPClientError(403);
    assert.equal(error.message, "HTTP 403: Forbidden");
    assert.equal(String(error), "HTTPClientError: HTTP 403: Forbidden");
    assert.equal(error.code, 403);
    const copy = structuredClone({ code: error.code, message: error.message });
    assert.equal(copy.message, error.message);
  });

  test("an error response keeps the response [test_error_with_response] [test_str]", () => {
    const request = new HTTPRequest("http://example.com/");
    const response = new HTTPResponse(request, 403, { body: Buffer.from("no") });
    assert.ok(response.error instanceof HTTPClientError);
    assert.equal((response.error as HTTPClientError).response, response);
    assert.equal(response.error.message, "HTTP 403: Forbidden");
    assert.equal(String(response), "HTTPResponse(403 Forbidden, http://example.com/)");
    assert.equal(new HTTPResponse(request, 200).error, null);
  });

  test("configure(null, { defaults }) sets defaults for clients made later [test_configure_defaults]", async (t) => {
    const server = await startTestServer();
    const saved = AsyncHTTPClient.saveConfiguration();
    AsyncHTTPClient.configure(null, {
      defaults: { userAgent: "Configured/1.0", ifModifiedSince: 0 },
    });
    const client = new AsyncHTTPClient();
    AsyncHTTPClient.restoreConfiguration(saved);
    t.after(() => {
      client.close();
      return server.close();
    });
    const echo = (await client.fetch(server.url("/echo"))).json() as {
      headers: Record<string, string>;
    };
    assert.equal(echo.headers["user-agent"], "Configured/1.0");
    assert.equal(echo.headers["if-modified-since"], "Thu, 01 Jan 1970 00:00:00 GMT");
  });

  test("new AsyncHTTPClient() builds the simple client by default [test_max_clients]", () => {
    const client = new AsyncHTTPClient({ maxClients: 3 });
    assert.ok(client instanceof SimpleAsyncHTTPClient);
    assert.equal(client.maxClients, 3);
    client.close();
    assert.throws(() => new SimpleAsyncHTTPClient({ maxClients: 0 }), RangeError);
  });
});
