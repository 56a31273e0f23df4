import type { Clock } from '@corral/protocol';

/** 'fill': granted on a miss. 'refresh': granted while a value (stale or fresh) can still be served. */
export type LeaseKind = 'fill' | 'refresh';

export interface Lease {
  readonly token: number;
  /** Clock.now() at which the lease lapses: a holder that died stops blocking everyone then. */
  readonly expiresAt: number;
  readonly kind: LeaseKind;
}

/** What a parked caller is finally told: the value the holder set, or "try again". */
export type WakeReply = { hit: unknown[] } | { miss: true };

export interface LeaseTableLimits {
  /** Leases held at once on this node; past it LGET cannot grant (the caller loads without one). */
  maxLeases: number;
  /** Parked callers per key; each is a whole process (clients coalesce in-process first). */
  maxWaitersPerKey: number;
  /** Parked callers on this node. */
  maxWaiters: number;
}

export const DefaultLeaseLimits: Readonly<LeaseTableLimits> = { maxLeases: 65_536, maxWaitersPerKey: 1_024, maxWaiters: 16_384 };

interface Waiter { resolve: (r: WakeReply) => void; timer: NodeJS.Timeout }
interface KeyLeases { lease: Lease | undefined; waiters: Set<Waiter> }

/** When full of live leases, a sweep for lapsed ones runs at most this often (a sweep is O(keys)). */
const SWEEP_EVERY_MS = 1_000;

/**
 * Who may load each key, and who is waiting for them. One lease per key; a lease lapses at its
 * TTL so a crashed holder blocks the key for at most that long. Time is the injected Clock;
 * lapsed leases are dropped when looked at, and in a bounded sweep when the table is full.
 *
 * Parked callers hold a timer each (their wait, cut short to the lease's end so they can take
 * over from a dead holder) and are answered by `wake` when the key is written, deleted, or the
 * lease is given back.
 */
export class LeaseTable {
  private readonly keys = new Map<string, KeyLeases>();
  private leaseCount = 0;
  private waiterCount = 0;
  private lastSweep = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly nextToken: () => number,
    private readonly limits: LeaseTableLimits = DefaultLeaseLimits,
  ) {}

  get leases(): number { return this.leaseCount; }
  get waiters(): number { return this.waiterCount; }

  /** The live lease on `key`, if any. */
  holder(key: string): Lease | undefined {
    const k = this.keys.get(key);
    if (k?.lease === undefined) return undefined;
    if (k.lease.expiresAt <= this.clock.now()) {
      this.dropLease(key, k);
      return undefined;
    }
    return k.lease;
  }

  /** Grants a lease if none is live; undefined when one is, or the table is full. */
  grant(key: string, ttlMs: number, kind: LeaseKind): Lease | undefined {
    if (this.holder(key) !== undefined) return undefined;
    if (this.leaseCount >= this.limits.maxLeases && !this.sweep()) return undefined;
    const lease: Lease = { token: this.nextToken(), expiresAt: this.clock.now() + ttlMs, kind };
    const k = this.keys.get(key);
    if (k) k.lease = lease;
    else this.keys.set(key, { lease, waiters: new Set() });
    this.leaseCount++;
    return lease;
  }

  /** Whether `token` is the live lease on `key`. */
  isHeld(key: string, token: number): boolean {
    return this.holder(key)?.token === token;
  }

  /** Ends the lease on `key` (any token): the key was written or deleted by someone. */
  voidKey(key: string): void {
    const k = this.keys.get(key);
    if (k?.lease !== undefined) this.dropLease(key, k);
  }

  /** Ends the lease only if `token` holds it; returns whether it did. */
  release(key: string, token: number): boolean {
    if (!this.isHeld(key, token)) return false;
    this.dropLease(key, this.keys.get(key)!);
    return true;
  }

  /**
   * Parks a caller for up to `waitMs`; resolves with what `wake` says, or a miss when the time is
   * up. Undefined when the per-key or per-node bound is reached (the caller is told to load).
   */
  park(key: string, waitMs: number): Promise<WakeReply> | undefined {
    let k = this.keys.get(key);
    if (this.waiterCount >= this.limits.maxWaiters || (k !== undefined && k.waiters.size >= this.limits.maxWaitersPerKey))
      return undefined;
    if (!k) this.keys.set(key, (k = { lease: undefined, waiters: new Set() }));
    const waiters = k.waiters;
    this.waiterCount++;
    return new Promise<WakeReply>((resolve) => {
      const w: Waiter = {
        resolve,
        timer: setTimeout(() => this.settle(key, waiters, w, { miss: true }), Math.max(1, waitMs)),
      };
      waiters.add(w);
    });
  }

  /** Answers every caller parked on `key`. */
  wake(key: string, reply: WakeReply): void {
    const k = this.keys.get(key);
    if (!k) return;
    for (const w of [...k.waiters]) this.settle(key, k.waiters, w, reply);
  }

  /** Ends every lease and answers every parked caller (flush, shutdown). */
  clear(reply: WakeReply): void {
    for (const [key, k] of [...this.keys]) {
      if (k.lease !== undefined) this.dropLease(key, k);
      for (const w of [...k.waiters]) this.settle(key, k.waiters, w, reply);
    }
  }

  private settle(key: string, waiters: Set<Waiter>, w: Waiter, reply: WakeReply): void {
    if (!waiters.delete(w)) return;
    clearTimeout(w.timer);
    this.waiterCount--;
    this.forgetIfEmpty(key);
    w.resolve(reply);
  }

  private dropLease(key: string, k: KeyLeases): void {
    k.lease = undefined;
    this.leaseCount--;
    this.forgetIfEmpty(key);
  }

  private forgetIfEmpty(key: string): void {
    const k = this.keys.get(key);
    if (k !== undefined && k.lease === undefined && k.waiters.size === 0) this.keys.delete(key);
  }

  /** Drops lapsed leases; returns whether there is room now. Rate-limited: a full table of live leases is not rescanned per request. */
  private sweep(): boolean {
    const now = this.clock.now();
    if (now - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = now;
      for (const [key, k] of [...this.keys]) if (k.lease !== undefined && k.lease.expiresAt <= now) this.dropLease(key, k);
    }
    return this.leaseCount < this.limits.maxLeases;
  }
}
