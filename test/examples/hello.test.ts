import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Subprocess } from "../../src/process.js";
import { repoRoot } from "../helpers/paths.js";

const SERVER = join(repoRoot, "dist", "examples", "hello", "server.js");

test(
  "the hello demo (what npm start runs) answers and shuts down cleanly on SIGTERM",
  { timeout: 30_000 },
  async (t) => {
    const server = new Subprocess([process.execPath, SERVER, "0"], { stdout: Subprocess.STREAM });
    t.after(() => {
      if (server.returncode === null) server.proc.kill();
    });
    const line = (await server.stdout!.readUntil("\n")).toString();
    const match = /Listening on http:\/\/localhost:(\d+)\//.exec(line);
    assert.ok(match, line);
    const response = await fetch(`http://127.0.0.1:${match[1]}/?name=tornado`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "Hello, tornado!\n");
    server.proc.kill("SIGTERM");
    assert.equal(await server.waitForExit({ raiseError: false }), 0);
  },
);
