/**
 * TCP echo client: Tornado's `demos/tcpecho/client.py`.
 *
 * Sends one line to the echo server and prints the reply:
 * `node dist/examples/tcpecho/client.js [--host 127.0.0.1] [--port 9888] [--message ping]`.
 */

import { parseArgs } from "node:util";
import { TCPClient } from "tornado-ts/tcpclient";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9888" },
    message: { type: "string", default: "ping" },
  },
});

const client = new TCPClient();
const stream = await client.connect(values.host, Number(values.port), { timeout: 10_000 });
await stream.write(`${values.message}\n`);
console.log("Sent to server:", values.message);
const reply = await stream.readUntil("\n");
console.log("Response from server:", reply.toString().trim());
stream.close();
client.close();
