/** Counters of what getOrSet did, for `cache.stampedeStats()`. All only go up. */
export interface StampedeStats {
  /** getOrSet calls made by the application. */
  calls: number;
  /** Served from a live entry. */
  hits: number;
  /** Loader invocations in this process (cache fills, refreshes, origin calls). */
  loaderCalls: number;
  /** Calls that joined another call's in-flight work for the same key instead of starting their own. */
  coalescedWaits: number;
  /** LGETs the node parked on another caller's lease. */
  leaseWaits: number;
  /** Stale values handed to callers (grace, soft timeout, stale-if-error). */
  staleServed: number;
  /** XFetch said refresh and this process won the refresh lease. */
  earlyRefreshes: number;
  /** XFetch said refresh (won or not). */
  earlyRefreshTriggers: number;
  loaderErrors: number;
  loaderTimeouts: number;
  /** The loader outran softTimeoutMs and the stale value was served meanwhile. */
  softTimeouts: number;
  /** A loaded value was not stored because its lease had been voided by a write or delete. */
  leaseLost: number;
  /** Loader calls made straight to the origin because the cache was failing or its breaker open. */
  originCalls: number;
  /** Cache calls that failed (unreachable, timed out) inside getOrSet. */
  cacheErrors: number;
}

export function emptyStampedeStats(): StampedeStats {
  return {
    calls: 0, hits: 0, loaderCalls: 0, coalescedWaits: 0, leaseWaits: 0, staleServed: 0, earlyRefreshes: 0,
    earlyRefreshTriggers: 0, loaderErrors: 0, loaderTimeouts: 0, softTimeouts: 0, leaseLost: 0, originCalls: 0, cacheErrors: 0,
  };
}
