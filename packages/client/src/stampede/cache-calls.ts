import type { OpSpec } from '@corral/protocol';
import type { RequestOptions } from '../node-connection';

/**
 * What the stampede, lock, write and warm helpers need from Corral: one keyed op, routed and
 * retried exactly like Corral's own calls (owner lookup, E_NOT_OWNER refresh). Keeping them on this
 * one function keeps them out of Corral's internals.
 */
export interface CacheCalls {
  call(key: string, op: OpSpec, args: unknown[], opts?: RequestOptions): Promise<unknown>;
}

/** Extra time a parked request (LGET on a lease, queued LOCK) gets over its wait before the client gives up on the node. */
export const PARKED_REPLY_SLACK_MS = 1_000;
