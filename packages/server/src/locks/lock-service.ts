import { CorralError, systemClock, type Clock } from '@corral/protocol';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ConnectionContext } from '../connection-context';
import type { VersionClock } from '../version-clock';
import { DefaultLockLimits, LockTable, type LockGrant, type LockTableLimits } from './lock-table';
import { TokenBucket, type TokenBucketOptions } from './token-bucket';

export interface LockServiceOptions {
  /**
   * Where fencing tokens come from: the node's hybrid logical clock (the store's VersionClock),
   * max(last + 1, wallMs·1024). See docs/stampede.md for the clock-skew assumption that remains.
   */
  versions: VersionClock;
  clock?: Clock;
  limits?: Partial<LockTableLimits>;
  /** Per connection. */
  rateLimit?: Partial<TokenBucketOptions>;
  registry?: Registry;
}

export const DEFAULT_LOCK_TTL_MS = 10_000;
export const DefaultLockRateLimit: Readonly<TokenBucketOptions> = { capacity: 50, refillPerSec: 20 };

/**
 * LOCK / UNLOCK / LOCKEXTEND. Fencing tokens are drawn from the node's version clock, so they only
 * go up on this node — across holders, crashes (TTL lapses) and restarts alike — and a node that
 * takes over a name from another issues tokens above the old owner's as long as their wall clocks
 * differ by less than the time between the old owner's last token and the new owner's first.
 * Entries handed off between nodes push the receiver's clock past their versions (HLC receive
 * rule), which narrows that window further.
 */
export class LockService {
  readonly table: LockTable;
  private readonly clock: Clock;
  private readonly buckets = new WeakMap<ConnectionContext, TokenBucket>();
  private readonly rate: TokenBucketOptions;
  private readonly attempts: Counter<'result'> | undefined;
  private readonly waitSeconds: Histogram | undefined;
  readonly counts = { acquired: 0, held: 0, rateLimited: 0, released: 0, lost: 0, extended: 0, waitMsTotal: 0, waitMsMax: 0 };

  constructor(opts: LockServiceOptions) {
    this.clock = opts.clock ?? systemClock;
    this.table = new LockTable(this.clock, () => opts.versions.next(), { ...DefaultLockLimits, ...opts.limits });
    this.rate = { ...DefaultLockRateLimit, ...opts.rateLimit };
    if (opts.registry) {
      const registers = [opts.registry];
      this.attempts = new Counter({ name: 'corral_lock_attempts_total', help: 'LOCK requests by result', labelNames: ['result'], registers });
      this.waitSeconds = new Histogram({
        name: 'corral_lock_wait_seconds', help: 'How long granted LOCK requests queued', registers,
        buckets: [0, 0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30],
      });
    }
  }

  lock(name: string, ttlMs: number | undefined, waitMs: number | undefined, ctx: ConnectionContext): unknown {
    const ttl = ttlMs ?? DEFAULT_LOCK_TTL_MS;
    if (ttl === 0) throw new CorralError('E_BAD_ARGS', 'LOCK: ttlMs must be > 0 (a lock without a TTL outlives a crashed holder)');
    if (!this.bucketFor(ctx).take()) {
      this.count('rate_limited');
      throw new CorralError('E_RATE_LIMITED', `too many LOCK attempts on this connection (${this.rate.capacity} burst, ${this.rate.refillPerSec}/s)`);
    }
    let r: LockGrant | Promise<LockGrant>;
    try {
      r = this.table.acquire(name, ttl, waitMs ?? 0);
    } catch (e) {
      if (e instanceof CorralError && e.code === 'E_LOCK_HELD') this.count('held');
      throw e;
    }
    if (!(r instanceof Promise)) return this.granted(r);
    return r.then((g) => this.granted(g), (e: unknown) => {
      if (e instanceof CorralError && e.code === 'E_LOCK_HELD') this.count('held');
      throw e;
    });
  }

  unlock(name: string, token: number): true {
    this.guard(() => this.table.release(name, token));
    this.counts.released++;
    return true;
  }

  extend(name: string, token: number, ttlMs: number): number {
    if (ttlMs === 0) throw new CorralError('E_BAD_ARGS', 'LOCKEXTEND: ttlMs must be > 0');
    const r = this.guard(() => this.table.extend(name, token, ttlMs));
    this.counts.extended++;
    return r;
  }

  close(): void {
    this.table.clear(new CorralError('E_SHUTTING_DOWN', 'the node is shutting down'));
  }

  stats(): Record<string, number> {
    const c = this.counts;
    return {
      locks: this.table.size, lockWaiters: this.table.waiters, locksAcquired: c.acquired, lockHeldRefusals: c.held,
      lockRateLimited: c.rateLimited, locksLost: c.lost, lockWaitMsTotal: c.waitMsTotal, lockWaitMsMax: c.waitMsMax,
    };
  }

  private granted(g: LockGrant): [number, number] {
    this.count('acquired');
    this.counts.waitMsTotal += g.waitedMs;
    this.counts.waitMsMax = Math.max(this.counts.waitMsMax, g.waitedMs);
    this.waitSeconds?.observe(g.waitedMs / 1000);
    return [g.token, g.ttlMs];
  }

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof CorralError && e.code === 'E_LOCK_LOST') this.counts.lost++;
      throw e;
    }
  }

  private count(result: 'acquired' | 'held' | 'rate_limited'): void {
    if (result === 'acquired') this.counts.acquired++;
    else if (result === 'held') this.counts.held++;
    else this.counts.rateLimited++;
    this.attempts?.labels(result).inc();
  }

  private bucketFor(ctx: ConnectionContext): TokenBucket {
    let b = this.buckets.get(ctx);
    if (!b) this.buckets.set(ctx, (b = new TokenBucket(this.clock, this.rate)));
    return b;
  }
}
