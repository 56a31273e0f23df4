import type { CacheBreakerOptions } from './cache-breaker';
import type { OriginLimiterOptions } from './origin-limiter';

/** Per call. Everything is optional; coalescing and leases are on unless turned off. */
export interface GetOrSetOptions {
  /** TTL of what the loader returns, ms (Infinity = none); the loader may override it with ctx.setTtl. */
  ttlMs?: number;
  /**
   * Stale-while-revalidate: keep the entry this long past its expiry. Within it a caller gets the
   * stale value at once while one caller in the whole fleet (the lease winner) refreshes it in the
   * background. Never served beyond it.
   */
  graceMs?: number;
  /** XFetch aggressiveness (default 1; 0 = no early refresh). */
  beta?: number;
  /** With a stale value at hand: wait this long for the fresh load, then serve stale and let the load finish in the background. */
  softTimeoutMs?: number;
  /** Fail with E_LOADER_TIMEOUT (and abort the loader's signal) after this long. */
  hardTimeoutMs?: number;
  /** With a stale value at hand, serve it when the loader throws instead of throwing. */
  staleIfError?: boolean;
  /** Shorten each stored TTL by up to this fraction, at random, so keys written together do not expire together. */
  ttlJitter?: number;
  /** Skip the read: load now and overwrite (voids any lease a slower loader holds). */
  forceFresh?: boolean;
  /** How long a caller waits, in total, for another caller's load (its lease) before loading itself. */
  waitMs?: number;
  /** How long a lease this caller wins lives: a crashed holder blocks the key for at most this long. */
  leaseTtlMs?: number;
  /** In-process single flight (default true). */
  coalesce?: boolean;
  /** Fleet-wide single flight through node leases (default true). */
  lease?: boolean;
  /** Per cache request (not per loader), ms. */
  timeoutMs?: number;
  /** Detaches this caller (E_ABORTED); the shared load goes on for the others. */
  signal?: AbortSignal;
}

/** Per client (CorralOptions.stampede). */
export interface StampedeOptions {
  /** Default ttlMs of getOrSet (default 60 s). */
  defaultTtlMs?: number;
  /** Default waitMs (default 5 s). */
  waitMs?: number;
  /** Default leaseTtlMs (default 10 s, or hardTimeoutMs + 1 s when that is set). */
  leaseTtlMs?: number;
  /** Bound on keys being loaded at once in this process through the coalescer (default 10 000). */
  maxPendingKeys?: number;
  cacheBreaker?: Partial<CacheBreakerOptions>;
  origin?: Partial<OriginLimiterOptions>;
  /** Randomness for XFetch and TTL jitter (tests seed it). */
  random?: () => number;
}

export const StampedeDefaults = { defaultTtlMs: 60_000, waitMs: 5_000, leaseTtlMs: 10_000, maxPendingKeys: 10_000 } as const;
