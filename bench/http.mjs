#!/usr/bin/env node
// HTTP server benchmark, side by side in one run: tornado-ts HTTPServer (plain callback),
// node:http, a raw-net fixed reply (the ceiling) and Python Tornado. The server runs pinned to
// CPU 0 and the load generator (wrk, h2load) to CPU 1, on 127.0.0.1 only; every run is bounded
// in time. Prints req/s and ratios to node:http.
//
// Client section: our AsyncHTTPClient (simple implementation, and the undici-backed one)
// against undici.request and fetch, each in its own process pinned to CPU 1, doing 20k GETs
// with 50 in flight against one node:http server pinned to CPU 0, in 5 interleaved rounds.
// Prints median req/s and client CPU per request, and their ratios to undici.request.
//
//   npm run build && node bench/http.mjs            # 3 s per run, 10 rounds
//   node bench/http.mjs --quick                      # 2 s per run
//   node bench/http.mjs --smoke                      # 1 s, keep-alive only, ours and node:http (CI)
//   node bench/http.mjs --only=keepalive,pipelined   # a subset of workloads
//   node bench/http.mjs --only=client                # the client section only
//   node bench/http.mjs --rounds=20                  # rounds per workload (10; 1 with --quick)
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const smoke = args.has("--smoke");
const quick = smoke || args.has("--quick");
const onlyArg = [...args].find((a) => a.startsWith("--only="));
const only = onlyArg ? new Set(onlyArg.slice(7).split(",")) : smoke ? new Set(["keepalive"]) : null;
const DURATION = smoke ? 1 : quick ? 2 : 3;
// Fairness looks at the slowest request of a run: a longer run gives starvation its chance.
const FAIRNESS_DURATION = quick ? DURATION : 10;
const roundsArg = [...args].find((a) => a.startsWith("--rounds="));
const ROUNDS = roundsArg ? Math.max(1, Number(roundsArg.slice(9)) || 1) : quick ? 1 : 10;
const want = (name) => only === null || only.has(name);

function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}
const HAS_TASKSET = have("taskset");
const pin = (cpu, cmd, cmdArgs) =>
  HAS_TASKSET ? ["taskset", ["-c", String(cpu), cmd, ...cmdArgs]] : [cmd, cmdArgs];

function pythonWithTornado() {
  for (const py of ["/usr/bin/python3", "python3"]) {
    if (spawnSync(py, ["-c", "import tornado"], { stdio: "ignore" }).status === 0) return py;
  }
  return null;
}

const SERVERS = [
  { name: "tornado-ts", cmd: process.execPath, args: [join(here, "servers/ours.mjs")] },
  { name: "node:http", cmd: process.execPath, args: [join(here, "servers/nodehttp.mjs")] },
  {
    name: "raw net",
    cmd: process.execPath,
    args: [join(here, "servers/rawnet.mjs")],
    noJson: true,
  },
  { name: "Tornado (Python)", python: true, args: [join(here, "servers/tornado_hello.py")] },
];

let nextPort = 18000 + Math.floor(Math.random() * 2000);

