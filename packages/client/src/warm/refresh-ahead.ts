import type { GetOrSetOptions } from '../stampede/get-or-set-options';
import type { Loader } from '../stampede/loader-run';

/** What getOrSet tells the background warmer: every call, and what the cache said about the key. */
export interface AccessObserver {
  accessed(key: string): void;
  /** Remaining TTL (Infinity = none; 0 = already expired) and the entry's version. */
  seen(key: string, ttlMs: number, version: number | undefined): void;
}

export interface RefreshAheadOptions extends GetOrSetOptions {
  /** Refresh only when the entry has at most this long left; more means someone else already did. */
  aheadMs: number;
}

/**
 * - refreshed: this caller held the lease and reloaded it.
 * - fresh: someone else already did (the entry has more than aheadMs left, or a newer version).
 * - busy: someone else holds the lease right now, or the cache breaker is not closed.
 */
export type RefreshOutcome = { kind: 'refreshed' } | { kind: 'fresh' } | { kind: 'busy' };

/** The part of getOrSet the warmer drives (an interface, so the warmer is tested without a cache). */
export interface WarmRefresher {
  refreshAhead(key: string, loader: Loader<unknown>, o: RefreshAheadOptions): Promise<RefreshOutcome>;
}
