// The errors of tornado-ts/iostream (see src/iostream.ts).

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
