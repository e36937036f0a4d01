import assert from "node:assert/strict";
import { test } from "node:test";
import { StreamClosedError } from "../src/iostream.js";
import {
  CalledProcessError,
  cpuCount,
  Subprocess,
  SubprocessError,
  taskId,
} from "../src/process.js";
import { TCPClient } from "../src/tcpclient.js";
import { TimeoutError } from "../src/util.js";
import { fixture } from "./helpers/paths.js";

type TestContext = { after: (fn: () => unknown) => void };

const NODE = process.execPath;

/** Runs a fixture script under node with stdout as a stream; killed after the test. */
function runScript(t: TestContext, name: string): { child: Subprocess; stderr: () => string } {
  const child = new Subprocess([NODE, fixture("network", name)], {
    stdout: Subprocess.STREAM,
    stderr: "pipe",
  });
  let stderr = "";
  child.proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  t.after(() => {
    child.stdout!.close();
    // Workers of a dead primary leave the cluster by themselves.
    if (child.returncode === null) child.proc.kill("SIGKILL");
  });
  return { child, stderr: () => stderr };
}

async function readLine(child: Subprocess): Promise<string> {
  return (await child.stdout!.readUntil("\n")).toString().trimEnd();
}

test("cpuCount is at least 1 and taskId is null outside workers", () => {
  assert.ok(Number.isInteger(cpuCount()) && cpuCount() >= 1);
  assert.equal(taskId(), null);
});

test(
  "forkProcesses runs workers on one port and restarts a killed one [test_multi_process]",
  {
    timeout: 60_000,
  },
  async (t) => {
    const { child, stderr } = runScript(t, "fork_server.mjs");
    const pids = new Map<string, string>();
    let port = 0;
    for (let i = 0; i < 2; i++) {
      const [word, id, pid, workerPort] = (await readLine(child)).split(" ");
      assert.equal(word, "listening");
      pids.set(id!, pid!);
      if (port === 0) port = Number(workerPort);
      assert.equal(Number(workerPort), port, "both workers share the port");
    }
    assert.deepEqual([...pids.keys()].sort(), ["0", "1"]);

    const client = new TCPClient();
    t.after(() => client.close());
    const ask = async (command: string): Promise<string> => {
      const stream = await client.connect("127.0.0.1", port, { timeout: 5000 });
      try {
        await stream.write(`${command}\n`);
        return (await stream.readUntil("\n")).toString().trimEnd();
      } finally {
        stream.close();
      }
    };
    const askUntil = async (want: (answer: string) => boolean): Promise<Set<string>> => {
      const answers = new Set<string>();
      for (let i = 0; i < 20 && ![...answers].some(want); i++) answers.add(await ask("id"));
      return answers;
    };

    // Both workers answer on the shared port.
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) seen.add((await ask("id")).split(" ")[0]!);
    assert.deepEqual([...seen].sort(), ["0", "1"]);

    // Kill worker 1: the primary starts a new worker 1 on the same port.
    process.kill(Number(pids.get("1")), "SIGKILL");
    const [word, id, pid, workerPort] = (await readLine(child)).split(" ");
    assert.deepEqual([word, id, workerPort], ["listening", "1", String(port)]);
    assert.notEqual(pid, pids.get("1"));
    const answers = await askUntil((answer) => answer === `1 ${pid}`);
    assert.ok(answers.has(`1 ${pid}`), `the new worker 1 answers (got ${[...answers]})`);
    assert.match(stderr(), /child 1 \(pid \d+\) killed by signal SIGKILL, restarting/);

    // Both leave cleanly: the primary exits with status 0.
    let byes = 0;
    for (let i = 0; i < 10 && byes < 2; i++) {
      try {
        if ((await ask("quit")) === "bye") byes++;
      } catch (error) {
        // A connection handed to a worker on its way out: try again.
        if (!(error instanceof StreamClosedError || error instanceof TimeoutError)) throw error;
      }
    }
    assert.equal(byes, 2);
    assert.equal(await child.waitForExit(), 0);
    assert.match(stderr(), /child 0 \(pid \d+\) exited normally/);
  },
);

test("forkProcesses gives up after maxRestarts", { timeout: 30_000 }, async (t) => {
  const { child, stderr } = runScript(t, "fork_crash.mjs");
  assert.equal(await readLine(child), "primary: ForkProcessesError ERR_TOO_MANY_RESTARTS");
  assert.equal(await child.waitForExit({ raiseError: false }), 7);
  assert.match(stderr(), /exited with status 3, restarting/);
});

test("forkProcesses refuses a worker it did not start", { timeout: 30_000 }, async (t) => {
  const { child } = runScript(t, "not_forked.mjs");
  assert.equal(await readLine(child), "worker: ForkProcessesError ERR_NOT_FORKED");
  assert.equal(await child.waitForExit(), 0);
});

test("forkProcesses refuses a second call in the primary", { timeout: 30_000 }, async (t) => {
  const { child } = runScript(t, "fork_twice.mjs");
  const lines = [await readLine(child), await readLine(child)].sort();
  assert.deepEqual(lines, ["primary: ForkProcessesError ERR_ALREADY_FORKED", "worker: 0"]);
  assert.equal(await child.waitForExit(), 0);
});

