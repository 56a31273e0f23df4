import { CorralError, systemClock, type Clock } from '@corral/protocol';
import type { Registry } from 'prom-client';
import type { ChangeCause, GraceLookup, MemoryStore } from '../memory-store';
import { LeaseMetrics } from './lease-metrics';
import { DefaultLeaseLimits, LeaseTable, type LeaseTableLimits } from './lease-table';

export interface LeaseServiceOptions {
  store: MemoryStore;
  clock?: Clock;
  limits?: Partial<LeaseTableLimits>;
  /** The node's Prometheus registry. */
  registry?: Registry;
}

export interface LgetOptions { leaseTtlMs?: number; waitMs?: number; graceMs?: number; early?: boolean; seenVersion?: number }
export interface LsetOptions { ttlMs?: number; flags?: number; graceMs?: number; deltaMs?: number }

/**
 * LGET / LSET / LDROP over the store and a LeaseTable. The store tells us about every write and
 * delete (store.watch), whoever made it — a SET, the RESP door, a handoff — so any write voids the
 * key's lease and wakes its parked callers with the new value, and any delete voids it and wakes
 * them to try again. That is what keeps a slow loader from storing a value older than the write
 * or delete that happened while it was loading.
 */
export class LeaseService {
  readonly table: LeaseTable;
  readonly metrics: LeaseMetrics;
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly unwatch: () => void;

  constructor(opts: LeaseServiceOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    // Tokens from the node's hybrid logical clock: unique on this node, and a restarted node does
    // not hand out a token an old holder might still present.
    this.table = new LeaseTable(this.clock, () => this.store.versionClock.next(), { ...DefaultLeaseLimits, ...opts.limits });
    this.metrics = new LeaseMetrics(opts.registry, { leases: () => this.table.leases, waiters: () => this.table.waiters });
    this.unwatch = this.store.watch((key, cause) => this.onChange(key, cause));
  }

  lget(key: string, o: LgetOptions): unknown {
    const leaseTtlMs = o.leaseTtlMs ?? 0;
    const found = this.store.lookupWithGrace(key);
    if (found !== undefined && !found.stale) {
      const hit = hitOf(found);
      // A caller that decided to refresh on an older hit is too late once the value was replaced.
      if (o.early && leaseTtlMs > 0 && (o.seenVersion === undefined || o.seenVersion === found.entry.version)) {
        const lease = this.table.grant(key, leaseTtlMs, 'refresh');
        if (lease) {
          this.metrics.inc('granted_refresh');
          return { hit, lease: lease.token };
        }
      }
      return { hit };
    }
    // Stale only within both bounds: the entry's grace (lookupWithGrace) and the caller's.
    const stale = found !== undefined && found.staleForMs < (o.graceMs ?? 0) ? staleOf(found) : undefined;
    if (stale) this.metrics.inc('stale_served');
    if (leaseTtlMs === 0) return stale ? { stale } : { miss: true };

    const holder = this.table.holder(key);
    if (holder === undefined) {
      const lease = this.table.grant(key, leaseTtlMs, stale ? 'refresh' : 'fill');
      if (lease) {
        this.metrics.inc(stale ? 'granted_refresh' : 'granted_fill');
        return stale ? { stale, lease: lease.token } : { lease: lease.token };
      }
      if (stale) return { stale };
      this.metrics.inc('refused_full');
      throw new CorralError('E_RATE_LIMITED', 'the node holds as many leases as it may; load without one', { reason: 'lease_table_full' });
    }
    if (stale) return { stale };
    const waitMs = o.waitMs ?? 0;
    if (waitMs === 0) return { miss: true };
    // Waiting ends with the lease too: if its holder died, one of the woken callers takes over.
    const parked = this.table.park(key, Math.min(waitMs, Math.ceil(holder.expiresAt - this.clock.now())));
    if (parked === undefined) {
      this.metrics.inc('refused_full');
      throw new CorralError('E_RATE_LIMITED', 'too many callers are waiting on this node; load without a lease', { reason: 'waiters_full' });
    }
    this.metrics.inc('parked');
    // `waited` tells the client its call was parked (its lease-wait counter), whatever the outcome.
    return parked.then((r) => ({ ...r, waited: true }));
  }

  /** Without a token the write is unconditional, like SET (and voids outstanding leases as SET does). */
  lset(key: string, value: Buffer, token: number | undefined, o: LsetOptions): number {
    if (o.flags !== undefined && o.flags > 255) throw new CorralError('E_BAD_ARGS', 'LSET: flags must be 0..255');
    if (token !== undefined && !this.table.isHeld(key, token)) {
      this.metrics.inc('invalid_token');
      throw new CorralError('E_LEASE_INVALID', `the lease on ${JSON.stringify(key.slice(0, 64))} is not held by this token: it expired, or a write or delete voided it`);
    }
    // The holder's own write consumes its lease rather than voiding it (only the count differs).
    if (token !== undefined) this.table.release(key, token);
    try {
      return this.store.set(key, value, { ttlMs: o.ttlMs, flags: o.flags, graceMs: o.graceMs, deltaMs: o.deltaMs }) as number;
    } catch (e) {
      this.table.wake(key, { miss: true }); // the lease is gone: let a parked caller try
      throw e;
    }
  }

  ldrop(key: string, token: number): boolean {
    if (!this.table.release(key, token)) return false;
    this.metrics.inc('dropped');
    this.table.wake(key, { miss: true });
    return true;
  }

  /** Stops listening and answers everyone parked (node shutdown). */
  close(): void {
    this.unwatch();
    this.table.clear({ miss: true });
  }

  stats(): Record<string, number> {
    const c = this.metrics.counts;
    return {
      leases: this.table.leases, leaseWaiters: this.table.waiters,
      leasesGrantedFill: c.granted_fill, leasesGrantedRefresh: c.granted_refresh, leaseParked: c.parked,
      leaseStaleServed: c.stale_served, leaseInvalidTokens: c.invalid_token, leasesVoided: c.voided, leasesDropped: c.dropped,
      leaseRefusedFull: c.refused_full,
    };
  }

  private onChange(key: string | null, cause: ChangeCause): void {
    if (key === null) {
      if (cause === 'flush') this.table.clear({ miss: true });
      return;
    }
    switch (cause) {
      case 'set':
      case 'incr': {
        this.void(key);
        const found = this.store.lookupWithGrace(key, false);
        this.table.wake(key, found !== undefined && !found.stale ? { hit: hitOf(found) } : { miss: true });
        break;
      }
      case 'delete':
        this.void(key);
        this.table.wake(key, { miss: true });
        break;
      default: // expire, evict, touch: the value did not change under a loader
    }
  }

  private void(key: string): void {
    if (this.table.holder(key) === undefined) return;
    this.table.voidKey(key);
    this.metrics.inc('voided');
  }
}

function hitOf(f: GraceLookup): unknown[] {
  return [f.entry.value, f.entry.flags, f.entry.version, f.ttlMs, f.entry.deltaMs];
}

function staleOf(f: GraceLookup): unknown[] {
  return [f.entry.value, f.entry.flags, f.entry.version, f.entry.deltaMs];
}
