/**
 * Utility classes to read from and write to sockets and pipes: Tornado's `tornado.iostream`.
 *
 * An {@link IOStream} wraps a connected `net.Socket` and offers Tornado's read API on top of
 * it: {@link BaseIOStream.readUntil}, {@link BaseIOStream.readUntilRegex},
 * {@link BaseIOStream.readBytes}, {@link BaseIOStream.readInto} and
 * {@link BaseIOStream.readUntilClose}, each a Promise for the bytes read (the delimiter or match
 * included); {@link BaseIOStream.write} is a Promise resolved once the data is handed to the
 * kernel. {@link SSLIOStream} does the same over a `tls.TLSSocket`, and
 * {@link IOStream.startTls} upgrades a plain connection in place (STARTTLS).
 * {@link PipeIOStream} works over a pipe (a file descriptor, or a pipe socket such as a child
 * process's stdio).
 *
 * Data that arrives before anyone reads is kept in the stream's read buffer, and a read is
 * served from that buffer synchronously whenever it can be (the Promise still settles on a
 * later microtask). Only one read may be pending at a time. Data is read from the socket
 * eagerly up to `readChunkSize` bytes beyond what the pending read needs; past that the socket
 * is paused, so a slow reader makes a fast writer wait in the kernel, not in memory.
 *
 * Errors: {@link StreamClosedError} (a read or write on a closed stream; `realError` holds why
 * it closed), {@link UnsatisfiableReadError} (a `maxBytes` limit was hit),
 * {@link StreamBufferFullError} (`maxBufferSize` or `maxWriteBufferSize` exceeded) and
 * {@link StreamStateError} (a call the stream's state does not allow, such as a second read
 * while one is pending).
 *
 * Main exports: {@link BaseIOStream}, {@link IOStream}, {@link SSLIOStream},
 * {@link PipeIOStream}, the error classes above.
 */

import { readFileSync } from "node:fs";
import net from "node:net";
import type { Duplex, Readable, Writable } from "node:stream";
import tls from "node:tls";
import { IOLoop } from "./ioloop.js";
import { genLog } from "./log.js";

/**
 * A read or write on a stream that is closed (or closed while the operation was pending).
 *
 * `realError` (also `cause`) is the error that closed the stream, if any: a connection reset,
 * a TLS failure, a {@link StreamBufferFullError}.
 */
export class StreamClosedError extends Error {
  override name = "StreamClosedError";
  readonly code = "ERR_STREAM_CLOSED";
  /** The error that closed the stream, or null if it was closed normally. */
  readonly realError: Error | null;

  /** @param realError - the error that closed the stream, kept as `realError` and `cause`. */
  constructor(realError?: Error | null) {
    super("Stream is closed", realError ? { cause: realError } : undefined);
    this.realError = realError ?? null;
  }
}

/**
 * A read cannot be satisfied within its `maxBytes` limit (`readUntil`, `readUntilRegex`).
 * The stream is closed when this happens; `stream.error` is this error.
 */
export class UnsatisfiableReadError extends Error {
  override name = "UnsatisfiableReadError";
  readonly code = "ERR_UNSATISFIABLE_READ";
}

/**
 * A buffer limit was exceeded: the read buffer grew past `maxBufferSize` for a pending read
 * (the stream is closed), or a write would take the write buffer past `maxWriteBufferSize`
 * (the write is refused; the stream stays open).
 */
export class StreamBufferFullError extends Error {
  override name = "StreamBufferFullError";
  readonly code = "ERR_STREAM_BUFFER_FULL";
}

/** Codes of {@link StreamStateError}. */
export type StreamStateErrorCode =
  | "ERR_ALREADY_READING"
  | "ERR_STREAM_NOT_IDLE"
  | "ERR_ALREADY_WAITING_FOR_HANDSHAKE"
  | "ERR_ALREADY_CONNECTING";

/**
 * A call the stream's current state does not allow: a read while another read is pending
 * (`ERR_ALREADY_READING`, Tornado's "Already reading" assertion), `startTls` on a stream that
 * is not idle (`ERR_STREAM_NOT_IDLE`, Tornado's ValueError), a second `waitForHandshake`
 * while one is pending (`ERR_ALREADY_WAITING_FOR_HANDSHAKE`), a second `connect`.
 */
export class StreamStateError extends Error {
  override name = "StreamStateError";
  readonly code: StreamStateErrorCode;
  constructor(message: string, code: StreamStateErrorCode) {
    super(message);
    this.code = code;
  }
}

/** Options shared by every stream class. */
export interface BaseIOStreamOptions {
  /**
   * Most bytes buffered for one read (a `readUntil` waiting for its delimiter, a `readBytes`
   * of more, `readUntilClose`). Past it the stream logs "Reached maximum read buffer size"
   * and closes with {@link StreamBufferFullError}. @defaultValue 104857600 (100 MiB)
   */
  maxBufferSize?: number;
  /**
   * Bytes read ahead of the pending read: with no read waiting for more data and this much
   * buffered, the socket is paused. Capped at `maxBufferSize / 2`. @defaultValue 65536
   */
  readChunkSize?: number;
  /**
   * Most bytes handed to the socket and not yet flushed to the kernel; a write beyond it
   * fails with {@link StreamBufferFullError}. @defaultValue unlimited
   */
  maxWriteBufferSize?: number;
}

/** Options of {@link BaseIOStream.readBytes} and {@link BaseIOStream.readInto}. */
export interface PartialReadOptions {
  /** Resolve as soon as at least one byte is available. @defaultValue false */
  partial?: boolean;
}

/** Options of {@link BaseIOStream.readUntil} and {@link BaseIOStream.readUntilRegex}. */
export interface MaxBytesOptions {
  /**
   * Fail with {@link UnsatisfiableReadError} (and close the stream) if the delimiter or
   * match is not found within this many bytes. @defaultValue unlimited (`maxBufferSize` applies)
   */
  maxBytes?: number;
}

const DEFAULT_MAX_BUFFER_SIZE = 100 * 1024 * 1024;
const DEFAULT_READ_CHUNK_SIZE = 64 * 1024;
const EMPTY = Buffer.alloc(0);

