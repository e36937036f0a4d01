// TCPServer and TCPClient against Python Tornado's, over TLS with Tornado-style ssl options on
// both sides (Debian's python3-tornado).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { IOStream } from "../src/iostream.js";
import { Subprocess } from "../src/process.js";
import { TCPClient } from "../src/tcpclient.js";
import { TCPServer } from "../src/tcpserver.js";
import { CERT, KEY } from "./helpers/network.js";
import { needPeer, pythonWithTornado } from "./helpers/peers.js";

const PYTHON_SERVER = `
import asyncio, sys
from tornado.iostream import StreamClosedError
from tornado.tcpserver import TCPServer

class Echo(TCPServer):
    async def handle_stream(self, stream, address):
        try:
            while True:
                line = await stream.read_until(b"\\n")
                await stream.write(b"py:" + line)
        except StreamClosedError:
            pass

async def main():
    server = Echo(ssl_options={"certfile": sys.argv[1], "keyfile": sys.argv[2]})
    sockets = __import__("tornado.netutil").netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
`;

const PYTHON_CLIENT = `
import asyncio, ssl, sys
from tornado.tcpclient import TCPClient

async def main():
    context = ssl.create_default_context(cafile=sys.argv[2])
    stream = await TCPClient().connect("localhost", int(sys.argv[1]), ssl_options=context)
    await stream.write(b"hello from python\\n")
    print((await stream.read_until(b"\\n")).decode().strip(), flush=True)
    stream.close()

asyncio.run(main())
`;

test(
  "TCPClient talks TLS to Python Tornado's TCPServer",
  {
    skip: needPeer("python3-tornado"),
    timeout: 30_000,
  },
  async (t) => {
    const server = new Subprocess([pythonWithTornado()!, "-c", PYTHON_SERVER, CERT, KEY], {
      stdout: Subprocess.STREAM,
    });
    t.after(() => {
      if (server.returncode === null) server.proc.kill();
    });
    const port = Number((await server.stdout!.readUntil("\n")).toString());
    const client = new TCPClient();
    t.after(() => client.close());
    const stream = await client.connect("localhost", port, { ssl: { ca_certs: CERT } });
    t.after(() => stream.close());
    await stream.write("hello from node\n");
    assert.equal((await stream.readUntil("\n")).toString(), "py:hello from node\n");
  },
);

test(
  "Python Tornado's TCPClient talks TLS to TCPServer",
  {
    skip: needPeer("python3-tornado"),
    timeout: 30_000,
  },
  async (t) => {
    class Echo extends TCPServer {
      override async handleStream(stream: IOStream): Promise<void> {
        const line = await stream.readUntil("\n");
        await stream.write(Buffer.concat([Buffer.from("node:"), line]));
      }
    }
    const server = new Echo({ ssl: { certfile: CERT, keyfile: KEY } });
    t.after(() => server.stop());
    await server.listen(0, "127.0.0.1");
    const client = new Subprocess(
      [pythonWithTornado()!, "-c", PYTHON_CLIENT, String(server.addresses()[0]!.port), CERT],
      { stdout: Subprocess.STREAM },
    );
    t.after(() => {
      if (client.returncode === null) client.proc.kill();
    });
    assert.equal((await client.stdout!.readUntilClose()).toString(), "node:hello from python\n");
    assert.equal(await client.waitForExit(), 0);
  },
);
