// A raw TCP peer for HTTP tests: writes exact bytes, collects every byte the server sends,
// and reports whether the server closed the connection. No HTTP library is involved, so the
// tests see precisely what goes over the wire.
import { connect, type Socket } from "node:net";

export interface RawExchange {
  /** Every byte received, in order. */
  data: Buffer;
  /** True if the server closed (FIN or reset) before `waitMs` ran out. */
  closed: boolean;
  /** The status codes of every response status line found in `data`. */
  statuses: number[];
}

/** Parses every `HTTP/1.x NNN` status line out of a byte stream of responses. */
export function statusCodes(data: Buffer): number[] {
  const out: number[] = [];
  const re = /HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/g;
  const text = data.toString("latin1");
  for (const m of text.matchAll(re)) out.push(Number(m[1]));
  return out;
}

/**
 * Connects to 127.0.0.1:`port`, writes `request` (in pieces if an array, each written on its
 * own), half-closes if `halfClose`, and collects the reply until the server closes or
 * `waitMs` passes (a bound, not a synchronisation point: tests that expect a close assert
 * `closed`).
 */
export function rawExchange(
  port: number,
  request: string | Buffer | (string | Buffer)[],
  options: { waitMs?: number; halfClose?: boolean; until?: (data: Buffer) => boolean } = {},
): Promise<RawExchange> {
  const waitMs = options.waitMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      resolve({ data, closed, statuses: statusCodes(data) });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      if (options.until?.(Buffer.concat(chunks))) finish(false);
    });
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on("connect", () => {
      const pieces = Array.isArray(request) ? request : [request];
      for (const piece of pieces) socket.write(piece);
      if (options.halfClose) socket.end();
    });
  });
}
