// The one timer of a server connection, re-armed per request phase: arming notes a deadline,
// and the Node timer catches up with it when it fires (see ConnectionTimer).
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { type TestContext, test } from "node:test";
import { ConnectionTimer, type HTTP1Connection } from "../src/http1connection.js";

/**
 * A stand-in connection whose onTimeout resolves with the time it ran. The connection timer
 * is unref()ed, so an interval keeps the process up until then.
 */
function target(t: TestContext): { connection: HTTP1Connection; fired: Promise<number> } {
  let resolve: (at: number) => void = () => {};
  const keepAlive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(keepAlive));
  const fired = new Promise<number>((r) => {
    resolve = r;
  }).finally(() => clearInterval(keepAlive));
  const connection = { onTimeout: () => resolve(performance.now()) } as unknown as HTTP1Connection;
  return { connection, fired };
}

test("re-arming for longer moves the deadline out: the timer fires no earlier", async (t) => {
  const timer = new ConnectionTimer();
  t.after(() => timer.dispose());
  const { connection, fired } = target(t);
  const start = performance.now();
  timer.arm(40, connection);
  timer.arm(150, connection);
  assert.ok((await fired) - start >= 149);
});

test("re-arming for shorter brings the timer forward", async (t) => {
  const timer = new ConnectionTimer();
  t.after(() => timer.dispose());
  const long = target(t);
  const short = target(t);
  const start = performance.now();
  timer.arm(60_000, long.connection);
  timer.arm(40, short.connection);
  const at = await short.fired;
  assert.ok(at - start >= 39);
  assert.ok(at - start < 30_000, "the 60 s timer did not hold it back");
});

test("a disarmed phase never times out; the next armed target does", async (t) => {
  const timer = new ConnectionTimer();
  t.after(() => timer.dispose());
  const first = target(t);
  const second = target(t);
  let firstFired = false;
  void first.fired.then(() => (firstFired = true));
  const start = performance.now();
  timer.arm(30, first.connection);
  timer.disarm();
  timer.arm(80, second.connection);
  assert.ok((await second.fired) - start >= 79);
  assert.equal(firstFired, false);
});