async function startServer(def) {
  const port = nextPort++;
  let cmd = def.cmd;
  if (def.python) {
    cmd = pythonWithTornado();
    if (cmd === null) return null;
  }
  const [c, a] = pin(0, cmd, [...def.args, String(port)]);
  const child = spawn(c, a, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${def.name} did not start`)), 15_000);
    child.stdout.on("data", (d) => {
      if (d.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`${def.name} exited with ${code}`)));
  });
  return { port, child, pid: child.pid };
}

function stopServer(s) {
  if (s) s.child.kill("SIGKILL");
}

/** CPU time (user + system) the process has used, in µs. */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function wrk(server, { connections, path = "/", script }) {
  const wrkArgs = ["-t1", `-c${connections}`, `-d${DURATION}s`, "--timeout", "5s"];
  if (script) wrkArgs.push("-s", script);
  wrkArgs.push(`http://127.0.0.1:${server.port}${path}`);
  const [c, a] = pin(1, "wrk", wrkArgs);
  const cpuBefore = cpuUs(server.pid);
  const r = spawnSync(c, a, { encoding: "utf8", timeout: (DURATION + 30) * 1000 });
  const cpu = cpuUs(server.pid) - cpuBefore;
  const requests = /(\d+) requests in/.exec(r.stdout ?? "");
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout ?? "");
  const errors = /Socket errors:([^\n]*)/.exec(r.stdout ?? "");
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout ?? "");
  return {
    rps: m ? Number(m[1]) : NaN,
    // Server CPU per request: unlike req/s, it does not count time the machine gave elsewhere.
    cpuPerRequest: requests ? cpu / Number(requests[1]) : NaN,
    errors: errors ? errors[1].trim() : "",
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

function toMs(value, unit) {
  const v = Number(value);
  return unit === "us" ? v / 1000 : unit === "s" ? v * 1000 : v;
}

function h2load(port, connections) {
  // A short warm-up burst first, discarded, for every server alike: the first thousand
  // connections of a fresh process also measure the JIT compiling its accept path.
  const [wc, wa] = pin(1, "h2load", [
    "--h1",
    `-c${connections}`,
    "-D",
    "2",
    "-t1",
    `http://127.0.0.1:${port}/`,
  ]);
  spawnSync(wc, wa, { encoding: "utf8", timeout: 60_000 });
  const [c, a] = pin(1, "h2load", [
    "--h1",
    `-c${connections}`,
    "-D",
    String(FAIRNESS_DURATION),
    "-t1",
    `http://127.0.0.1:${port}/`,
  ]);
  const r = spawnSync(c, a, { encoding: "utf8", timeout: (FAIRNESS_DURATION + 60) * 1000 });
  const out = r.stdout ?? "";
  const rps = /req\/s\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(out);
  const req = /time for request:\s*([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(
    out,
  );
  const total = /finished in [^,]+, ([\d.]+) req\/s/.exec(out);
  return {
    total: total ? Number(total[1]) : NaN,
    min: rps ? Number(rps[1]) : NaN,
    max: rps ? Number(rps[2]) : NaN,
    mean: rps ? Number(rps[3]) : NaN,
    slowestMs: req ? toMs(req[3], req[4]) : NaN,
  };
}

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

/** Opens `n` keep-alive connections, one request each, and measures the server's RSS growth. */
async function idleMemory(server, n) {
  const request = Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const sockets = [];
  global.gc?.();
  await new Promise((r) => setTimeout(r, 300));
  const before = rssKiB(server.pid);
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from(
        { length: Math.min(batch, n - i) },
        () =>
          new Promise((resolve, reject) => {
            const s = connect(server.port, "127.0.0.1", () => s.write(request));
            s.once("data", () => resolve());
            s.once("error", reject);
            sockets.push(s);
          }),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKiB(server.pid);
  for (const s of sockets) s.destroy();
  return ((after - before) * 1024) / n;
}

/** The median of the finite values (NaN if none). */
function median(values) {
  const v = values.filter(Number.isFinite).sort((x, y) => x - y);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
const fmt = (n) =>
  Number.isFinite(n) ? (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0)) : "n/a";
const ratio = (a, b) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : "";

async function main() {
  if (!have("wrk")) {
    console.log("bench/http: server section needs wrk (apt-get install wrk); skipped");
    return;
  }
  const workloads = [
    {
      name: "keepalive",
      label: "hello, keep-alive, wrk -t1 -c100",
      run: (server) => wrk(server, { connections: 100 }),
    },
    {
      name: "json",
      label: "small JSON, keep-alive, -c100",
      run: (server, d) => (d.noJson ? null : wrk(server, { connections: 100, path: "/json" })),
    },
    {
      name: "pipelined",
      label: "pipelined 16 deep, -c100",
      run: (server) =>
        wrk(server, { connections: 100, script: join(here, "servers/pipeline.lua") }),
    },
    {
      name: "c1000",
      label: "hello, 1,000 connections",
      run: (server) => wrk(server, { connections: quick ? 200 : 1000 }),
    },
  ].filter((w) => want(w.name));

  // Servers are started once and measured in rounds, each round running every server in a
  // rotated order: on a shared machine whose speed drifts by the minute, a ratio taken within
  // one round (median over rounds) is steadier than one between runs far apart. Short runs
  // and many rounds keep the runs compared close in time.
  const started = [];
  for (const def of SERVERS) {
    if (smoke && def.name !== "tornado-ts" && def.name !== "node:http") continue;
    const server = await startServer(def).catch((e) => {
      console.log(`${def.name}: ${e.message}`);
      return null;
    });
    if (server === null) {
      console.log(`${def.name}: not available (python3-tornado missing?)`);
      continue;
    }
    started.push({ def, server });
  }
  const runs = new Map(started.map(({ def }) => [def.name, {}]));
  const record = (name, key, value) => {
    const row = runs.get(name);
    (row[key] ??= []).push(value);
  };
  const fairnessServers = new Set(["tornado-ts", "node:http", "raw net"]);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // tornado-ts and node:http, the pair the main target compares, run back to back (which
      // one first alternates); the others follow in rotated order.
      const pair = started.filter(
        ({ def }) => def.name === "tornado-ts" || def.name === "node:http",
      );
      if (round % 2 === 1) pair.reverse();
      const rest = started.filter((s) => !pair.includes(s));
      const order = [...pair, ...rest.map((_, i) => rest[(i + round) % rest.length])];
      for (const w of workloads) {
        for (const { def, server } of order) {
          const r = w.run(server, def);
          if (r) record(def.name, w.name, r);
        }
      }
      // Fairness is a pass/fail property, not a ratio: three rounds show it.
      if (want("fairness") && have("h2load") && round < 3) {
        for (const { def, server } of order) {
          if (fairnessServers.has(def.name)) {
            record(def.name, "fairness", h2load(server.port, quick ? 200 : 1000));
          }
        }
      }
    }
  } finally {
    for (const { server } of started) stopServer(server);
  }
  // Idle memory needs a fresh process per server.
  if (want("memory")) {
    for (const def of SERVERS.filter((d) => d.name === "tornado-ts" || d.name === "node:http")) {
      const server = await startServer(def);
      try {
        record(def.name, "memory", await idleMemory(server, quick ? 1000 : 10_000));
      } finally {
        stopServer(server);
      }
    }
  }

  /**
   * The median over rounds of name's rate divided by base's rate in the same round; with
   * `byCpu`, of base's server CPU per request divided by name's (what the rate ratio would be
   * with both servers saturating their core).
   */
  const roundRatio = (name, base, key, byCpu = false) => {
    const a = runs.get(name)?.[key] ?? [];
    const b = runs.get(base)?.[key] ?? [];
    const ratios = a.map((r, i) => {
      if (!b[i]) return NaN;
      return byCpu ? b[i].cpuPerRequest / r.cpuPerRequest : r.rps / b[i].rps;
    });
    const m = median(ratios);
    return Number.isFinite(m) ? `${m.toFixed(2)}x` : "";
  };
  console.log(
    `\nHTTP server, ${DURATION} s per run, ${ROUNDS} round(s), server on CPU 0, load on CPU 1` +
      " (median req/s and ratio to node:http; median server CPU per request and the ratio it" +
      " gives; ratios are medians of per-round ratios)",
  );
  for (const w of workloads) {
    console.log(`\n${w.label}`);
    for (const [name, row] of runs) {
      const list = row[w.name];
      if (!list) continue;
      const errors = list.map((r) => r.errors).filter(Boolean);
      const non2xx = list.reduce((n, r) => n + r.non2xx, 0);
      const extra = [
        errors.length > 0 && `socket errors: ${errors[0]}`,
        non2xx && `${non2xx} non-2xx`,
      ]
        .filter(Boolean)
        .join("; ");
      const each = ROUNDS > 1 ? `  (${list.map((r) => fmt(r.rps)).join(", ")})` : "";
      const cpu = median(list.map((r) => r.cpuPerRequest));
      console.log(
        `  ${name.padEnd(18)} ${fmt(median(list.map((r) => r.rps))).padStart(8)}  ${roundRatio(name, "node:http", w.name).padStart(6)}` +
          `   cpu ${cpu.toFixed(1).padStart(5)} us/req ${roundRatio(name, "node:http", w.name, true).padStart(6)}${each}  ${extra}`,
      );
    }
  }
  if (runs.get("tornado-ts")?.keepalive && runs.get("raw net")?.keepalive) {
    console.log(
      `\n  tornado-ts / raw-net limit (keep-alive): ${roundRatio("tornado-ts", "raw net", "keepalive")}` +
        ` (by server CPU per request: ${roundRatio("tornado-ts", "raw net", "keepalive", true)})`,
    );
  }
  if ([...runs.values()].some((r) => r.fairness)) {
    console.log(
      `\nfairness, h2load --h1 -c${quick ? 200 : 1000} -D ${FAIRNESS_DURATION}: per-connection req/s min / mean, slowest request (each round)`,
    );
    for (const [name, row] of runs) {
      for (const f of row.fairness ?? []) {
        const share = f.mean > 0 ? (f.min / f.mean).toFixed(2) : "n/a";
        console.log(
          `  ${name.padEnd(18)} total ${fmt(f.total)} req/s; min ${f.min} / mean ${f.mean} (${share}x); slowest ${f.slowestMs.toFixed(0)} ms`,
        );
      }
    }
  }
  if ([...runs.values()].some((r) => r.memory)) {
    console.log(`\nmemory per idle keep-alive connection (${quick ? 1000 : 10000} held)`);
    for (const [name, row] of runs) {
      if (row.memory !== undefined)
        console.log(`  ${name.padEnd(18)} ${row.memory[0].toFixed(0)} bytes`);
    }
  }
}

// --- client section ---------------------------------------------------------------------------

const CLIENT_REQUESTS = quick ? 5_000 : 20_000;
const CLIENT_IN_FLIGHT = 50;
const CLIENTS = [
  { name: "undici.request", impl: "undici" },
  { name: "fetch (Node)", impl: "fetch" },
  { name: "tornado-ts simple", impl: "simple" },
  { name: "tornado-ts undici", impl: "tornado-undici" },
];

/**
 * In a worker process: `count` GETs, `inFlight` at a time, with one client; prints req/s and
 * the process's CPU time per request (µs).
 */
async function clientWorker(impl, port, count, inFlight) {
  const url = `http://127.0.0.1:${port}/`;
  let get;
  let close = () => {};
  if (impl === "undici" || impl === "fetch") {
    const undici = await import("undici");
    if (impl === "undici") {
      get = async () => {
        const { statusCode, body } = await undici.request(url);
        await body.dump();
        if (statusCode !== 200) throw new Error(`status ${statusCode}`);
      };
    } else {
      get = async () => {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`status ${response.status}`);
      };
    }
  } else {
    const options = { maxClients: inFlight, maxIdlePerOrigin: inFlight };
    let client;
    if (impl === "simple") {
      const { SimpleAsyncHTTPClient } = await import("tornado-ts/simple_httpclient");
      client = new SimpleAsyncHTTPClient(options);
    } else {
      // Needs "./undici_httpclient" in package.json exports.
      const module = await import("tornado-ts/undici_httpclient").catch(() => null);
      if (module === null) {
        console.error("tornado-ts/undici_httpclient is not in package.json exports");
        process.exit(2);
      }
      client = new module.UndiciAsyncHTTPClient(options);
    }
    get = async () => {
      const response = await client.fetch(url);
      if (response.code !== 200) throw new Error(`status ${response.code}`);
    };
    close = () => client.close();
  }
  const run = async (n) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < n) {
          next++;
          await get();
        }
      }),
    );
  };
  await run(Math.min(2000, count)); // warm-up: connections open, code optimised
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  await run(count);
  const cpu = process.cpuUsage(cpuStart);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  close();
  console.log(JSON.stringify({ rps: count / seconds, cpuUs: (cpu.user + cpu.system) / count }));
}

