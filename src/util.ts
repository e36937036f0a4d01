/**
 * Miscellaneous utilities: Tornado's `tornado.util`.
 *
 * Main exports: {@link TimeoutError}.
 */

/** Raised when an operation runs past its timeout or deadline (`withTimeout`, locks, queues, `runSync`). */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  readonly code = "ERR_TIMEOUT";
  constructor(message = "Timeout", options?: ErrorOptions) {
    super(message, options);
  }
}
