import { CorralError, type ErrorCode, type ErrorFrame } from '@corral/protocol';

/**
 * The client throws one error class, protocol's CorralError, whether the code came off the wire
 * (E_CAS_MISMATCH) or was decided here (E_TIMEOUT). Users write `err instanceof CorralError` and
 * switch on `err.code`; the message is for humans and may change.
 */
export { CorralError, ErrorCodes, isErrorCode, type ErrorCode } from '@corral/protocol';

/** A client-side error; `cause` keeps the underlying socket error or abort reason for logs. */
export function clientError(code: ErrorCode, message?: string, details?: Record<string, unknown>, cause?: unknown): CorralError {
  const err = new CorralError(code, message, details);
  if (cause !== undefined) err.cause = cause;
  return err;
}

/**
 * An error frame becomes a CorralError carrying the wire code verbatim. A newer node may send a
 * code this client does not know yet; keeping it (rather than folding it into E_INTERNAL) leaves
 * it visible in logs, and a `switch (err.code)` simply falls through to its default.
 */
export function fromErrorFrame(f: ErrorFrame): CorralError {
  return new CorralError(f.code as ErrorCode, f.message, f.details);
}

export function abortError(signal: AbortSignal): CorralError {
  return clientError('E_ABORTED', 'the request was aborted by its AbortSignal', undefined, signal.reason);
}
