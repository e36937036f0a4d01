/**
 * TCP echo server: Tornado's `demos/tcpecho/server.py`.
 *
 * Echoes every line it receives. `npm start` runs it (compiled:
 * `node dist/examples/tcpecho/server.js [--port 9888] [--address 127.0.0.1]`);
 * `examples/tcpecho/client.ts` talks to it.
 */

import { parseArgs } from "node:util";
import { StreamClosedError, type IOStream } from "tornado-ts/iostream";
import { appLog } from "tornado-ts/log";
import type { PeerAddress } from "tornado-ts/netutil";
import { TCPServer } from "tornado-ts/tcpserver";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9888" },
    address: { type: "string", default: "127.0.0.1" },
  },
});

/** Reads lines and writes each one back. */
class EchoServer extends TCPServer {
  override async handleStream(stream: IOStream, address: PeerAddress): Promise<void> {
    for (;;) {
      try {
        let data = await stream.readUntil("\n");
        appLog.info("Received bytes: %s", JSON.stringify(data.toString("latin1")));
        if (!data.toString("latin1").endsWith("\n"))
          data = Buffer.concat([data, Buffer.from("\n")]);
        await stream.write(data);
      } catch (error) {
        if (error instanceof StreamClosedError) {
          appLog.warning("Lost client at host %s", address.address);
          return;
        }
        throw error;
      }
    }
  }
}

const port = Number(values.port);
const server = new EchoServer();
await server.listen(port, values.address);
for (const info of server.addresses()) {
  const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
  appLog.info("Listening on TCP %s:%d", host, info.port);
}
