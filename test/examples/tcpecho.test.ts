import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Subprocess } from "../../src/process.js";
import { repoRoot } from "../helpers/paths.js";

const SERVER = join(repoRoot, "dist", "examples", "tcpecho", "server.js");
const CLIENT = join(repoRoot, "dist", "examples", "tcpecho", "client.js");

test(
  "the tcpecho demo server prints where it listens and echoes the client's line",
  {
    timeout: 30_000,
  },
  async (t) => {
    const server = new Subprocess([process.execPath, SERVER, "--port", "0"], {
      stderr: Subprocess.STREAM,
    });
    t.after(() => {
      if (server.returncode === null) server.proc.kill();
    });
    const line = (await server.stderr!.readUntil("\n")).toString();
    const match = /Listening on TCP 127\.0\.0\.1:(\d+)/.exec(line);
    assert.ok(match, line);
    const client = new Subprocess(
      [process.execPath, CLIENT, "--port", match[1]!, "--message", "hello echo"],
      { stdout: Subprocess.STREAM },
    );
    const output = (await client.stdout!.readUntilClose()).toString();
    assert.equal(await client.waitForExit(), 0);
    assert.equal(output, "Sent to server: hello echo\nResponse from server: hello echo\n");
    assert.match(
      (await server.stderr!.readUntil("\n")).toString(),
      /Received bytes: "hello echo\\n"/,
    );
    server.proc.kill("SIGTERM");
    assert.equal(await server.waitForExit({ raiseError: false }), -15);
  },
);
