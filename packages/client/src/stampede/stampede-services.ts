import type { Clock } from '@corral/protocol';
import { clientError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { BackgroundWarmer, type BackgroundWarmerOptions } from '../warm/background-warmer';
import { warmKeys, type WarmLoader, type WarmOptions, type WarmResult } from '../warm/warmer';
import { WriteBehindQueue, type WriteBehindOptions, type WriteBehindStats } from '../write/write-behind-queue';
import { WriteStrategies, type WriteStats, type WriteTarget } from '../write/write-strategies';
import type { CacheBreakerState } from './cache-breaker';
import type { CacheCalls } from './cache-calls';
import { LockClient, type LockStats } from './distributed-lock';
import { GetOrSet } from './get-or-set';
import type { StampedeOptions } from './get-or-set-options';
import type { OriginLimiterStats } from './origin-limiter';
import type { StampedeStats } from './stampede-stats';

export interface StampedeServicesOptions {
  stampede?: StampedeOptions;
  writeBehind?: WriteBehindOptions;
  logger?: Logger;
}

/** Everything `cache.stampedeStats()` reports. */
export interface StampedeReport extends StampedeStats {
  cacheBreaker: CacheBreakerState;
  origin: OriginLimiterStats;
  locks: LockStats;
  writes: WriteStats;
  /** Absent until writeBehind is configured. */
  writeBehind?: WriteBehindStats;
}

/**
 * The pieces behind Corral's getOrSet, lock, write and warm methods, built once per client: each
 * Corral is its own "process" for coalescing, which is what lets tests run several in one.
 */
export class StampedeServices {
  readonly getOrSet: GetOrSet;
  readonly locks: LockClient;
  readonly writes: WriteStrategies;
  private behind: WriteBehindQueue | undefined;
  private readonly warmers = new Set<BackgroundWarmer>();

  constructor(calls: CacheCalls, target: WriteTarget, private readonly clock: Clock, opts: StampedeServicesOptions = {}) {
    this.getOrSet = new GetOrSet(calls, clock, opts.stampede, opts.logger ?? silentLogger);
    this.locks = new LockClient(calls, clock);
    this.writes = new WriteStrategies(target, calls, () => this.writeBehindQueue());
    if (opts.writeBehind) this.behind = new WriteBehindQueue(opts.writeBehind, clock);
  }

  writeBehindQueue(): WriteBehindQueue {
    if (!this.behind) throw clientError('E_BAD_ARGS', 'writeBehind needs a database writer: pass writeBehind: { write } in the Corral options');
    return this.behind;
  }

  warm(keys: Iterable<string>, loader: WarmLoader, o?: WarmOptions): Promise<WarmResult> {
    return warmKeys(this.getOrSet, keys, loader, o, this.clock);
  }

  /** A background warmer fed by every getOrSet of this client; it leaves the feed when stopped. */
  startWarmer(o: BackgroundWarmerOptions): BackgroundWarmer {
    const warmer = new BackgroundWarmer(this.getOrSet, o, this.clock, () => {
      this.warmers.delete(warmer);
      if (this.warmers.size === 0) this.getOrSet.observer = undefined;
    });
    this.warmers.add(warmer);
    this.getOrSet.observer ??= {
      accessed: (key) => { for (const w of this.warmers) w.accessed(key); },
      seen: (key, ttlMs, version) => { for (const w of this.warmers) w.seen(key, ttlMs, version); },
    };
    return warmer;
  }

  /** Stops every background warmer (close()); resolves when their refreshes in flight are done. */
  async stopWarmers(): Promise<void> {
    await Promise.all([...this.warmers].map((w) => w.stop()));
  }

  report(): StampedeReport {
    return {
      ...this.getOrSet.stats,
      cacheBreaker: this.getOrSet.breaker.state,
      origin: this.getOrSet.origin.stats(),
      locks: { ...this.locks.stats },
      writes: { ...this.writes.stats },
      ...(this.behind && { writeBehind: this.behind.stats() }),
    };
  }

  /** Flushes write-behind (bounded by its closeTimeoutMs); undefined when there is no queue. */
  closeWrites(): Promise<void> | undefined {
    return this.behind?.close();
  }
}