function runClient(def, port) {
  const [c, a] = pin(1, process.execPath, [
    fileURLToPath(import.meta.url),
    `--client-worker=${def.impl}`,
    `--port=${port}`,
  ]);
  const r = spawnSync(c, a, { encoding: "utf8", timeout: 120_000 });
  const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    const { rps, cpuUs } = JSON.parse(line);
    return { rps, cpuUs };
  } catch {
    const why = (r.stderr ?? "").split("\n").filter(Boolean).slice(0, 2).join(" ");
    console.log(`  ${def.name}: failed (${r.error?.message ?? `exit ${r.status}`}) ${why}`);
    return { rps: NaN, cpuUs: NaN };
  }
}

const CLIENT_ROUNDS = quick ? 1 : 5;

async function clientMain() {
  const server = await startServer(SERVERS.find((s) => s.name === "node:http"));
  const results = new Map(CLIENTS.map((def) => [def.name, { rps: [], cpuUs: [] }]));
  try {
    // Interleaved rounds; medians of each, to damp the noise of a shared machine. The
    // client's CPU time per request compares implementations even when the machine slows.
    for (let round = 0; round < CLIENT_ROUNDS; round++) {
      for (const def of CLIENTS) {
        const { rps, cpuUs } = runClient(def, server.port);
        const r = results.get(def.name);
        if (Number.isFinite(rps)) r.rps.push(rps);
        if (Number.isFinite(cpuUs)) r.cpuUs.push(cpuUs);
      }
    }
  } finally {
    stopServer(server);
  }
  const base = results.get("undici.request");
  const baseRps = median(base.rps);
  const baseCpu = median(base.cpuUs);
  console.log(
    `\nHTTP client, ${CLIENT_REQUESTS} GETs, ${CLIENT_IN_FLIGHT} in flight, node:http server on CPU 0, client on CPU 1 (median req/s and client CPU per request of ${CLIENT_ROUNDS} round(s); ratios to undici.request)`,
  );
  for (const [name, r] of results) {
    const rps = median(r.rps);
    const cpu = median(r.cpuUs);
    console.log(
      `  ${name.padEnd(18)} ${fmt(rps).padStart(8)}  ${ratio(rps, baseRps).padStart(6)}   cpu ${cpu.toFixed(1).padStart(6)} us/req  ${ratio(baseCpu, cpu).padStart(6)}`,
    );
  }
}

const workerArg = [...args].find((a) => a.startsWith("--client-worker="));
if (workerArg) {
  const port = Number([...args].find((a) => a.startsWith("--port=")).slice(7));
  await clientWorker(workerArg.slice(16), port, CLIENT_REQUESTS, CLIENT_IN_FLIGHT);
} else {
  if (only === null || [...only].some((w) => w !== "client")) await main();
  if (want("client")) await clientMain();
}
