#!/usr/bin/env node
// Connection-rate benchmarks for TCPServer and TCPClient, side by side with raw net and with
// Python Tornado (Debian's python3-tornado, when present).
//
//   npm run build && node bench/tcpserver.mjs [connections] [concurrency]
//
// 1. Server: a load generator in a child process (raw net) opens `connections` connections
//    (default 3000), `concurrency` at a time (default 32); on each it writes one line, reads
//    the echo and closes. Servers: tornado-ts TCPServer (handleStream: readUntil + write +
//    close), a raw net.Server doing the same with a 'data' handler, and Python Tornado's
//    TCPServer (same handle_stream) when available.
// 2. Client: this process opens connections to a raw net echo server in a child process, with
//    tornado-ts TCPClient.connect (resolver + connector + IOStream) or net.connect; same
//    line-echo-close per connection.
// Each contender runs several rounds, alternating; the median connections per second is
// reported, with the ratio tornado-ts / other (above 1: tornado-ts is faster).
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { TCPClient } from "tornado-ts/tcpclient";
import { TCPServer } from "tornado-ts/tcpserver";

const ROUNDS = 5;
const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- child roles

async function load(port, connections, concurrency) {
  const started = performance.now();
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1" });
      socket.setNoDelay(true);
      let got = "";
      socket.on("connect", () => socket.write("ping\n"));
      socket.setEncoding("latin1");
      socket.on("data", (chunk) => {
        got += chunk;
        if (got.endsWith("\n")) socket.end();
      });
      socket.on("close", () => (got === "ping\n" ? resolve() : reject(new Error(`got ${got}`))));
      socket.on("error", reject);
    });
  const worker = async () => {
    while (next < connections) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  process.stdout.write(JSON.stringify({ elapsed }) + "\n");
}

function rawEchoServer() {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let got = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      got += chunk;
      const end = got.indexOf("\n");
      if (end >= 0) socket.end(got.slice(0, end + 1));
    });
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
}

// ---------------------------------------------------------------- contenders

class EchoServer extends TCPServer {
  async handleStream(stream) {
    stream.setNodelay(true);
    try {
      const line = await stream.readUntil("\n");
      await stream.write(line);
    } finally {
      stream.close();
    }
  }
}

async function startTornadoTs() {
  const server = new EchoServer();
  await server.listen(0, "127.0.0.1");
  return { port: server.addresses()[0].port, stop: () => server.stop() };
}

async function startRawInProcess() {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let got = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      got += chunk;
      const end = got.indexOf("\n");
      if (end >= 0) socket.end(got.slice(0, end + 1));
    });
    socket.on("error", () => {});
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: server.address().port, stop: () => server.close() };
}

const PYTHON_SERVER = `
import asyncio
from tornado.iostream import StreamClosedError
from tornado.netutil import bind_sockets
from tornado.tcpserver import TCPServer

class Echo(TCPServer):
    async def handle_stream(self, stream, address):
        stream.set_nodelay(True)
        try:
            line = await stream.read_until(b"\\n")
            await stream.write(line)
        except StreamClosedError:
            pass
        finally:
            stream.close()

async def main():
    sockets = bind_sockets(0, "127.0.0.1")
    Echo().add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
`;

function findPython() {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const r = spawnSync(candidate, ["-c", "import tornado"], { stdio: "ignore", timeout: 20_000 });
    if (r.status === 0) return candidate;
  }
  return null;
}

async function startChild(command, args) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.setEncoding("utf8");
  const [line] = await once(child.stdout, "data");
  return { port: Number(line.trim()), stop: () => child.kill() };
}

async function runLoad(port, connections, concurrency) {
  const child = spawn(
    process.execPath,
    [self, "--load", String(port), String(connections), String(concurrency)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (out += chunk));
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return (connections / JSON.parse(out).elapsed) * 1000;
}

async function clientRun(port, connections, concurrency, useTornado) {
  const client = new TCPClient();
  let next = 0;
  const one = async () => {
    if (useTornado) {
      const stream = await client.connect("127.0.0.1", port);
      stream.setNodelay(true);
      await stream.write("ping\n");
      await stream.readUntilClose();
      stream.close();
      return;
    }
    await new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1" });
      socket.setNoDelay(true);
      socket.on("connect", () => socket.write("ping\n"));
      socket.on("data", () => {});
      socket.on("end", () => socket.destroy());
      socket.on("close", resolve);
      socket.on("error", reject);
    });
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < connections) {
        next++;
        await one();
      }
    }),
  );
  const elapsed = performance.now() - started;
  client.close();
  return (connections / elapsed) * 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const connections = Number(process.argv[2] ?? 3000);
  const concurrency = Number(process.argv[3] ?? 32);
  console.log(
    `tcpserver bench: ${connections} connections, ${concurrency} at a time, ${ROUNDS} rounds (median conn/s)`,
  );

  // 1. Servers.
  const contenders = [
    ["tornado-ts TCPServer", startTornadoTs],
    ["raw net.Server", startRawInProcess],
  ];
  const python = findPython();
  if (python !== null)
    contenders.push(["Python Tornado TCPServer", () => startChild(python, ["-c", PYTHON_SERVER])]);
  else console.log("(Python Tornado not found: apt-get install python3-tornado)");
  const results = new Map(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, start] of contenders) {
      const server = await start();
      try {
        results.get(name).push(await runLoad(server.port, connections, concurrency));
      } finally {
        server.stop();
      }
    }
  }
  const ours = median(results.get("tornado-ts TCPServer"));
  for (const [name, values] of results) {
    const m = median(values);
    const ratio = name.startsWith("tornado-ts")
      ? ""
      : `  (tornado-ts / this = ${(ours / m).toFixed(2)}x)`;
    console.log(`  server ${name.padEnd(26)} ${m.toFixed(0).padStart(7)} conn/s${ratio}`);
  }

  // 2. Clients, against a raw echo server in a child process.
  const target = await startChild(process.execPath, [self, "--raw-server"]);
  try {
    const tornado = [];
    const raw = [];
    for (let round = 0; round < ROUNDS; round++) {
      tornado.push(await clientRun(target.port, connections, concurrency, true));
      raw.push(await clientRun(target.port, connections, concurrency, false));
    }
    const t = median(tornado);
    const r = median(raw);
    console.log(`  client tornado-ts TCPClient      ${t.toFixed(0).padStart(7)} conn/s`);
    console.log(
      `  client raw net.connect          ${r.toFixed(0).padStart(7)} conn/s  (tornado-ts / this = ${(t / r).toFixed(2)}x)`,
    );
  } finally {
    target.stop();
  }
  process.exit(0);
}

// ---------------------------------------------------------------- entry

if (process.argv[2] === "--load") {
  await load(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
  process.exit(0);
}
if (process.argv[2] === "--raw-server") {
  rawEchoServer();
} else {
  await main();
}
