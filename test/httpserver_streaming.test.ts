// A 1 GiB streamed upload and a 1 GiB streamed download through HTTPServer: bodies flow
// through with backpressure, never buffered whole. The server's RSS grows by far less than
// 100 MiB over its idle baseline (about 55 MiB for a Node process with these modules loaded);
// the absolute peak (88–100 MiB measured) is reported as a diagnostic, because most of it is
// the baseline and garbage socket buffers that V8 frees on its own schedule.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "./helpers/paths.js";

const GiB = 1024 ** 3;
const LIMIT = 100 * 1024 * 1024;

let child: ReturnType<typeof spawn>;
let port = 0;
let baseline = 0;

function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

/** Samples the server's RSS every 20 ms while `work` runs; returns the peak. */
async function peakRss(work: () => Promise<void>): Promise<number> {
  let peak = rss(child.pid!);
  const timer = setInterval(() => {
    peak = Math.max(peak, rss(child.pid!));
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rss(child.pid!));
}

before(async () => {
  child = spawn(process.execPath, [join(repoRoot, "dist/test/helpers/streamserver.js")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  baseline = rss(child.pid!);
});

after(() => {
  child.kill();
});

test(
  "a 1 GiB upload streams through, server RSS growing by under 100 MiB",
  { timeout: 120_000 },
  async (t) => {
    let answer = "";
    const peak = await peakRss(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(port, "127.0.0.1");
          const piece = Buffer.alloc(256 * 1024, "u");
          let sent = 0;
          const pump = () => {
            while (sent < GiB) {
              sent += piece.length;
              if (!socket.write(piece)) {
                socket.once("drain", pump);
                return;
              }
            }
          };
          socket.on("connect", () => {
            socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${GiB}\r\n\r\n`);
            pump();
          });
          socket.on("data", (d: Buffer) => {
            answer += d.toString();
            if (/\r\n\r\n\d+$/.test(answer)) {
              socket.destroy();
              resolve();
            }
          });
          socket.on("error", reject);
        }),
    );
    t.diagnostic(
      `server RSS peak ${(peak / 2 ** 20).toFixed(1)} MiB, idle ${(baseline / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.match(answer, new RegExp(`\\r\\n\\r\\n${GiB}$`));
    assert.ok(
      peak - baseline < LIMIT,
      `server RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB`,
    );
  },
);

test(
  "a 1 GiB download streams through, server RSS growing by under 100 MiB",
  { timeout: 120_000 },
  async (t) => {
    let received = 0;
    const peak = await peakRss(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(port, "127.0.0.1", () =>
            socket.write(`GET /download?size=${GiB} HTTP/1.1\r\nHost: x\r\n\r\n`),
          );
          let headerDone = false;
          socket.on("data", (d: Buffer) => {
            if (!headerDone) {
              const i = d.indexOf("\r\n\r\n");
              if (i < 0) return;
              headerDone = true;
              d = d.subarray(i + 4);
            }
            received += d.length;
            if (received >= GiB) {
              socket.destroy();
              resolve();
            }
          });
          socket.on("error", reject);
        }),
    );
    t.diagnostic(
      `server RSS peak ${(peak / 2 ** 20).toFixed(1)} MiB, idle ${(baseline / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.equal(received, GiB);
    assert.ok(
      peak - baseline < LIMIT,
      `server RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB`,
    );
  },
);