test("Subprocess pipes stdin and stdout as streams [test_subprocess]", async (t) => {
  const cat = new Subprocess(["cat"], { stdin: Subprocess.STREAM, stdout: Subprocess.STREAM });
  t.after(() => cat.proc.kill());
  assert.ok(cat.pid !== undefined && cat.pid > 0);
  await cat.stdin!.write("hello\n");
  assert.equal((await cat.stdout!.readUntil("\n")).toString(), "hello\n");
  await cat.stdin!.write("world\n");
  assert.equal((await cat.stdout!.readUntil("\n")).toString(), "world\n");
  cat.stdin!.close();
  assert.equal((await cat.stdout!.readUntilClose()).length, 0);
  assert.equal(await cat.waitForExit(), 0);
  assert.equal(cat.returncode, 0);
});

test("closing stdin ends the child's input [test_close_stdin]", async (t) => {
  const child = new Subprocess([NODE, "-e", "process.stdin.pipe(process.stdout)"], {
    stdin: Subprocess.STREAM,
    stdout: Subprocess.STREAM,
  });
  t.after(() => child.proc.kill());
  const big = Buffer.alloc(256 * 1024, "x");
  const written = child.stdin!.write(big);
  const output = child.stdout!.readUntilClose();
  await written;
  child.stdin!.close();
  assert.deepEqual(await output, big);
  assert.equal(await child.waitForExit(), 0);
});

test("Subprocess reads stderr as a stream [test_stderr]", async (t) => {
  const child = new Subprocess(["sh", "-c", "echo hello >&2"], { stderr: Subprocess.STREAM });
  t.after(() => child.proc.kill());
  assert.equal(child.stdout, null);
  assert.equal((await child.stderr!.readUntil("\n")).toString(), "hello\n");
  assert.equal(await child.waitForExit(), 0);
});

test("the exit callback gets the status [test_sigchild]", async (t) => {
  const child = new Subprocess(["true"]);
  t.after(() => child.proc.kill());
  const status = await new Promise<number>((resolve) => child.setExitCallback(resolve));
  assert.equal(status, 0);
  assert.equal(child.returncode, 0);
  // Set after the exit, it still runs.
  assert.equal(await new Promise<number>((resolve) => child.setExitCallback(resolve)), 0);
});

test("waitForExit resolves with the status [test_sigchild_future]", async () => {
  const child = new Subprocess(["true"]);
  assert.equal(await child.waitForExit(), 0);
  assert.equal(child.returncode, 0);
  // Waiting again after the exit answers at once.
  assert.equal(await child.waitForExit(), 0);
});

test("a process killed by a signal reports minus the signal number [test_sigchild_signal]", async () => {
  const child = new Subprocess([NODE, "-e", "setTimeout(() => {}, 60_000)"], {
    stdout: Subprocess.STREAM,
  });
  const exited = new Promise<number>((resolve) => child.setExitCallback(resolve));
  child.proc.kill("SIGTERM");
  assert.equal(await exited, -15);
  assert.equal(child.returncode, -15);
  await assert.rejects(child.waitForExit(), (error: unknown) => {
    assert.ok(error instanceof CalledProcessError);
    assert.equal(error.returncode, -15);
    return true;
  });
});

test("waitForExit rejects on a non-zero status [test_wait_for_exit_raise]", async () => {
  const child = new Subprocess(["sh", "-c", "exit 1"]);
  await assert.rejects(child.waitForExit(), (error: unknown) => {
    assert.ok(error instanceof CalledProcessError);
    assert.equal(error.code, "ERR_CALLED_PROCESS");
    assert.equal(error.returncode, 1);
    assert.deepEqual(error.cmd, ["sh", "-c", "exit 1"]);
    return true;
  });
});

test("waitForExit with raiseError false resolves with the status [test_wait_for_exit_raise_disabled]", async () => {
  const child = new Subprocess(["sh", "-c", "exit 3"]);
  assert.equal(await child.waitForExit({ raiseError: false }), 3);
});

test("a command that cannot start fails with SubprocessError", async () => {
  const child = new Subprocess(["/nonexistent/tornado-ts-command"], {
    stdout: Subprocess.STREAM,
  });
  await assert.rejects(child.waitForExit(), (error: unknown) => {
    assert.ok(error instanceof SubprocessError);
    assert.equal(error.code, "ERR_SPAWN");
    assert.equal((error.cause as NodeJS.ErrnoException).code, "ENOENT");
    return true;
  });
  assert.equal(child.stdout!.closed(), true);
  assert.throws(() => new Subprocess([]), TypeError);
  assert.throws(() => new Subprocess("ls" as unknown as string[]), TypeError);
});

test("other stdio values go to spawn as they are", async () => {
  const child = new Subprocess(["sh", "-c", "echo plain"], { stdout: "pipe" });
  assert.equal(child.stdout, null);
  let output = "";
  child.proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const closed = new Promise((resolve) => child.proc.once("close", resolve));
  assert.equal(await child.waitForExit(), 0);
  await closed;
  assert.equal(output, "plain\n");
});
