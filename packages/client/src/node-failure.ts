/** How a request's outcome counts for its node's circuit breaker. */
export type NodeOutcome = 'failure' | 'success' | 'neutral';

/**
 * Codes that say the node did not answer. E_CONNECTION_CLOSED is not among them: every request in
 * flight gets it when one connection drops, and the drop itself is already counted once by the
 * connection (see MemberConnection), so fifty of them would open the breaker on a single blip.
 * E_SHUTTING_DOWN is the node itself saying it is going away.
 */
const FAILURES: ReadonlySet<string> = new Set(['E_TIMEOUT', 'E_NOT_CONNECTED', 'E_SHUTTING_DOWN']);

/** Settled by this process, not by the node: they say nothing about its health either way. */
const NEUTRAL: ReadonlySet<string> = new Set(['E_ABORTED', 'E_CLIENT_CLOSED', 'E_CONNECTION_CLOSED']);

/**
 * Any other error is an answer (E_CAS_MISMATCH, E_NOT_OWNER, E_KEY_TOO_LONG...): the node is up and
 * talking, which ends a streak of failures just as a result does.
 */
export function outcomeOf(err: unknown): NodeOutcome {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'neutral';
  if (FAILURES.has(code)) return 'failure';
  if (NEUTRAL.has(code)) return 'neutral';
  return 'success';
}
