import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CancelledError,
  chainFuture,
  DummyExecutor,
  Future,
  futureAddDoneCallback,
  futureSetExceptionUnlessCancelled,
  futureSetResultUnlessCancelled,
  InvalidStateError,
  isFuture,
} from "../src/concurrent.js";
import { appLog } from "../src/log.js";
import { ExpectLog } from "../src/testing.js";

test("a Future resolves awaiters with its result", async () => {
  const f = new Future<number>();
  assert.equal(f.done(), false);
  setImmediate(() => f.setResult(42));
  assert.equal(await f, 42);
  assert.equal(f.result(), 42);
  assert.equal(f.exception(), undefined);
});

test("a failed Future rejects awaiters and result() throws", async () => {
  const f = new Future<number>();
  const error = new Error("boom");
  f.setException(error);
  await assert.rejects(f, error);
  assert.throws(() => f.result(), error);
  assert.equal(f.exception(), error);
});

test("a failed Future nobody awaits raises no unhandled rejection", async () => {
  let unhandled = false;
  const onUnhandled = () => {
    unhandled = true;
  };
  process.on("unhandledRejection", onUnhandled);
  new Future<void>().setException(new Error("ignored"));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  process.off("unhandledRejection", onUnhandled);
  assert.equal(unhandled, false);
});

test("result() before completion throws InvalidStateError; setting twice throws", () => {
  const f = new Future<number>();
  assert.throws(() => f.result(), InvalidStateError);
  f.setResult(1);
  assert.throws(() => f.setResult(2), InvalidStateError);
  assert.throws(() => f.setException(new Error()), InvalidStateError);
});

test("cancel fails the Future with CancelledError and only works while pending", async () => {
  const f = new Future<number>();
  assert.equal(f.cancel(), true);
  assert.equal(f.cancelled(), true);
  assert.equal(f.cancel(), false);
  await assert.rejects(f, CancelledError);
  const g = new Future<number>();
  g.setResult(1);
  assert.equal(g.cancel(), false);
});

test("addDoneCallback runs later, never inline, in the order added", async () => {
  const f = new Future<string>();
  f.setResult("x");
  const order: string[] = [];
  f.addDoneCallback(() => order.push("a"));
  f.addDoneCallback(() => order.push("b"));
  order.push("sync");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ["sync", "a", "b"]);
});

test("futureAddDoneCallback runs inline when the Future is already done", () => {
  const f = new Future<number>();
  f.setResult(3);
  let seen = 0;
  futureAddDoneCallback(f, (done) => {
    seen = done.result();
  });
  assert.equal(seen, 3);
});

test("futureAddDoneCallback accepts a plain Promise", async () => {
  const seen = await new Promise<number>((resolve) => {
    futureAddDoneCallback(Promise.resolve(7), (done) => resolve(done.result()));
  });
  assert.equal(seen, 7);
});

test("chainFuture copies the result [test_asyncio_futures]", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  chainFuture(a, b);
  a.setResult(5);
  assert.equal(await b, 5);
});

test("chainFuture copies an error from a Promise", async () => {
  const b = new Future<number>();
  chainFuture(Promise.reject(new Error("e")), b);
  await assert.rejects(b, /e/);
});

test("chainFuture leaves a cancelled target alone", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  chainFuture(a, b);
  b.cancel();
  a.setResult(1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(b.cancelled(), true);
});

test("futureSetResultUnlessCancelled ignores a cancelled Future [test_future_set_result_unless_cancelled]", () => {
  const f = new Future<number>();
  f.cancel();
  futureSetResultUnlessCancelled(f, 1);
  assert.equal(f.cancelled(), true);
});

test("futureSetExceptionUnlessCancelled logs the error of a cancelled Future", () => {
  const f = new Future<number>();
  f.cancel();
  using expect = new ExpectLog(appLog, /Exception after Future was cancelled/);
  futureSetExceptionUnlessCancelled(f, new Error("lost?"));
  assert.equal(expect.matched, 1);
  const g = new Future<number>();
  futureSetExceptionUnlessCancelled(g, new Error("kept"));
  assert.throws(() => g.result(), /kept/);
});

test("isFuture tells Futures from Promises", () => {
  assert.equal(isFuture(new Future()), true);
  assert.equal(isFuture(Promise.resolve()), false);
  assert.equal(isFuture(null), false);
});

test("DummyExecutor runs inline and reports errors through the Promise", async () => {
  const ex = new DummyExecutor();
  let ran = false;
  const p = ex.submit((x: number) => {
    ran = true;
    return x * 2;
  }, 21);
  assert.equal(ran, true);
  assert.equal(await p, 42);
  await assert.rejects(
    ex.submit(() => {
      throw new Error("inline");
    }),
    /inline/,
  );
});
