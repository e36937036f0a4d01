// Full garbage collections for leak tests. The test runner passes no per-file flags, so
// --expose-gc is turned on at run time: a context created afterwards gets a `gc` function.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | null = null;

/** Runs a full, synchronous garbage collection. */
export function collectGarbage(): void {
  if (gc === null) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === "function") gc = existing;
    else {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    }
  }
  gc();
}

/** `heapUsed` in bytes after pending callbacks ran and two full collections. */
export async function heapUsedAfterGc(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * Counts Futures as they complete, without keeping them: `track(f)` for each, then
 * `await allDone()`.
 */
export function completionCounter(): {
  track(future: { addDoneCallback(callback: () => void): void }): void;
  allDone(): Promise<void>;
} {
  let pending = 0;
  let wake: (() => void) | null = null;
  const onDone = (): void => {
    if (--pending === 0 && wake !== null) wake();
  };
  return {
    track(future) {
      pending++;
      future.addDoneCallback(onDone);
    },
    allDone() {
      if (pending === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        wake = () => {
          wake = null;
          resolve();
        };
      });
    },
  };
}
