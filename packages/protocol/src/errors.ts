/**
 * Stable error codes. Users match on `err.code`, never on the message, so a code is never renamed
 * or reused once shipped. The same table is printed in docs/protocol.md.
 */
export const ErrorCodes = {
  E_BAD_FRAME: 'the frame is not valid msgpack or not a frame shape; the connection is closed',
  E_FRAME_TOO_LARGE: 'a frame declared a length over the limit; the connection is closed',
  E_UNKNOWN_OP: 'the op code is not in the op table',
  E_BAD_ARGS: 'the arguments do not match the op (count or types)',
  E_KEY_TOO_LONG: 'the key is longer than the node allows (bytes, UTF-8)',
  E_VALUE_TOO_LARGE: 'the value is larger than the node allows',
  E_CAS_MISMATCH: 'the entry version is not the one the write was conditional on',
  E_NOT_INTEGER: 'INCRBY on a value that is not an integer',
  E_OVERFLOW: 'INCRBY would leave the safe integer range',
  E_OOM: 'the entry cannot fit in max-memory even after evicting everything evictable',
  E_NOT_OWNER: 'this node does not own the key for the given ring epoch; refresh the topology',
  E_NO_HELLO: 'the connection must send HELLO before this op',
  E_PROTOCOL_VERSION: 'the client speaks a protocol version this node does not support',
  E_AUTH: 'authentication failed or is required',
  E_NOT_ADMIN: 'the op is an admin op and this connection is not an admin connection',
  E_TOO_MANY_CONNECTIONS: 'the node is at its connection limit',
  E_OUTPUT_BUFFER_FULL: 'the client did not read its replies; the connection is dropped',
  E_SHUTTING_DOWN: 'the node is shutting down and takes no new requests',
  E_LEASE_INVALID: 'the lease token is unknown, expired, or was voided by a delete',
  E_LOCK_HELD: 'the lock is held by someone else',
  E_LOCK_LOST: 'the fencing token is stale: the lock expired or was taken by someone else',
  E_RATE_LIMITED: 'too many attempts; slow down',
  E_INTERNAL: 'a bug in the node; the request was not applied, other requests are unaffected',
  E_DEADLINE_PASSED: 'the request reached the node after the deadline its client set (clients set one on writes: the caller was already told it failed); it was not applied',
  // client-side codes (never sent on the wire)
  E_TIMEOUT: 'the request got no reply within its timeout',
  E_ABORTED: 'the request was aborted by its AbortSignal',
  E_CONNECTION_CLOSED: 'the connection closed before the reply arrived; the request may or may not have been applied',
  E_NOT_CONNECTED: 'no connection to the node could be made',
  E_CLIENT_CLOSED: 'the client was closed',
  E_CIRCUIT_OPEN: 'the circuit breaker for the node is open (fail-fast mode)',
  E_LOADER_TIMEOUT: 'the loader did not finish within its hard timeout',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, x);
}

/** An error with a stable wire code. `details` carries machine-readable context (e.g. the epoch for E_NOT_OWNER). */
export class CorralError extends Error {
  override readonly name: string = 'CorralError';
  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
