// BaseIOStream: the read buffer, the read and write machinery and closing, shared by every
// stream class of tornado-ts/iostream (see src/iostream.ts).

import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import { IOLoop } from "../ioloop.js";
import { genLog } from "../log.js";
import {
  StreamBufferFullError,
  StreamClosedError,
  StreamStateError,
  UnsatisfiableReadError,
} from "./errors.js";

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
  /**
   * Close the stream when `maxBytes` is exceeded, as Tornado does. With false the read fails
   * but the stream stays open and the data stays buffered, so that a protocol can still answer
   * (an HTTP server's 431). @defaultValue true
   */
  closeOnMaxBytes?: boolean;
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
/** #readFromBuffer: the read must wait for data. */
const WAIT = Symbol("wait");

// A regex read searches this many buffered bytes first; see #findRegex.
const REGEX_WINDOW = 1024;

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

/** Does nothing: a shared no-op for resolvers and `.catch()`. */
export function noop(): void {}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A rejected Promise marked handled: nobody awaiting it is not an unhandled rejection. */
export function rejected<T>(error: Error): Promise<T> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}

// How far indexInChunk looks in plain JS before it calls Buffer#indexOf.
const INLINE_SCAN = 64;

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

/** Writes made in one turn of the loop: they complete together and share one Promise. */
class WriteBatch {
  promise: Promise<void> = DONE;
  resolve: () => void = noop;
  reject: (error: Error) => void = noop;
  /** Write callbacks the batch still waits for (see BaseIOStream.#dispatched). */
  remaining = 0;
  /** The first error a write of the batch reported. */
  error: Error | null = null;
  /** Made while the stream was corked: its data waits in the stream until uncork(). */
  held = false;
}

