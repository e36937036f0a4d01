// Real HTTP clients against HTTPServer: curl (HTTP/1.0 and 1.1, chunked upload,
// Expect: 100-continue), Node's fetch (undici), and Python Tornado's AsyncHTTPClient.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { type EchoServer, startEchoServer } from "./helpers/httpserver.js";
import { needPeer, pythonWithTornado } from "./helpers/peers.js";

function run(
  cmd: string,
  args: string[],
  input?: Buffer,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }),
    );
    child.stdin.end(input);
  });
}

describe("HTTPServer with real clients", () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer({});
  });
  after(() => server.close());

  const curlSkip = needPeer("curl");

  test("curl HTTP/1.1 GET", { skip: curlSkip }, async () => {
    const r = await run("curl", ["-sS", "--http1.1", `http://127.0.0.1:${server.port}/hello?x=1`]);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout.toString());
    assert.equal(echo.method, "GET");
    assert.equal(echo.uri, "/hello?x=1");
    assert.equal(echo.version, "HTTP/1.1");
  });

  test("curl HTTP/1.0 POST with a body", { skip: curlSkip }, async () => {
    const r = await run("curl", [
      "-sS",
      "--http1.0",
      "--data-binary",
      "a=1&b=2",
      `http://127.0.0.1:${server.port}/form`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout.toString());
    assert.equal(echo.version, "HTTP/1.0");
    assert.equal(echo.body, "a=1&b=2");
  });

  test("curl chunked upload from stdin", { skip: curlSkip }, async () => {
    const body = Buffer.alloc(200_000, "q");
    const r = await run(
      "curl",
      [
        "-sS",
        "--http1.1",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "@-",
        `http://127.0.0.1:${server.port}/up`,
      ],
      body,
    );
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout.toString());
    assert.equal(echo.headers["transfer-encoding"], "chunked");
    assert.equal(echo.body.length, body.length);
  });

  test(
    "curl with Expect: 100-continue gets 100 then the answer [test_100_continue]",
    { skip: curlSkip },
    async () => {
      const body = Buffer.alloc(2000, "z");
      const r = await run(
        "curl",
        [
          "-sS",
          "-v",
          "--http1.1",
          "-H",
          "Expect: 100-continue",
          "--data-binary",
          "@-",
          `http://127.0.0.1:${server.port}/c`,
        ],
        body,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
      assert.equal(JSON.parse(r.stdout.toString()).body.length, 2000);
    },
  );

  test(
    "curl reuses a keep-alive connection for two URLs [test_two_requests]",
    { skip: curlSkip },
    async () => {
      const url = `http://127.0.0.1:${server.port}`;
      const r = await run("curl", ["-sS", "-v", "--http1.1", `${url}/one`, `${url}/two`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Re-using existing connection|Reusing existing/);
    },
  );

  test("Node's fetch (undici) GET and POST", async () => {
    const get = await fetch(`http://127.0.0.1:${server.port}/f?q=%20`);
    assert.equal(get.status, 200);
    assert.equal(((await get.json()) as { uri: string }).uri, "/f?q=%20");
    const post = await fetch(`http://127.0.0.1:${server.port}/p`, {
      method: "POST",
      body: "x".repeat(100_000),
    });
    assert.equal(((await post.json()) as { body: string }).body.length, 100_000);
  });

  test("Python Tornado's AsyncHTTPClient", { skip: needPeer("python3-tornado") }, async () => {
    const script = `
import json, sys
from tornado.httpclient import AsyncHTTPClient
from tornado.ioloop import IOLoop
async def main():
    client = AsyncHTTPClient()
    r1 = await client.fetch("http://127.0.0.1:${server.port}/py?a=b")
    r2 = await client.fetch("http://127.0.0.1:${server.port}/post", method="POST", body="hello python")
    print(json.dumps([json.loads(r1.body), json.loads(r2.body)]))
IOLoop.current().run_sync(main)
`;
    const r = await run(pythonWithTornado()!, ["-c", script]);
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = JSON.parse(r.stdout.toString());
    assert.equal(a.uri, "/py?a=b");
    assert.equal(b.body, "hello python");
  });
});