// What the pending read waits for.
const READ_NONE = 0;
const READ_BYTES = 1;
const READ_DELIMITER = 2;
const READ_REGEX = 3;
const READ_UNTIL_CLOSE = 4;
const READ_INTO = 5;

// #findReadEnd results besides a byte count.
const NOT_YET = -1;
const UNSATISFIABLE = -2;

// First regex search looks at this many buffered bytes only; see #findRegex.
const REGEX_WINDOW = 4096;

/** Error codes of a peer going away; such errors close the stream without a log record. */
const RESET_CODES = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTCONN",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** How long `close()` waits for written data to flush before destroying the socket, in ms. */
export const CLOSE_LINGER_MS = 1000;

function noop(): void {}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A rejected Promise marked handled: nobody awaiting it is not an unhandled rejection. */
function rejected<T>(error: Error): Promise<T> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}

// How far indexInChunk looks in plain JS before it calls Buffer#indexOf.
const INLINE_SCAN = 256;

/**
 * The first full occurrence of `delimiter` in `chunk` at or after `from`, or -1.
 * Lines are short (HTTP headers, line protocols) and a call into Buffer#indexOf costs more
 * than scanning a few dozen bytes, so the first INLINE_SCAN bytes are searched in JS.
 */
function indexInChunk(chunk: Buffer, delimiter: Buffer, from: number): number {
  const length = delimiter.length;
  const first = delimiter[0]!;
  const last = chunk.length - length;
  const stop = Math.min(last + 1, from + INLINE_SCAN);
  outer: for (let i = from; i < stop; i++) {
    if (chunk[i] !== first) continue;
    for (let k = 1; k < length; k++) if (chunk[i + k] !== delimiter[k]) continue outer;
    return i;
  }
  if (stop > last) return -1;
  return length === 1 ? chunk.indexOf(first, stop) : chunk.indexOf(delimiter, stop);
}

function checkSize(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function checkMaxBytes(options: MaxBytesOptions | undefined): number | string {
  const maxBytes = options?.maxBytes;
  if (maxBytes === undefined) return -1;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    return `maxBytes must be a non-negative integer, got ${String(maxBytes)}`;
  }
  return maxBytes;
}

/**
 * The read and write machinery shared by {@link IOStream}, {@link SSLIOStream} and
 * {@link PipeIOStream}: Tornado's `BaseIOStream`, over any Node `Duplex` stream of bytes.
 *
 * The read buffer is a list of the chunks the socket delivered plus an offset into the first;
 * reads return `subarray()` views of those chunks and copy only when a result spans chunks.
 */
export class BaseIOStream {
  /** See {@link BaseIOStreamOptions.maxBufferSize}. */
  maxBufferSize: number;
  /** See {@link BaseIOStreamOptions.readChunkSize}. */
  readChunkSize: number;
  /** See {@link BaseIOStreamOptions.maxWriteBufferSize}; `undefined` for no limit. */
  maxWriteBufferSize: number | undefined;
  /** Why the stream closed: null while open or after a plain `close()`. */
  error: Error | null;

  #socket: Duplex;
  #closed: boolean;
  #closeCallback: (() => unknown) | null;
  #paused: boolean;

  // Read buffer: #chunks[#head..] with #offset bytes of the first already consumed.
  #chunks: Buffer[];
  #head: number;
  #offset: number;
  #size: number;

  // The pending read.
  #readKind: number;
  #readBytes: number;
  #readPartial: boolean;
  #readMaxBytes: number;
  #readDelimiter: Buffer;
  #readRegex: RegExp | null;
  #readTarget: Uint8Array;
  #readFilled: number;
  #readPromise: Promise<any> | null;
  #readResolve: (value: any) => void;
  #readReject: (error: Error) => void;
  // Where the delimiter search resumes: chunk index, offset in it, and the read-relative
  // position of that chunk's first byte, so each byte is scanned once however many chunks.
  #scanChunk: number;
  #scanOffset: number;
  #scanBase: number;
  // Latin-1 text of the first bytes of the buffer, kept while a regex read waits.
  #regexText: string;
  // The last string delimiter and its bytes, so readUntil("\r\n") does not encode per call.
  #lastDelimiterString: string;
  #lastDelimiter: Buffer;

  // Pending writes, in the order given to the socket: the socket calls #onWriteDone once per
  // write, in order, so one bound callback serves them all.
  #writeResolves: (() => void)[];
  #writeRejects: ((error: Error) => void)[];
  #writePromises: Promise<void>[];
  #writeHead: number;

  // Listeners and executors bound once (no closure per read or write).
  readonly #onData: (chunk: Buffer) => void;
  readonly #onEnd: () => void;
  readonly #onError: (error: Error) => void;
  readonly #onClose: () => void;
  readonly #onWriteDone: (error?: Error | null) => void;
  readonly #readExecutor: (resolve: (value: any) => void, reject: (error: Error) => void) => void;
  readonly #writeExecutor: (resolve: () => void, reject: (error: Error) => void) => void;

