// Shared pieces of the network tests (iostream, tcpserver, tcpclient): a connected stream and
// its peer socket, a server that queues its streams, a resolver with fixed answers, the test
// certificate.
import { connect, createServer, type Socket } from "node:net";
import { type BaseIOStream, IOStream } from "../../src/iostream.js";
import { type PeerAddress, type ResolvedAddress, Resolver } from "../../src/netutil.js";
import { TCPServer, type TCPServerOptions } from "../../src/tcpserver.js";
import { fixture } from "./paths.js";

/** The self-signed certificate for localhost, 127.0.0.1 and ::1 (test/fixtures/network). */
export const CERT = fixture("network", "test.crt");
/** Its private key. */
export const KEY = fixture("network", "test.key");

/**
 * An IOStream over an accepted loopback connection, and the client socket at its other end;
 * both are closed after the test.
 */
export async function streamAndPeer(t: {
  after: (fn: () => unknown) => void;
}): Promise<[IOStream, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  const client = connect((server.address() as { port: number }).port, "127.0.0.1");
  const socket = await accepted;
  const stream = new IOStream(socket);
  t.after(() => {
    stream.close();
    client.destroy();
  });
  return [stream, client];
}

/** Resolves once `stream` has at least `n` bytes buffered and unread (polled each turn). */
export async function bufferedAtLeast(stream: BaseIOStream, n: number): Promise<void> {
  while (stream.readBufferSize < n) await new Promise((resolve) => setImmediate(resolve));
}

/** A TCPServer that keeps every stream it gets and hands them out in order. */
export class QueueServer extends TCPServer {
  readonly streams: IOStream[] = [];
  readonly peers: PeerAddress[] = [];
  #waiting: ((stream: IOStream) => void)[] = [];
  #ready: IOStream[] = [];

  constructor(options: TCPServerOptions = {}) {
    super(options);
  }

  override handleStream(stream: IOStream, address: PeerAddress): void {
    this.streams.push(stream);
    this.peers.push(address);
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(stream);
    else this.#ready.push(stream);
  }

  /** The next stream accepted (already accepted ones first). */
  next(): Promise<IOStream> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops listening and closes every stream. */
  shutdown(): void {
    this.stop();
    for (const stream of this.streams) stream.close();
  }

  /** The port of the first listening socket. */
  get port(): number {
    return this.addresses()[0]!.port;
  }
}

/** A resolver answering fixed addresses for any name (a stand-in for a dual-stack DNS). */
export class FixedResolver extends Resolver {
  readonly answer: { family: 4 | 6; address: string }[];
  constructor(answer: { family: 4 | 6; address: string }[]) {
    super();
    this.answer = answer;
  }
  override async resolve(_host: string, port: number, family = 0): Promise<ResolvedAddress[]> {
    return this.answer
      .filter((a) => family === 0 || a.family === family)
      .map((a) => ({ ...a, port }));
  }
}
