/** Stable codes; callers match on `err.code`, never on the message. */
export const CoordinatorErrorCodes = {
  E_JOIN_TIMEOUT: 'no seed answered a join within joinTimeoutMs',
  E_STOPPED: 'the membership was stopped before the operation finished',
  E_NOT_STARTED: 'start() has not completed',
  E_PUSH_PULL_FAILED: 'the TCP state exchange with a peer failed',
  E_BAD_OPTIONS: 'the options are invalid',
} as const;

export type CoordinatorErrorCode = keyof typeof CoordinatorErrorCodes;

export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  constructor(
    readonly code: CoordinatorErrorCode,
    message: string = CoordinatorErrorCodes[code],
  ) {
    super(message);
  }
}