  /**
   * Wraps `socket`, which should carry bytes (no `setEncoding`) and not be read by anyone
   * else. The stream starts reading at once.
   * @throws RangeError for a size option that is not a positive integer.
   */
  constructor(socket: Duplex, options: BaseIOStreamOptions = {}) {
    this.maxBufferSize = checkSize("maxBufferSize", options.maxBufferSize, DEFAULT_MAX_BUFFER_SIZE);
    this.readChunkSize = Math.min(
      checkSize("readChunkSize", options.readChunkSize, DEFAULT_READ_CHUNK_SIZE),
      Math.max(1, Math.floor(this.maxBufferSize / 2)),
    );
    this.maxWriteBufferSize =
      options.maxWriteBufferSize === undefined
        ? undefined
        : checkSize("maxWriteBufferSize", options.maxWriteBufferSize, 0);
    this.error = null;
    this.#socket = socket;
    this.#closed = false;
    this.#closeCallback = null;
    this.#paused = false;
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#size = 0;
    this.#readKind = READ_NONE;
    this.#readBytes = 0;
    this.#readPartial = false;
    this.#readMaxBytes = -1;
    this.#readDelimiter = EMPTY;
    this.#readRegex = null;
    this.#readTarget = EMPTY;
    this.#readFilled = 0;
    this.#readPromise = null;
    this.#readResolve = noop;
    this.#readReject = noop;
    this.#scanChunk = 0;
    this.#scanOffset = 0;
    this.#scanBase = 0;
    this.#regexText = "";
    this.#lastDelimiterString = "";
    this.#lastDelimiter = EMPTY;
    this.#writeResolves = [];
    this.#writeRejects = [];
    this.#writePromises = [];
    this.#writeHead = 0;
    this.#onData = this.#handleData.bind(this);
    this.#onEnd = this.#handleEnd.bind(this);
    this.#onError = this.#handleError.bind(this);
    this.#onClose = this.#handleClose.bind(this);
    this.#onWriteDone = this.#handleWriteDone.bind(this);
    this.#readExecutor = (resolve, reject) => {
      this.#readResolve = resolve;
      this.#readReject = reject;
    };
    this.#writeExecutor = (resolve, reject) => {
      this.#writeResolves.push(resolve);
      this.#writeRejects.push(reject);
    };
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    if (socket.destroyed) this.close();
  }

  /** The underlying Node stream. */
  protected get _socket(): Duplex {
    return this.#socket;
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads until `delimiter` is found.
   * @param delimiter - bytes to look for; a string is encoded as UTF-8. Must not be empty.
   * @returns the data up to and including the delimiter (a view of the read buffer when it
   *   lies in one chunk).
   * @throws (rejects) {@link UnsatisfiableReadError} if `maxBytes` is exceeded (the stream is
   *   closed and an info record "Unsatisfiable read, closing connection" logged);
   *   {@link StreamClosedError} if the stream closes first; {@link StreamStateError} if
   *   another read is pending; RangeError for an empty delimiter or a bad `maxBytes`.
   */
  readUntil(delimiter: string | Uint8Array, options?: MaxBytesOptions): Promise<Buffer> {
    let bytes: Buffer;
    if (typeof delimiter === "string") {
      if (delimiter !== this.#lastDelimiterString) {
        this.#lastDelimiter = Buffer.from(delimiter, "utf8");
        this.#lastDelimiterString = delimiter;
      }
      bytes = this.#lastDelimiter;
    } else if (delimiter instanceof Uint8Array) {
      bytes = Buffer.isBuffer(delimiter)
        ? delimiter
        : Buffer.from(delimiter.buffer, delimiter.byteOffset, delimiter.byteLength);
    } else {
      return Promise.reject(new TypeError("delimiter must be a string or a Uint8Array"));
    }
    if (bytes.length === 0) return Promise.reject(new RangeError("delimiter must not be empty"));
    const maxBytes = options === undefined ? -1 : checkMaxBytes(options);
    if (typeof maxBytes === "string") return Promise.reject(new RangeError(maxBytes));
    if (this.#readKind !== READ_NONE) return this.#alreadyReading();
    this.#readKind = READ_DELIMITER;
    this.#readDelimiter = bytes;
    this.#readMaxBytes = maxBytes;
    this.#scanChunk = this.#head;
    this.#scanOffset = this.#offset;
    this.#scanBase = -this.#offset;
    return this.#tryInlineRead();
  }

  /**
   * Reads until `regex` matches. The buffered bytes are matched as Latin-1 text (one
   * character per byte), so write byte patterns such as `/\r?\n\r?\n/`.
   * @param regex - a RegExp (its `g`/`y` flags are ignored) or its source.
   * @returns the data up to and including the end of the match.
   * @throws (rejects) as {@link BaseIOStream.readUntil}.
   * @remarks As in Tornado, the search runs again over the buffered data each time more
   *   arrives, so a match is found in the data received so far; keep `maxBytes` set.
   */
  readUntilRegex(regex: RegExp | string, options?: MaxBytesOptions): Promise<Buffer> {
    let re: RegExp;
    if (typeof regex === "string") re = new RegExp(regex);
    else if (regex instanceof RegExp) {
      re =
        regex.global || regex.sticky
          ? new RegExp(regex.source, regex.flags.replace(/[gy]/g, ""))
          : regex;
    } else return Promise.reject(new TypeError("regex must be a RegExp or a string"));
    const maxBytes = options === undefined ? -1 : checkMaxBytes(options);
    if (typeof maxBytes === "string") return Promise.reject(new RangeError(maxBytes));
    if (this.#readKind !== READ_NONE) return this.#alreadyReading();
    this.#readKind = READ_REGEX;
    this.#readRegex = re;
    this.#readMaxBytes = maxBytes;
    this.#regexText = "";
    return this.#tryInlineRead();
  }

  /**
   * Reads `numBytes` bytes.
   * @param numBytes - how many bytes, a non-negative integer; 0 resolves with an empty Buffer.
   * @param options - `partial`: resolve with 1 to `numBytes` bytes as soon as any are here.
   * @returns the bytes (a view of the read buffer when they lie in one chunk).
   * @throws (rejects) {@link StreamClosedError} if the stream closes first;
   *   {@link StreamStateError} if another read is pending; RangeError for a bad count.
   */
  readBytes(numBytes: number, options?: PartialReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(numBytes) || numBytes < 0) {
      return Promise.reject(
        new RangeError(`numBytes must be a non-negative integer, got ${String(numBytes)}`),
      );
    }
    if (this.#readKind !== READ_NONE) return this.#alreadyReading();
    this.#readKind = READ_BYTES;
    this.#readBytes = numBytes;
    this.#readPartial = options?.partial === true;
    return this.#tryInlineRead();
  }

  /**
   * Reads into `buffer`, filling it (or, with `partial`, as soon as any bytes are here).
   * Buffered data is copied in first; the rest is copied as it arrives.
   * @returns how many bytes were written into `buffer`.
   * @throws (rejects) {@link StreamClosedError} if the stream closes first;
   *   {@link StreamStateError} if another read is pending.
   */
  readInto(buffer: Uint8Array, options?: PartialReadOptions): Promise<number> {
    if (!(buffer instanceof Uint8Array)) {
      return Promise.reject(new TypeError("buffer must be a Uint8Array"));
    }
    if (this.#readKind !== READ_NONE) return this.#alreadyReading();
    this.#readKind = READ_INTO;
    this.#readTarget = buffer;
    this.#readFilled = 0;
    this.#readPartial = options?.partial === true;
    return this.#tryInlineRead();
  }

  /**
   * Reads all data until the peer closes the stream.
   * @returns everything received (at most `maxBufferSize` bytes); on an already closed
   *   stream, whatever is still buffered.
   * @throws (rejects) {@link StreamStateError} if another read is pending; the stream closes
   *   with {@link StreamBufferFullError} if more than `maxBufferSize` bytes arrive.
   */
  readUntilClose(): Promise<Buffer> {
    if (this.#readKind !== READ_NONE) return this.#alreadyReading();
    this.#readKind = READ_UNTIL_CLOSE;
    return this.#tryInlineRead();
  }

  /** True while a read is pending. */
  reading(): boolean {
    return this.#readPromise !== null;
  }

  #alreadyReading(): Promise<never> {
    if (this.#closed) return Promise.reject(new StreamClosedError(this.error));
    return Promise.reject(new StreamStateError("Already reading", "ERR_ALREADY_READING"));
  }

  /** Serves the read just started from the buffer if possible, else leaves it pending. */
  #tryInlineRead(): Promise<any> {
    const end = this.#findReadEnd();
    if (end >= 0) {
      const result = this.#takeResult(end);
      if (this.#paused) this.#updateFlow();
      return Promise.resolve(result);
    }
    if (end === UNSATISFIABLE) return this.#failUnsatisfiable();
    if (this.#closed) {
      this.#resetRead();
      return rejected(new StreamClosedError(this.error));
    }
    if (this.#size > this.maxBufferSize) {
      // Buffered beyond the limit already (read ahead for an earlier read) and still short.
      this.#resetRead();
      return rejected(new StreamClosedError(this.#bufferFull()));
    }
    const promise = new Promise<any>(this.#readExecutor);
    this.#readPromise = promise;
    if (this.#paused) this.#updateFlow();
    return promise;
  }

  /**
   * Where the pending read ends, in bytes from the start of the buffer: a count, NOT_YET, or
   * UNSATISFIABLE. A readInto copies what it can into its buffer as a side effect.
   */
  #findReadEnd(): number {
    switch (this.#readKind) {
      case READ_BYTES: {
        const n = this.#readBytes;
        const size = this.#size;
        if (size >= n) return n;
        if (this.#readPartial && size > 0) return size;
        return NOT_YET;
      }
      case READ_DELIMITER:
        return this.#findDelimiter();
      case READ_REGEX:
        return this.#findRegex();
      case READ_UNTIL_CLOSE:
        return this.#closed ? this.#size : NOT_YET;
      case READ_INTO: {
        const target = this.#readTarget;
        const n = Math.min(this.#size, target.length - this.#readFilled);
        if (n > 0) {
          this.#copyOut(target, this.#readFilled, n);
          this.#readFilled += n;
        }
        const filled = this.#readFilled;
        if (filled === target.length || (this.#readPartial && filled > 0)) return 0;
        return NOT_YET;
      }
      default:
        return NOT_YET;
    }
  }

  /** Finds the end of the first delimiter, resuming where the last search stopped. */
  #findDelimiter(): number {
    const delimiter = this.#readDelimiter;
    const length = delimiter.length;
    const chunks = this.#chunks;
    const count = chunks.length;
    let c = this.#scanChunk;
    let position = this.#scanOffset;
    let base = this.#scanBase;
    let end = NOT_YET;
    search: while (c < count) {
      const chunk = chunks[c]!;
      const chunkLength = chunk.length;
      if (position < chunkLength) {
        const i = indexInChunk(chunk, delimiter, position);
        if (i !== -1) {
          end = base + i + length;
          break;
        }
        // A match that starts in this chunk's last length-1 bytes and spans into later ones.
        for (let p = Math.max(position, chunkLength - length + 1); p < chunkLength; p++) {
          const r = this.#matchAcross(c, p, delimiter);
          if (r === 1) {
            end = base + p + length;
            break search;
          }
          if (r === -1) {
            // Not enough data yet to tell: resume from this candidate.
            position = p;
            break search;
          }
        }
      }
      base += chunkLength;
      c++;
      position = 0;
    }
    if (end !== NOT_YET) {
      if (this.#readMaxBytes >= 0 && end > this.#readMaxBytes) return UNSATISFIABLE;
      return end;
    }
    this.#scanChunk = c;
    this.#scanOffset = position;
    this.#scanBase = base;
    if (this.#readMaxBytes >= 0 && this.#size > this.#readMaxBytes) return UNSATISFIABLE;
    return NOT_YET;
  }

  /** 1 if `delimiter` starts at chunk `c`, offset `p`; 0 if not; -1 if the data runs out. */
  #matchAcross(c: number, p: number, delimiter: Buffer): number {
    const chunks = this.#chunks;
    let chunk = chunks[c]!;
    for (let k = 0; k < delimiter.length; k++) {
      while (p >= chunk.length) {
        c++;
        if (c >= chunks.length) return -1;
        chunk = chunks[c]!;
        p = 0;
      }
      if (chunk[p] !== delimiter[k]) return 0;
      p++;
    }
    return 1;
  }

  /** Finds the end of the first regex match in the buffered data (Latin-1 text). */
  #findRegex(): number {
    const regex = this.#readRegex!;
    const maxBytes = this.#readMaxBytes;
    // A match must end within maxBytes, so never search further than that.
    const limit = maxBytes >= 0 ? Math.min(this.#size, maxBytes) : this.#size;
    // Most matches (HTTP header ends) are near the front: try a small window first so a big
    // buffer of pipelined data is not converted to text for each read. A match ending at the
    // window's edge could change with more data, so it only counts at the real end.
    let window = this.#regexText.length === 0 ? Math.min(limit, REGEX_WINDOW) : limit;
    for (;;) {
      if (this.#regexText.length < window) {
        this.#regexText += this.#latin1(this.#regexText.length, window);
      }
      const match = regex.exec(this.#regexText);
      if (match !== null) {
        const end = match.index + match[0].length;
        if (end < window || window === this.#size) return end;
      }
      if (window >= limit) break;
      window = limit;
    }
    if (maxBytes >= 0 && this.#size > maxBytes) return UNSATISFIABLE;
    return NOT_YET;
  }

  /** The buffered bytes [start, end) as a Latin-1 string. */
  #latin1(start: number, end: number): string {
    const chunks = this.#chunks;
    let text = "";
    let position = -this.#offset;
    for (let c = this.#head; c < chunks.length && position < end; c++) {
      const chunk = chunks[c]!;
      const chunkEnd = position + chunk.length;
      if (chunkEnd > start) {
        const from = Math.max(start, position) - position;
        const to = Math.min(end, chunkEnd) - position;
        text += chunk.toString("latin1", from, to);
      }
      position = chunkEnd;
    }
    return text;
  }

  /** Takes the pending read's result (`end` bytes, or readInto's count) and clears the read. */
  #takeResult(end: number): Buffer | number {
    const result = this.#readKind === READ_INTO ? this.#readFilled : this.#consume(end);
    this.#resetRead();
    return result;
  }

  #resetRead(): void {
    this.#readKind = READ_NONE;
    this.#readPromise = null;
    this.#readResolve = noop;
    this.#readReject = noop;
    this.#readMaxBytes = -1;
    this.#readDelimiter = EMPTY;
    this.#readRegex = null;
    this.#readTarget = EMPTY;
    this.#readFilled = 0;
    this.#regexText = "";
  }

  /** Removes and returns the first `n` buffered bytes; a view unless they span chunks. */
  #consume(n: number): Buffer {
    if (n === 0) return EMPTY;
    const chunks = this.#chunks;
    const first = chunks[this.#head]!;
    const offset = this.#offset;
    const available = first.length - offset;
    this.#size -= n;
    if (n < available) {
      this.#offset = offset + n;
      return first.subarray(offset, offset + n);
    }
    if (n === available) {
      this.#dropHead();
      return offset === 0 ? first : first.subarray(offset);
    }
    // The result spans chunks: the one copy. TypedArray#set is a plain memcpy.
    const out = Buffer.allocUnsafe(n);
    out.set(offset === 0 ? first : first.subarray(offset), 0);
    let filled = available;
    this.#dropHead();
    while (filled < n) {
      const chunk = chunks[this.#head]!;
      const want = n - filled;
      if (chunk.length <= want) {
        out.set(chunk, filled);
        filled += chunk.length;
        this.#dropHead();
      } else {
        out.set(chunk.subarray(0, want), filled);
        this.#offset = want;
        filled = n;
      }
    }
    return out;
  }

  /** Moves the first `n` buffered bytes into `target` at `at`. */
  #copyOut(target: Uint8Array, at: number, n: number): void {
    const chunks = this.#chunks;
    this.#size -= n;
    while (n > 0) {
      const chunk = chunks[this.#head]!;
      const offset = this.#offset;
      const available = chunk.length - offset;
      if (available <= n) {
        target.set(offset === 0 ? chunk : chunk.subarray(offset), at);
        at += available;
        n -= available;
        this.#dropHead();
      } else {
        target.set(chunk.subarray(offset, offset + n), at);
        this.#offset = offset + n;
        n = 0;
      }
    }
  }

  #dropHead(): void {
    const chunks = this.#chunks;
    this.#offset = 0;
    const head = this.#head + 1;
    if (head === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
    } else if (head >= 1024 && head * 2 >= chunks.length) {
      // Compact now and then; a read never holds chunk indices across this.
      chunks.splice(0, head);
      this.#head = 0;
    } else {
      chunks[head - 1] = EMPTY;
      this.#head = head;
    }
  }

  #handleData(chunk: Buffer): void {
    if (this.#closed) return;
    const length = chunk.length;
    if (length === 0) return;
    this.#chunks.push(chunk);
    this.#size += length;
    if (this.#readPromise !== null) {
      // Only the read in progress can end here; the next one starts from the buffer.
      if (this.#readKind === READ_REGEX && this.#regexText.length === this.#size - length) {
        this.#regexText += chunk.toString("latin1");
      }
      const end = this.#findReadEnd();
      if (end >= 0) {
        const resolve = this.#readResolve;
        resolve(this.#takeResult(end));
      } else if (end === UNSATISFIABLE) {
        const reject = this.#readReject;
        const error = this.#unsatisfiableError();
        this.#resetRead();
        reject(error);
        this.close(error);
        return;
      } else if (this.#size > this.maxBufferSize) {
        this.#bufferFull();
        return;
      } else return;
    }
    if (this.#size >= this.readChunkSize && !this.#paused) this.#updateFlow();
  }

  /** Pauses the socket while enough is buffered and nobody waits for more; else resumes. */
  #updateFlow(): void {
    if (this.#closed) return;
    const wantData = this.#readPromise !== null || this.#size < this.readChunkSize;
    const socket = this.#socket;
    if (typeof socket.pause !== "function") return; // a write-only pipe
    if (wantData) {
      if (this.#paused) {
        this.#paused = false;
        socket.resume();
      }
    } else if (!this.#paused) {
      this.#paused = true;
      socket.pause();
    }
  }

  #unsatisfiableError(): UnsatisfiableReadError {
    const what =
      this.#readKind === READ_REGEX
        ? `regex ${String(this.#readRegex)}`
        : `delimiter ${JSON.stringify(this.#readDelimiter.toString("latin1"))}`;
    const error = new UnsatisfiableReadError(
      `${what} not found within ${this.#readMaxBytes} bytes`,
    );
    genLog.info("Unsatisfiable read, closing connection: %s", error.message);
    return error;
  }

  #failUnsatisfiable(): Promise<never> {
    const error = this.#unsatisfiableError();
    this.#resetRead();
    this.close(error);
    return rejected(error);
  }

  /** Closes the stream because a read needs more than maxBufferSize bytes. */
  #bufferFull(): StreamBufferFullError {
    const error = new StreamBufferFullError("Reached maximum read buffer size");
    genLog.error("Reached maximum read buffer size");
    this.close(error);
    return error;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes `data` to the stream.
   * @param data - bytes (any typed array or DataView; a view over its bytes is sent) or a string.
   * @param encoding - of a string. @defaultValue "utf8"
   * @returns a Promise resolved when the data has been handed to the kernel. A failed write
   *   nobody awaits raises no unhandled rejection.
   * @throws (rejects) {@link StreamClosedError} if the stream is or gets closed first;
   *   {@link StreamBufferFullError} if `maxWriteBufferSize` would be exceeded.
   */
  write(data: Uint8Array | ArrayBufferView | string, encoding?: BufferEncoding): Promise<void> {
    if (this.#closed) return rejected(new StreamClosedError(this.error));
    let chunk: Uint8Array | string;
    if (typeof data === "string" || data instanceof Uint8Array) chunk = data;
    else if (ArrayBuffer.isView(data)) {
      chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    } else return Promise.reject(new TypeError("data must be a string or an ArrayBufferView"));
    const limit = this.maxWriteBufferSize;
    if (limit !== undefined) {
      const size =
        typeof chunk === "string" ? Buffer.byteLength(chunk, encoding ?? "utf8") : chunk.length;
      if (this.#socket.writableLength + size > limit) {
        return rejected(new StreamBufferFullError("Reached maximum write buffer size"));
      }
    }
    const promise = new Promise<void>(this.#writeExecutor);
    this.#writePromises.push(promise);
    if (typeof chunk === "string") this.#socket.write(chunk, encoding ?? "utf8", this.#onWriteDone);
    else this.#socket.write(chunk, this.#onWriteDone);
    return promise;
  }

  /** True while written data waits to be flushed to the kernel. */
  writing(): boolean {
    return this.#writeHead < this.#writeResolves.length;
  }

  #handleWriteDone(error?: Error | null): void {
    const i = this.#writeHead;
    const resolves = this.#writeResolves;
    if (i >= resolves.length) return; // a callback after close() failed the write already
    const resolve = resolves[i]!;
    const reject = this.#writeRejects[i]!;
    if (i + 1 === resolves.length) {
      resolves.length = 0;
      this.#writeRejects.length = 0;
      this.#writePromises.length = 0;
      this.#writeHead = 0;
    } else {
      resolves[i] = noop;
      this.#writeRejects[i] = noop;
      this.#writePromises[i] = undefined as unknown as Promise<void>;
      this.#writeHead = i + 1;
      if (i + 1 >= 1024 && (i + 1) * 2 >= resolves.length) {
        resolves.splice(0, i + 1);
        this.#writeRejects.splice(0, i + 1);
        this.#writePromises.splice(0, i + 1);
        this.#writeHead = 0;
      }
    }
    if (error) {
      reject(new StreamClosedError(error));
      this.#handleError(error);
    } else resolve();
  }

  // ---------------------------------------------------------------- closing

  /**
   * Sets a callback run (on a later turn of the loop) when the stream closes, whoever closed
   * it. It replaces any earlier one. Pending reads and writes have failed by then.
   */
  setCloseCallback(callback: (() => unknown) | null): void {
    this.#closeCallback = callback;
    if (callback !== null && this.#closed) this.#scheduleCloseCallback();
  }

  /** True once the stream is closed. Reads may still be served from buffered data. */
  closed(): boolean {
    return this.#closed;
  }

  /**
   * Closes the stream and the socket under it (unsent data is discarded).
   *
   * A pending `readUntilClose` resolves with the buffered data; another pending read resolves
   * if the buffer satisfies it, else it fails with {@link StreamClosedError}, as do pending
   * writes. The close callback runs on a later turn.
   * @param error - why: kept in {@link BaseIOStream.error} and as `realError` of the errors.
   */
  close(error?: unknown): void {
    if (this.#closed) return;
    if (error !== undefined && error !== null && error !== false) this.error = toError(error);
    this.#closed = true;
    if (this.#readPromise !== null) {
      const end = this.#findReadEnd();
      if (end >= 0) {
        const resolve = this.#readResolve;
        resolve(this.#takeResult(end));
      }
    }
    this._closeSocket();
    this.#signalClosed();
  }

  /**
   * Shuts the socket down: at once after an error; otherwise with `end()` (FIN, TLS
   * close_notify) once output already handed to the socket is flushed (TLS encrypts and sends
   * asynchronously, so `write(x); close()` still delivers `x`, as in Tornado), then destroys
   * it, after at most {@link CLOSE_LINGER_MS}. Ending first also keeps the kernel from
   * answering late data (a TLS 1.3 session ticket) with a reset that the peer would see
   * instead of a clean close.
   */
  protected _closeSocket(): void {
    const socket = this.#socket;
    if (this.error !== null || !socket.writable || typeof socket.end !== "function") {
      socket.destroy();
      return;
    }
    const timer = setTimeout(destroySocket, CLOSE_LINGER_MS, socket);
    timer.unref();
    socket.once("finish", () => {
      clearTimeout(timer);
      socket.destroy();
    });
    socket.end();
  }

  #signalClosed(): void {
    const closedError = this.error;
    if (this.#readPromise !== null) {
      const reject = this.#readReject;
      const promise = this.#readPromise;
      this.#resetRead();
      promise.catch(noop);
      reject(new StreamClosedError(closedError));
    }
    const rejects = this.#writeRejects;
    const promises = this.#writePromises;
    const start = this.#writeHead;
    if (start < rejects.length) {
      this.#writeResolves = [];
      this.#writeRejects = [];
      this.#writePromises = [];
      this.#writeHead = 0;
      for (let i = start; i < rejects.length; i++) {
        promises[i]!.catch(noop);
        rejects[i]!(new StreamClosedError(closedError));
      }
    }
    this._signalClosed(closedError);
    this.#scheduleCloseCallback();
  }

  /** Fails what subclasses have pending (connect, handshake) when the stream closes. */
  protected _signalClosed(_error: Error | null): void {}

  #scheduleCloseCallback(): void {
    const callback = this.#closeCallback;
    if (callback === null) return;
    this.#closeCallback = null;
    IOLoop.current().addCallback(callback);
  }

  #handleEnd(): void {
    // The peer finished sending; as in Tornado, the stream closes (buffered data stays
    // readable).
    this.close();
  }

  #handleClose(): void {
    this.close();
  }

  #handleError(error: Error): void {
    if (this.#closed) return;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || !RESET_CODES.has(code)) this._logError(error);
    this.close(error);
  }

  /** Logs a socket error that is not a plain reset (resets close the stream silently). */
  protected _logError(error: Error): void {
    genLog.warning("Error on stream: %s", error.message);
  }

  // ---------------------------------------------------------------- STARTTLS support

  /** True if nothing is pending or buffered: the socket may change hands. */
  protected _isIdle(): boolean {
    return (
      !this.#closed &&
      this.#readKind === READ_NONE &&
      this.#size === 0 &&
      !this.writing() &&
      this.#socket.writableLength === 0
    );
  }

  /**
   * Releases the socket to a new owner (STARTTLS): stops listening to it and marks this
   * stream closed without running the close callback, which is returned.
   */
  protected _detach(): (() => unknown) | null {
    const socket = this.#socket;
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("close", this.#onClose);
    // The old object may still report errors that the new owner also sees; keep them quiet.
    socket.on("error", noop);
    if (this.#paused) {
      this.#paused = false;
      socket.resume();
    }
    this.#closed = true;
    const callback = this.#closeCallback;
    this.#closeCallback = null;
    return callback;
  }

  /** Sets TCP_NODELAY where the transport has it (see {@link IOStream.setNodelay}). */
  setNodelay(_value: boolean): void {}
}

/** Options of {@link IOStream.startTls}. */
export interface StartTlsOptions {
  /** True on the side that accepted the connection. */
  serverSide: boolean;
  /**
   * TLS options for `tls.connect` (client) or `tls.createSecureContext` plus `TLSSocket`
   * options (server: `key`, `cert`, `requestCert`, …). Certificates are verified by default.
   */
  sslOptions?: tls.ConnectionOptions & tls.TlsOptions;
  /** A ready context, instead of building one from `sslOptions`. */
  secureContext?: tls.SecureContext;
  /** Client: the name the server certificate must match (also sent as SNI unless an IP). */
  serverHostname?: string;
}

/**
 * A stream over a TCP socket (`net.Socket`): Tornado's `IOStream`.
 *
 * @example
 * ```ts
 * const stream = await IOStream.connect({ host: "127.0.0.1", port: 8888 });
 * await stream.write("GET / HTTP/1.0\r\n\r\n");
 * const header = await stream.readUntil("\r\n\r\n");
 * ```
 */
export class IOStream extends BaseIOStream {
  #connecting: boolean;
  #connectPromise: Promise<IOStream> | null;
  #connectResolve: (stream: IOStream) => void;
  #connectReject: (error: Error) => void;
  readonly #onConnect: () => void;

  /**
   * Wraps `socket`, connected or not (see {@link IOStream.connect}).
   * @throws RangeError for a size option that is not a positive integer.
   */
  constructor(socket: net.Socket, options: BaseIOStreamOptions = {}) {
    super(socket, options);
    this.#connecting = socket.connecting;
    this.#connectPromise = null;
    this.#connectResolve = noop;
    this.#connectReject = noop;
    this.#onConnect = this.#handleConnect.bind(this);
    socket.on("connect", this.#onConnect);
  }

  /**
   * Connects to `options` (as `net.connect`) and wraps the socket.
   * @returns the stream, once connected.
   * @throws (rejects) {@link StreamClosedError} with the connect error as `realError`.
   */
  static connect(
    options: net.NetConnectOpts,
    streamOptions: BaseIOStreamOptions = {},
  ): Promise<IOStream> {
    const stream = new IOStream(net.connect(options), streamOptions);
    return stream.#waitConnect();
  }

  /** The socket. */
  get socket(): net.Socket {
    return this._socket as net.Socket;
  }

  /**
   * Connects the (unconnected) socket to `address`. Writes made before it resolves are sent
   * once connected.
   * @returns this stream, once connected.
   * @throws (rejects) {@link StreamClosedError} whose `realError` is the connect error
   *   (ECONNREFUSED, ENOTFOUND, …), also kept in `stream.error`; the stream is closed.
   */
  connect(address: net.NetConnectOpts): Promise<this> {
    if (this.closed()) return rejected(new StreamClosedError(this.error));
    if (this.#connecting || this.#connectPromise !== null) {
      return Promise.reject(new StreamStateError("Already connecting", "ERR_ALREADY_CONNECTING"));
    }
    this.#connecting = true;
    const promise = this.#waitConnect();
    this.socket.connect(address);
    return promise;
  }

  #waitConnect(): Promise<this> {
    if (!this.#connecting) return Promise.resolve(this);
    if (this.#connectPromise === null) {
      this.#connectPromise = new Promise<IOStream>((resolve, reject) => {
        this.#connectResolve = resolve;
        this.#connectReject = reject;
      });
    }
    return this.#connectPromise as Promise<this>;
  }

  #handleConnect(): void {
    this.#connecting = false;
    const resolve = this.#connectResolve;
    this.#connectPromise = null;
    this.#connectResolve = noop;
    this.#connectReject = noop;
    resolve(this);
  }

  protected override _signalClosed(error: Error | null): void {
    this.#connecting = false;
    if (this.#connectPromise !== null) {
      const reject = this.#connectReject;
      this.#connectPromise.catch(noop);
      this.#connectPromise = null;
      this.#connectResolve = noop;
      this.#connectReject = noop;
      reject(new StreamClosedError(error));
    }
  }

  protected override _logError(error: Error): void {
    // A failed connect is reported to whoever awaits connect(); no log record.
    if (this.#connectPromise !== null) return;
    genLog.warning("Error on %s: %s", describePeer(this.socket), error.message);
  }

  /** Sets TCP_NODELAY (Nagle's algorithm off when true). */
  override setNodelay(value: boolean): void {
    if (!this.closed()) this.socket.setNoDelay(value);
  }

  /**
   * Upgrades this plain connection to TLS (STARTTLS), on the client or the server side.
   *
   * The stream must be idle: no read or write pending, nothing buffered; it is unusable
   * afterwards. The close callback and buffer sizes move to the new stream.
   * @returns the {@link SSLIOStream}, once the handshake is done.
   * @throws (rejects) {@link StreamStateError} `ERR_STREAM_NOT_IDLE` ("IOStream is not idle;
   *   cannot convert to SSL"); {@link StreamClosedError} whose `realError` is the TLS error if
   *   the handshake fails (certificate not trusted, hostname mismatch, …).
   */
  startTls(options: StartTlsOptions): Promise<SSLIOStream> {
    if (!this._isIdle() || this.#connecting) {
      return Promise.reject(
        new StreamStateError("IOStream is not idle; cannot convert to SSL", "ERR_STREAM_NOT_IDLE"),
      );
    }
    const raw = this.socket;
    const sslOptions = options.sslOptions ?? {};
    let tlsSocket: tls.TLSSocket;
    try {
      if (options.serverSide) {
        const secureContext = options.secureContext ?? tls.createSecureContext(sslOptions);
        tlsSocket = new tls.TLSSocket(raw, { ...sslOptions, isServer: true, secureContext });
      } else {
        const hostname = options.serverHostname;
        const connectOptions: tls.ConnectionOptions = { ...sslOptions, socket: raw };
        if (options.secureContext !== undefined)
          connectOptions.secureContext = options.secureContext;
        if (hostname !== undefined) {
          connectOptions.host = hostname;
          if (net.isIP(hostname) === 0) connectOptions.servername = hostname;
        }
        tlsSocket = tls.connect(connectOptions);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const closeCallback = this._detach();
    const stream = new SSLIOStream(tlsSocket, {
      maxBufferSize: this.maxBufferSize,
      readChunkSize: this.readChunkSize,
      ...(this.maxWriteBufferSize === undefined
        ? {}
        : { maxWriteBufferSize: this.maxWriteBufferSize }),
    });
    stream.setCloseCallback(closeCallback);
    return stream.waitForHandshake().then(() => stream);
  }
}

function describePeer(socket: net.Socket): string {
  const address = socket.remoteAddress;
  return address === undefined ? "socket" : `${address}:${socket.remotePort}`;
}

/**
 * A stream over a TLS socket (`tls.TLSSocket`): Tornado's `SSLIOStream`. Reads and writes
 * wait for the handshake; {@link SSLIOStream.waitForHandshake} tells when it is done.
 */
export class SSLIOStream extends IOStream {
  #handshakeDone: boolean;
  #handshakePromise: Promise<void> | null;
  #handshakeResolve: () => void;
  #handshakeReject: (error: Error) => void;
  readonly #onSecure: () => void;

  /**
   * Wraps a TLS socket: from `tls.connect`, a `tls.Server`'s `secureConnection`, or
   * `new tls.TLSSocket(socket, { isServer: true, … })`.
   * @throws RangeError for a size option that is not a positive integer.
   */
  constructor(socket: tls.TLSSocket, options: BaseIOStreamOptions = {}) {
    super(socket, options);
    // Node has no public "handshake done" flag; sockets from a tls.Server arrive done.
    this.#handshakeDone =
      (socket as unknown as { _secureEstablished?: boolean })._secureEstablished === true;
    this.#handshakePromise = null;
    this.#handshakeResolve = noop;
    this.#handshakeReject = noop;
    this.#onSecure = this.#handleSecure.bind(this);
    if (!this.#handshakeDone) {
      // Clients verify the peer before 'secureConnect'; servers emit only 'secure' (after
      // their own checks). A verification failure destroys the socket before our listener.
      socket.once("secureConnect", this.#onSecure);
      socket.once("secure", this.#onSecure);
    }
  }

  /**
   * Connects with `tls.connect(options)` and wraps the socket. Certificates are verified
   * unless `rejectUnauthorized: false`.
   * @returns the stream, once the handshake is done.
   * @throws (rejects) {@link StreamClosedError} whose `realError` is the connect or TLS error.
   */
  static override connect(
    options: tls.ConnectionOptions,
    streamOptions: BaseIOStreamOptions = {},
  ): Promise<SSLIOStream> {
    const stream = new SSLIOStream(tls.connect(options), streamOptions);
    return stream.waitForHandshake().then(() => stream);
  }

  /** The TLS socket. */
  override get socket(): tls.TLSSocket {
    return this._socket as tls.TLSSocket;
  }

  /**
   * Waits for the TLS handshake (at once if done). Call it before looking at the peer
   * certificate (`stream.socket.getPeerCertificate()`).
   * @throws (rejects) {@link StreamClosedError} whose `realError` is the TLS error if the
   *   handshake fails; {@link StreamStateError} if a wait is already pending (as Tornado).
   */
  waitForHandshake(): Promise<void> {
    if (this.#handshakePromise !== null) {
      return Promise.reject(
        new StreamStateError("Already waiting", "ERR_ALREADY_WAITING_FOR_HANDSHAKE"),
      );
    }
    if (this.#handshakeDone) return Promise.resolve();
    if (this.closed()) return rejected(new StreamClosedError(this.error));
    this.#handshakePromise = new Promise<void>((resolve, reject) => {
      this.#handshakeResolve = resolve;
      this.#handshakeReject = reject;
    });
    return this.#handshakePromise;
  }

  #handleSecure(): void {
    if (this.#handshakeDone || this.socket.destroyed || this.closed()) return;
    this.#handshakeDone = true;
    const resolve = this.#handshakeResolve;
    this.#handshakePromise = null;
    this.#handshakeResolve = noop;
    this.#handshakeReject = noop;
    resolve();
  }

  protected override _signalClosed(error: Error | null): void {
    super._signalClosed(error);
    if (this.#handshakePromise !== null) {
      const reject = this.#handshakeReject;
      this.#handshakePromise.catch(noop);
      this.#handshakePromise = null;
      this.#handshakeResolve = noop;
      this.#handshakeReject = noop;
      reject(new StreamClosedError(error));
    }
  }

  protected override _logError(error: Error): void {
    if (!this.#handshakeDone) {
      genLog.warning("SSL Error on %s: %s", describePeer(this.socket), error.message);
    } else super._logError(error);
  }
}

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