const DONE: Promise<void> = Promise.resolve();
const DONE_BATCH = new WriteBatch();
/** Stands in for the read Promise while a callback read ({@link BaseIOStream.readUntilNow}) waits. */
const CALLBACK_READ: Promise<any> = Promise.resolve();

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
  #endOfInputCallback: (() => boolean) | null = null;
  // The peer ended its side and the end-of-input callback kept the stream open (see there).
  #inputEnded = false;
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
  #readCloseOnMaxBytes: boolean;
  #readDelimiter: Buffer;
  #readRegex: RegExp | null;
  #readTarget: Uint8Array;
  #readFilled: number;
  #readPromise: Promise<any> | null;
  #readResolve: (value: any) => void;
  #readReject: (error: Error) => void;
  // A callback read's error callback, called on a microtask by #deferReadError (which
  // clears it; #resetRead leaves it, as the read's failure paths reset before rejecting).
  #readErrorCallback: (error: Error) => void;
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

  // Pending writes. The writes of one turn form a batch: the socket is corked at the first
  // and uncorked on the next tick, so they leave in one writev and complete together, and
  // share one Promise. #writeBatch is the batch still taking writes, if any; #writeBatches
  // are those handed to the socket and waiting for callbacks, in order (#onWriteDone, one
  // bound callback for all, counted in each batch's `remaining`).
  // On a plain TCP socket or pipe, writes go without a callback (which costs the socket a
  // tick each): a batch the socket takes whole at once (its buffer empty after the writes:
  // the common case) is settled then; otherwise an empty write queued behind it calls back
  // once it is through. Other streams (TLS, whose writes never complete at once; any other
  // Duplex, which might not take an empty write as nothing) get the callback on their writes.
  #writeBatches: WriteBatch[];
  #writeHead: number;
  #writeBatch: WriteBatch | null;
  readonly #writeCallbacks: boolean;
  // cork() depth, and what was written while corked: bytes, or latin1 strings (one byte per
  // character, handed to the socket as strings; other strings are encoded when written).
  #corked: number;
  #heldChunks: (Uint8Array | string)[];
  #heldBytes: number;
  #newBatch: WriteBatch | null;

  // Listeners and executors bound once (no closure per read or write).
  readonly #onData: (chunk: Buffer) => void;
  readonly #onEnd: () => void;
  readonly #onError: (error: Error) => void;
  readonly #onClose: () => void;
  readonly #onWriteDone: (error?: Error | null) => void;
  readonly #readExecutor: (resolve: (value: any) => void, reject: (error: Error) => void) => void;
  readonly #deferReadError: (error: Error) => void;
  readonly #writeExecutor: (resolve: () => void, reject: (error: Error) => void) => void;
  readonly #uncork: () => void;

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
    this.#readCloseOnMaxBytes = true;
    this.#readDelimiter = EMPTY;
    this.#readRegex = null;
    this.#readTarget = EMPTY;
    this.#readFilled = 0;
    this.#readPromise = null;
    this.#readResolve = noop;
    this.#readReject = noop;
    this.#readErrorCallback = noop;
    this.#scanChunk = 0;
    this.#scanOffset = 0;
    this.#scanBase = 0;
    this.#regexText = "";
    this.#lastDelimiterString = "";
    this.#lastDelimiter = EMPTY;
    this.#writeBatches = [];
    this.#writeHead = 0;
    this.#writeBatch = null;
    this.#writeCallbacks = !(socket instanceof Socket) || socket instanceof TLSSocket;
    this.#corked = 0;
    this.#heldChunks = [];
    this.#heldBytes = 0;
    this.#newBatch = null;
    this.#onData = this.#handleData.bind(this);
    this.#onEnd = this.#handleEnd.bind(this);
    this.#onError = this.#handleError.bind(this);
    this.#onClose = this.#handleClose.bind(this);
    this.#onWriteDone = this.#handleWriteDone.bind(this);
    this.#readExecutor = (resolve, reject) => {
      this.#readResolve = resolve;
      this.#readReject = reject;
    };
    this.#deferReadError = (error) => {
      const callback = this.#readErrorCallback;
      this.#readErrorCallback = noop;
      queueMicrotask(() => callback(error));
    };
    this.#writeExecutor = (resolve, reject) => {
      const batch = this.#newBatch!;
      batch.resolve = resolve;
      batch.reject = reject;
    };
    this.#uncork = this.#flushBatch.bind(this);
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    // A socket that is already gone makes a closed stream (no virtual calls from here: the
    // subclass fields do not exist yet). Nothing is pending, so there is nothing to signal.
    if (socket.destroyed) this.#closed = true;
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
   * @remarks Tornado fails an over-long read with `StreamClosedError(real_error=
   *   UnsatisfiableReadError)`; here the read rejects with the {@link UnsatisfiableReadError}
   *   itself, which is also `stream.error` (and the `realError` of later reads' errors).
   *   The search resumes where it stopped when more data arrives, so its cost does not grow
   *   with the number of chunks buffered.
   */
  readUntil(delimiter: string | Uint8Array, options?: MaxBytesOptions): Promise<Buffer> {
    const problem = this.#startReadUntil(delimiter, options);
    if (problem !== null) return Promise.reject(problem);
    return this.#tryInlineRead();
  }

  /**
   * The Promise-free form of {@link BaseIOStream.readUntil}, for protocol parsers on hot
   * paths (the HTTP/1 server reads each request head with it).
   * @returns the data up to and including the delimiter when the buffer already holds it
   *   (neither callback runs); otherwise null, and later exactly one of `onData` runs
   *   (synchronously, from the socket's data event) or `onError` (on a microtask, with the
   *   error {@link BaseIOStream.readUntil} would reject with). The Buffer `onData` gets may
   *   be a view of the socket's read buffer, valid until `onData` returns: copy what you
   *   keep (parse it, or `Buffer.from` it). Errors known at once (a closed
   *   stream, `maxBytes` exceeded, another read pending, a bad argument) go to `onError` too.
   * @remarks Tornado's IOStream took a callback before its reads returned Futures; this keeps
   *   that form for code that answers many small messages per turn of the loop, where one
   *   Promise per read is a measurable share of the work.
   */
  readUntilNow(
    delimiter: string | Uint8Array,
    options: MaxBytesOptions | undefined,
    onData: (data: Buffer) => void,
    onError: (error: Error) => void,
  ): Buffer | null {
    const problem = this.#startReadUntil(delimiter, options);
    const result = problem ?? this.#readFromBuffer();
    if (result === WAIT) {
      this.#readPromise = CALLBACK_READ;
      this.#readResolve = onData;
      this.#readErrorCallback = onError;
      this.#readReject = this.#deferReadError;
      if (this.#paused) this.#updateFlow();
      return null;
    }
    if (result instanceof Error) {
      queueMicrotask(() => onError(result));
      return null;
    }
    return result as Buffer;
  }

  /**
   * Takes `numBytes` bytes from the buffer at once, if they are there and no read is pending:
   * the synchronous form of {@link BaseIOStream.readBytes} for parsers that check
   * {@link BaseIOStream.readBufferSize} first.
   * @param options - `partial`: take what is buffered, 1 to `numBytes` bytes.
   * @returns the bytes (a view of the read buffer when they lie in one chunk), or null
   *   when they are not all buffered (with `partial`, none are), or another read is pending.
   */
  readBytesNow(numBytes: number, options?: PartialReadOptions): Buffer | null {
    if (this.#readKind !== READ_NONE || !Number.isSafeInteger(numBytes) || numBytes < 0) {
      return null;
    }
    const size = this.#size;
    let n = numBytes;
    if (size < n) {
      if (options?.partial !== true || size === 0) return null;
      n = size;
    }
    const result = this.#consume(n);
    if (this.#paused) this.#updateFlow();
    return result;
  }

  /** Sets up a delimiter read; returns why it cannot start, or null. */
  #startReadUntil(
    delimiter: string | Uint8Array,
    options: MaxBytesOptions | undefined,
  ): Error | null {
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
      return new TypeError("delimiter must be a string or a Uint8Array");
    }
    if (bytes.length === 0) return new RangeError("delimiter must not be empty");
    const maxBytes = options === undefined ? -1 : checkMaxBytes(options);
    if (typeof maxBytes === "string") return new RangeError(maxBytes);
    if (this.#readKind !== READ_NONE) return this.#alreadyReadingError();
    this.#readKind = READ_DELIMITER;
    this.#readDelimiter = bytes;
    this.#readMaxBytes = maxBytes;
    this.#readCloseOnMaxBytes = options?.closeOnMaxBytes !== false;
    this.#scanChunk = this.#head;
    this.#scanOffset = this.#offset;
    this.#scanBase = -this.#offset;
    return null;
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
    this.#readCloseOnMaxBytes = options?.closeOnMaxBytes !== false;
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
   * @throws (rejects) {@link StreamStateError} if another read is pending;
   *   {@link StreamClosedError} whose `realError` is a {@link StreamBufferFullError} if more
   *   than `maxBufferSize` bytes arrive (the stream closes; nothing is silently truncated).
   */
  readUntilClose(): Promise<Buffer> {
    if (this.#readKind !== READ_NONE) return this.#alreadyReading();
    this.#readKind = READ_UNTIL_CLOSE;
    return this.#tryInlineRead();
  }

  /** Bytes received and not yet consumed by a read. */
  get readBufferSize(): number {
    return this.#size;
  }

  /** True while a read is pending. */
  reading(): boolean {
    return this.#readPromise !== null;
  }

  #alreadyReading(): Promise<never> {
    return Promise.reject(this.#alreadyReadingError());
  }

  #alreadyReadingError(): Error {
    if (this.#closed) return new StreamClosedError(this.error);
    return new StreamStateError("Already reading", "ERR_ALREADY_READING");
  }

  /** Serves the read just started from the buffer if possible, else leaves it pending. */
  #tryInlineRead(): Promise<any> {
    const result = this.#readFromBuffer();
    if (result === WAIT) {
      const promise = new Promise<any>(this.#readExecutor);
      this.#readPromise = promise;
      if (this.#paused) this.#updateFlow();
      return promise;
    }
    return result instanceof Error ? rejected(result) : Promise.resolve(result);
  }

  /**
   * Serves the read just started from the buffer: its result, the error that ends it (the
   * read is cleared), or WAIT when it must wait for data.
   */
  #readFromBuffer(): Buffer | number | Error | typeof WAIT {
    const end = this.#findReadEnd();
    if (end >= 0) {
      const result = this.#takeResult(end);
      if (this.#paused) this.#updateFlow();
      return result;
    }
    if (end === UNSATISFIABLE) {
      const close = this.#readCloseOnMaxBytes;
      const error = this.#unsatisfiableError();
      this.#resetRead();
      if (close) this.close(error);
      return error;
    }
    if (this.#inputEnded && !this.#closed) {
      // Nothing more will come: close, as at end of input, and look again (a read to the
      // close takes the buffer now).
      this.close();
      return this.#readFromBuffer();
    }
    if (this.#closed) {
      this.#resetRead();
      return new StreamClosedError(this.error);
    }
    if (this.#size > this.maxBufferSize) {
      // Buffered beyond the limit already (read ahead for an earlier read) and still short.
      this.#resetRead();
      return new StreamClosedError(this.#bufferFull());
    }
    return WAIT;
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
    const size = this.#size;
    // Most matches (HTTP header ends) are near the front, so the text searched grows from a
    // small window (x4 each time) instead of converting a big buffer of pipelined data for
    // every read. A match reaching the window's edge might grow with the bytes after it, so
    // it counts only once the window holds the whole buffer.
    let window = Math.min(size, REGEX_WINDOW);
    for (;;) {
      if (this.#regexText.length < window) {
        this.#regexText += this.#latin1(this.#regexText.length, window);
      }
      const text = this.#regexText;
      const searched = text.length;
      const match = regex.exec(text);
      if (match !== null) {
        const end = match.index + match[0].length;
        if (end < searched || searched === size) {
          return maxBytes >= 0 && end > maxBytes ? UNSATISFIABLE : end;
        }
      }
      if (searched >= size) break;
      // Nothing ends within maxBytes: more text cannot help.
      if (maxBytes >= 0 && searched > maxBytes) return UNSATISFIABLE;
      window = Math.min(size, searched * 4);
    }
    return maxBytes >= 0 && size > maxBytes ? UNSATISFIABLE : NOT_YET;
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
    this.#readCloseOnMaxBytes = true;
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
      // pop() for the usual single chunk: setting length costs twenty times as much.
      if (head === 1) chunks.pop();
      else chunks.length = 0;
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

  /**
   * Bytes a subclass reads beyond `readChunkSize` before pausing the socket. A socket read
   * through its `data` event has its own read-ahead (the Readable's high-water mark), which
   * lets a peer's close be seen while data waits; a socket that hands reads straight to the
   * stream sets this to as much.
   */
  protected _readAhead = 0;

  /**
   * Takes bytes the socket delivered other than through its `data` event (a subclass that
   * reads into a buffer of its own); `chunk` must be the stream's to keep.
   */
  protected _receive(chunk: Buffer): void {
    this.#handleData(chunk);
  }

  /**
   * Takes the first `length` bytes of `buffer`, which the caller reuses once this returns.
   * When they are exactly what a waiting {@link BaseIOStream.readUntilNow} wants (nothing
   * else buffered, the delimiter at their very end), its `onData` gets a view of them, with
   * no copy: a request head read by an HTTP server. Otherwise they are copied and buffered.
   */
  protected _receiveTransient(buffer: Buffer, length: number): void {
    if (
      this.#readPromise === CALLBACK_READ &&
      this.#size === 0 &&
      this.#readKind === READ_DELIMITER &&
      !this.#closed &&
      (this.#readMaxBytes < 0 || length <= this.#readMaxBytes)
    ) {
      const delimiter = this.#readDelimiter;
      const view = buffer.subarray(0, length);
      if (indexInChunk(view, delimiter, 0) === length - delimiter.length) {
        const onData = this.#readResolve;
        this.#resetRead();
        onData(view);
        return;
      }
    }
    const chunk = Buffer.allocUnsafe(length);
    // A request head is a few dozen bytes: a plain loop copies those faster than a call.
    if (length <= 64) for (let i = 0; i < length; i++) chunk[i] = buffer[i]!;
    else buffer.copy(chunk, 0, 0, length);
    this._receive(chunk);
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
        const close = this.#readCloseOnMaxBytes;
        const error = this.#unsatisfiableError();
        this.#readPromise.catch(noop); // as a failure on close: no unhandled rejection
        this.#resetRead();
        reject(error);
        if (close) this.close(error);
        return;
      } else if (this.#size > this.maxBufferSize) {
        this.#bufferFull();
        return;
      } else return;
    }
    if (this.#size >= this.readChunkSize + this._readAhead && !this.#paused) this.#updateFlow();
  }

  /** Pauses the socket while enough is buffered and nobody waits for more; else resumes. */
  #updateFlow(): void {
    if (this.#closed) return;
    const wantData =
      this.#readPromise !== null || this.#size < this.readChunkSize + this._readAhead;
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
    if (this.#readCloseOnMaxBytes) {
      genLog.info("Unsatisfiable read, closing connection: %s", error.message);
    }
    return error;
  }

  /** Closes the stream because a read needs more than maxBufferSize bytes. */
  #bufferFull(): StreamBufferFullError {
    const error = new StreamBufferFullError("Reached maximum read buffer size");
    genLog.error("Reached maximum read buffer size");
    if (this.#readPromise !== null) {
      // Fail the read rather than let close() hand a readUntilClose a truncated result.
      const reject = this.#readReject;
      this.#readPromise.catch(noop);
      this.#resetRead();
      reject(new StreamClosedError(error));
    }
    this.close(error);
    return error;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes `data` to the stream.
   * @param data - bytes (any typed array or DataView; a view over its bytes is sent) or a string.
   * @param encoding - of a string. @defaultValue "utf8"
   * @returns a Promise resolved when the data has been handed to the kernel. A failed write
   *   nobody awaits raises no unhandled rejection. Writes go out in order; bytes are not
   *   copied, so leave a buffer unchanged until its write resolves.
   * @throws (rejects) {@link StreamClosedError} if the stream is or gets closed first;
   *   {@link StreamBufferFullError} if `maxWriteBufferSize` would be exceeded.
   */
  write(data: Uint8Array | ArrayBufferView | string, encoding?: BufferEncoding): Promise<void> {
    if (this.#closed) return rejected(new StreamClosedError(this.error));
    if (encoding !== undefined && !Buffer.isEncoding(encoding)) {
      return Promise.reject(new TypeError(`unknown encoding: ${String(encoding)}`));
    }
    let chunk: Uint8Array | string;
    if (typeof data === "string" || data instanceof Uint8Array) chunk = data;
    else if (ArrayBuffer.isView(data)) {
      chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    } else return Promise.reject(new TypeError("data must be a string or an ArrayBufferView"));
    const limit = this.maxWriteBufferSize;
    if (limit !== undefined) {
      const size =
        typeof chunk === "string" ? Buffer.byteLength(chunk, encoding ?? "utf8") : chunk.length;
      if (this.#socket.writableLength + this.#heldBytes + size > limit) {
        return rejected(new StreamBufferFullError("Reached maximum write buffer size"));
      }
    }
    if (this.#socket.writable !== true) {
      // The read end of a pipe, or a socket ended under us: nothing can be written.
      return rejected(new StreamClosedError(new Error("the stream is not writable")));
    }
    let batch = this.#writeBatch;
    if (this.#corked > 0 && (batch === null || batch.held)) {
      if (batch === null) batch = this.#startBatch(true);
      const held =
        typeof chunk !== "string" || encoding === "latin1"
          ? chunk
          : Buffer.from(chunk, encoding ?? "utf8");
      this.#heldChunks.push(held);
      this.#heldBytes += held.length;
      return batch.promise;
    }
    if (batch === null) batch = this.#startBatch(false);
    const socket = this.#socket;
    if (this.#writeCallbacks) {
      batch.remaining++;
      if (typeof chunk === "string") socket.write(chunk, encoding ?? "utf8", this.#onWriteDone);
      else socket.write(chunk, this.#onWriteDone);
    } else if (typeof chunk === "string") socket.write(chunk, encoding ?? "utf8");
    else socket.write(chunk);
    return batch.promise;
  }

  /**
   * Opens the batch that takes this turn's writes. A corked stream keeps its writes itself
   * until uncork(); otherwise the socket is corked until the next tick.
   */
  #startBatch(held: boolean): WriteBatch {
    const batch = new WriteBatch();
    this.#newBatch = batch;
    batch.promise = new Promise<void>(this.#writeExecutor);
    this.#newBatch = null;
    batch.held = held;
    this.#writeBatch = batch;
    if (!held) {
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    return batch;
  }

  /**
   * Holds writes in the stream until the matching {@link BaseIOStream.uncork}: what is
   * written in between goes to the socket together, in one system call (a server answering
   * pipelined requests). Calls nest. Without it, the writes of one tick are grouped anyway;
   * corking spares that tick and, for a single write, the socket's own buffering.
   */
  cork(): void {
    this.#corked++;
  }

  /** Ends one {@link BaseIOStream.cork}; the last one hands the held writes to the socket. */
  uncork(): void {
    if (this.#corked === 0) return;
    if (--this.#corked === 0) this.#flushHeld();
  }

  /** Hands what was written while corked to the socket (one writev for several writes). */
  #flushHeld(): void {
    const batch = this.#writeBatch;
    if (batch === null || !batch.held) return;
    this.#writeBatch = null;
    const chunks = this.#heldChunks;
    const count = chunks.length;
    this.#heldBytes = 0;
    const socket = this.#socket;
    if (socket.writable !== true) {
      // Ended under us: the batch fails with the stream (pending batches are rejected).
      this.#heldChunks = [];
      this.#writeBatches.push(batch);
      this.close();
      return;
    }
    const several = count > 1;
    if (several) {
      this.#heldChunks = [];
      socket.cork();
    }
    // With callbacks, the last write's says the batch is through (callbacks come in order).
    const last = this.#writeCallbacks ? count - 1 : -1;
    if (last >= 0) batch.remaining++;
    for (let i = 0; i < count; i++) {
      const chunk = chunks[i]!;
      if (i === last) {
        if (typeof chunk === "string") socket.write(chunk, "latin1", this.#onWriteDone);
        else socket.write(chunk, this.#onWriteDone);
      } else if (typeof chunk === "string") socket.write(chunk, "latin1");
      else socket.write(chunk);
    }
    // One chunk (one response, the common case): the list is emptied, not replaced.
    if (several) socket.uncork();
    else chunks.pop();
    this.#dispatched(batch);
  }

  #flushBatch(): void {
    const batch = this.#writeBatch;
    this.#writeBatch = null;
    const socket = this.#socket;
    if (socket.writableCorked > 0) socket.uncork();
    // Null when the stream closed meanwhile: the batch failed with it.
    if (batch !== null) this.#dispatched(batch);
  }

  /**
   * The socket has `batch`'s writes. With write callbacks, they settle it. Otherwise, if the
   * socket's buffer is empty and no batch is waiting, it took them whole: the batch is done;
   * if not, an empty write is queued behind them, whose callback, once they are through,
   * settles the batch (see #handleWriteDone).
   */
  #dispatched(batch: WriteBatch): void {
    const socket = this.#socket;
    if (socket.writable !== true || this.#closed) {
      // A write failed (or close() is flushing held writes): the batch fails with the stream.
      this.#writeBatches.push(batch);
      if (this.#closed) return;
      const error = socket.errored;
      if (error !== null && error !== undefined) this.#handleError(error);
      else this.close();
      return;
    }
    if (batch.remaining > 0) {
      this.#writeBatches.push(batch);
      return;
    }
    if (this.#writeHead === this.#writeBatches.length && socket.writableLength === 0) {
      batch.resolve();
      return;
    }
    batch.remaining = 1;
    this.#writeBatches.push(batch);
    socket.write(EMPTY, this.#onWriteDone);
  }

  /** Bytes written and not yet handed to the kernel (held by cork() or buffered by the socket). */
  get writeBufferSize(): number {
    return this.#socket.writableLength + this.#heldBytes;
  }

  /** True while written data waits to be flushed to the kernel. */
  writing(): boolean {
    return this.#writeBatch !== null || this.#writeHead < this.#writeBatches.length;
  }

  #handleWriteDone(error?: Error | null): void {
    const batches = this.#writeBatches;
    const i = this.#writeHead;
    if (i >= batches.length) return; // a callback after close() failed the write already
    // Callbacks come in write order, so this one belongs to the first batch waiting.
    const batch = batches[i]!;
    // A failed write fails the writes queued behind it (an empty one too): the socket's own
    // error says what happened.
    if (error) batch.error ??= this.#socket.errored ?? error;
    if (--batch.remaining === 0) this.#settleCompleted();
  }

  /** Settles, in order, the batches that are closed to new writes and fully written. */
  #settleCompleted(): void {
    const batches = this.#writeBatches;
    while (this.#writeHead < batches.length) {
      const i = this.#writeHead;
      const batch = batches[i]!;
      if (batch.remaining > 0) return;
      if (i + 1 === batches.length) {
        if (i === 0) batches.pop();
        else batches.length = 0;
        this.#writeHead = 0;
      } else {
        batches[i] = DONE_BATCH;
        this.#writeHead = i + 1;
      }
      if (batch.error !== null) {
        batch.promise.catch(noop);
        batch.reject(new StreamClosedError(batch.error));
        this.#handleError(batch.error);
        return; // closing failed the rest
      }
      batch.resolve();
    }
  }

  // ---------------------------------------------------------------- closing

  /**
   * Sets a callback run synchronously when the peer ends its side of the stream (end of
   * input) while no read is pending, on a socket that allows half-open connections (plain
   * sockets accepted by TCPServer do; on others it is not called). The stream then closes, as
   * in Tornado, unless the callback returns true: it stays open for writing (see
   * {@link BaseIOStream.inputEnded}), reads are served from what is buffered, and the first
   * read that would wait for more closes it instead, as the end of input would have. A
   * server whose client sent requests and then its FIN keeps the stream open that way to
   * answer them. The owner must then start such a read or close the stream itself. `null`
   * removes it.
   */
  setEndOfInputCallback(callback: (() => boolean) | null): void {
    this.#endOfInputCallback = callback;
  }

  /**
   * True once the peer has ended its side and an end-of-input callback kept the stream open
   * (until it closes): nothing more will be read beyond the buffer.
   */
  get inputEnded(): boolean {
    return this.#inputEnded && !this.#closed;
  }

  /**
   * Sets a callback run (on a later turn of the loop) when the stream closes, whoever closed
   * it. It replaces any earlier one; `null` removes it. Pending reads and writes have failed
   * by then.
   * @remarks Unlike Tornado, a callback set on an already closed stream still runs (once),
   *   so code that sets it late cannot miss the close.
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
   * Closes the stream and the socket under it.
   *
   * A pending `readUntilClose` resolves with the buffered data; another pending read resolves
   * if the buffer satisfies it, else it fails with {@link StreamClosedError}, as do pending
   * write Promises. The close callback runs on a later turn. Without an error, bytes already
   * given to `write` are still flushed before the socket is shut down (for at most
   * {@link CLOSE_LINGER_MS}); with one, the socket is destroyed at once.
   * @param error - why: kept in {@link BaseIOStream.error} and as `realError` of the errors.
   */
  close(error?: unknown): void {
    if (this.#closed) return;
    if (error !== undefined && error !== null && error !== false) this.error = toError(error);
    this.#closed = true;
    this.#endOfInputCallback = null;
    if (this.#readPromise !== null) {
      const end = this.#findReadEnd();
      if (end >= 0) {
        const resolve = this.#readResolve;
        const callback = this.#readPromise === CALLBACK_READ;
        const result = this.#takeResult(end);
        // A callback read never runs inside close(): its owner may be the one closing.
        if (callback) queueMicrotask(() => resolve(result));
        else resolve(result);
      }
    }
    // Writes held by cork() still go out before the socket is shut down.
    this.#corked = 0;
    if (this.error === null) this.#flushHeld();
    else if (this.#heldBytes > 0) {
      this.#heldChunks = [];
      this.#heldBytes = 0;
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
    if (
      this.error !== null ||
      !socket.writable ||
      typeof socket.end !== "function" ||
      !this._canFlushOnClose()
    ) {
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
    const batches = this.#writeBatches;
    const start = this.#writeHead;
    const open = this.#writeBatch;
    if (open !== null) {
      // The batch still taking writes (held by cork(), or in the socket's corked buffer).
      this.#writeBatch = null;
      batches.push(open);
    }
    if (start < batches.length) {
      this.#writeBatches = [];
      this.#writeHead = 0;
      for (let i = start; i < batches.length; i++) {
        const batch = batches[i]!;
        batch.promise.catch(noop);
        batch.reject(new StreamClosedError(closedError));
      }
    }
    this._signalClosed(closedError);
    this.#scheduleCloseCallback();
  }

  /** False while the transport is not established (connecting, TLS handshake): no flush. */
  protected _canFlushOnClose(): boolean {
    return true;
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
    const callback = this.#endOfInputCallback;
    if (
      callback !== null &&
      !this.#closed &&
      this.#readPromise === null &&
      this.#socket.allowHalfOpen === true
    ) {
      this.#endOfInputCallback = null;
      let keepOpen = false;
      try {
        keepOpen = callback() === true;
      } catch (error) {
        genLog.error("Uncaught exception in end-of-input callback", error);
      }
      if (keepOpen && !this.#closed) {
        this.#inputEnded = true;
        return;
      }
    }
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
