/**
 * The script each {@link ThreadPoolExecutor} worker thread runs (internal to `tornado-ts/ioloop`).
 *
 * It receives one task at a time from the pool: either a function's source text, compiled
 * once and cached, or a `{ module, exportName }` reference, imported once by the module
 * system. It calls the function with the structured-cloned arguments, awaits a returned
 * Promise, and posts back the result or the error (as plain data, see {@link serializeError}).
 *
 * @internal
 */

import { parentPort } from "node:worker_threads";
import { type RemoteError, type TaskMessage, serializeError } from "./protocol.js";

type AnyFunction = (...args: unknown[]) => unknown;

/** Compiled function sources, by source text; bounded so a stream of unique sources cannot leak. */
const compiled = new Map<string, AnyFunction>();
const COMPILED_MAX = 256;

function compile(source: string): AnyFunction {
  const cached = compiled.get(source);
  if (cached !== undefined) return cached;
  let value: unknown;
  try {
    // Indirect eval: the function is built in this worker's global scope, as module code
    // is strict. It sees globals (Buffer, process, require is absent in ESM) but no closure.
    value = (0, eval)(`"use strict";(${source}\n)`);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // A method's source (`work(x) { ... }`, `async work(x) { ... }`) is not an expression on
    // its own; inside an object literal it is.
    const holder = (0, eval)(`"use strict";({${source}\n})`) as Record<string, unknown>;
    value = Object.values(holder)[0];
  }
  if (typeof value !== "function") {
    throw new TypeError("the executor task's source did not evaluate to a function");
  }
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value as string);
  compiled.set(source, value as AnyFunction);
  return value as AnyFunction;
}

async function load(module: string, exportName: string): Promise<AnyFunction> {
  const namespace = (await import(module)) as Record<string, unknown>;
  const value = namespace[exportName];
  if (typeof value !== "function") {
    throw new TypeError(`export ${JSON.stringify(exportName)} of ${module} is not a function`);
  }
  return value as AnyFunction;
}

async function run(message: TaskMessage): Promise<unknown> {
  const fn =
    message.source !== undefined
      ? compile(message.source)
      : await load(message.module!, message.exportName!);
  return await fn(...message.args);
}

function reply(id: number, value: unknown): void {
  try {
    parentPort!.postMessage({ id, ok: true, value });
  } catch (error) {
    // The result cannot be structured-cloned (a function, a class instance with private
    // state, a socket): report that as the task's error instead of dying.
    const failure: RemoteError = serializeError(error);
    failure.message = `the result of the executor task cannot be sent back: ${failure.message}`;
    parentPort!.postMessage({ id, ok: false, error: failure });
  }
}

function onMessage(message: TaskMessage): void {
  run(message).then(
    (value) => reply(message.id, value),
    (error: unknown) =>
      parentPort!.postMessage({ id: message.id, ok: false, error: serializeError(error) }),
  );
}

parentPort!.on("message", onMessage);
