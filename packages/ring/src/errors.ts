/** Stable codes so callers can match on `err.code` instead of parsing messages. */
export type RingErrorCode =
  | 'ERR_RING_HASHER_NOT_LOADED'
  | 'ERR_RING_EMPTY'
  | 'ERR_RING_INVALID_MEMBER'
  | 'ERR_RING_INVALID_OPTION'
  | 'ERR_RING_UNKNOWN_MEMBER';

export class RingError extends Error {
  override readonly name = 'RingError';
  readonly code: RingErrorCode;

  constructor(code: RingErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
