// PipeIOStream over a pipe's file descriptor or a pipe socket (see src/iostream.ts).

import { readFileSync } from "node:fs";
import net from "node:net";
import type { Duplex, Readable, Writable } from "node:stream";
import { type BaseIOStreamOptions, BaseIOStream } from "./base.js";

/** Options of {@link PipeIOStream}. */
export interface PipeIOStreamOptions extends BaseIOStreamOptions {
  /**
   * For a file descriptor: whether it is read from and/or written to. By default the access
   * mode is read from `/proc/self/fdinfo` (Linux); elsewhere give it.
   */
  readable?: boolean;
  writable?: boolean;
}

/**
 * A stream over a pipe: Tornado's `PipeIOStream`. Give it a file descriptor (one end of a
 * pipe or FIFO, which the stream then owns and closes) or a pipe socket Node already made
 * (`child.stdout`, `child.stdin`). A pipe is one-way: read from a read end, write to a
 * write end.
 */
export class PipeIOStream extends BaseIOStream {
  /** The file descriptor given to the constructor, or null for a socket. */
  readonly fd: number | null;

  /**
   * @throws RangeError for a size option that is not a positive integer; the errors of
   *   `new net.Socket({ fd })` for a descriptor Node cannot wrap (a regular file).
   */
  constructor(fdOrSocket: number | Readable | Writable, options: PipeIOStreamOptions = {}) {
    let socket: Duplex;
    let fd: number | null = null;
    if (typeof fdOrSocket === "number") {
      fd = fdOrSocket;
      const mode = accessMode(fd);
      const readable = options.readable ?? mode !== 1;
      const writable = options.writable ?? mode !== 0;
      socket = new net.Socket({ fd, readable, writable });
    } else {
      // Only the half the pipe has is used: no reads on a Writable, no writes on a Readable.
      socket = fdOrSocket as Duplex;
    }
    super(socket, options);
    this.fd = fd;
  }

  /** The Node stream under this one. */
  get socket(): Readable | Writable | Duplex {
    return this._socket;
  }
}

/** O_ACCMODE of `fd` (0 read, 1 write, 2 both), or 2 when it cannot be found out. */
function accessMode(fd: number): number {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, "latin1");
    const match = /^flags:\s*([0-7]+)/m.exec(info);
    if (match !== null) return Number.parseInt(match[1]!, 8) & 3;
  } catch {
    // Not Linux, or no such descriptor: net.Socket reports the latter.
  }
  return 2;
}
