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
 * Writes made in one turn of the loop leave together in one `writev` (the socket is corked
 * until the next tick) and share one Promise; nothing is copied. {@link BaseIOStream.cork} and
 * {@link BaseIOStream.uncork} group writes explicitly, without waiting for the tick.
 *
 * For protocol parsers on hot paths, {@link BaseIOStream.readUntilNow} (a callback form of
 * `readUntil`) and {@link BaseIOStream.readBytesNow} (take buffered bytes at once) read without
 * a Promise; the HTTP/1 server reads each request with them.
 *
 * A failed read or write that nobody awaits never raises an unhandled rejection (as Tornado
 * marks its futures' exceptions retrieved). `close()` flushes what was already written and
 * shuts the connection down; a peer reset (ECONNRESET, EPIPE, …) closes the stream without
 * a log record, keeping the cause in `stream.error`.
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

export {
  type BaseIOStreamOptions,
  BaseIOStream,
  CLOSE_LINGER_MS,
  type MaxBytesOptions,
  type PartialReadOptions,
} from "./iostream/base.js";
export {
  StreamBufferFullError,
  StreamClosedError,
  StreamStateError,
  type StreamStateErrorCode,
  UnsatisfiableReadError,
} from "./iostream/errors.js";
export { PipeIOStream, type PipeIOStreamOptions } from "./iostream/pipe.js";
export { IOStream, SSLIOStream, type StartTlsOptions } from "./iostream/socket.js";
