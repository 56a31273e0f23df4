import { Counter, Gauge, type Registry } from 'prom-client';

export type LeaseEvent = 'granted_fill' | 'granted_refresh' | 'parked' | 'stale_served' | 'invalid_token' | 'voided' | 'dropped' | 'refused_full';

/**
 * Lease figures: plain counts for STATS and, when the node has a registry, Prometheus series.
 * `parked` vs `granted_fill` is the herd the leases absorbed: every parked caller is a database
 * query that did not happen.
 */
export class LeaseMetrics {
  readonly counts: Record<LeaseEvent, number> = {
    granted_fill: 0, granted_refresh: 0, parked: 0, stale_served: 0, invalid_token: 0, voided: 0, dropped: 0, refused_full: 0,
  };
  private readonly events: Counter<'event'> | undefined;

  constructor(registry: Registry | undefined, gauges: { leases: () => number; waiters: () => number }) {
    if (!registry) return;
    const registers = [registry];
    this.events = new Counter({ name: 'corral_lease_events_total', help: 'Lease grants, parked callers, stale reads, refused and voided leases', labelNames: ['event'], registers });
    new Gauge({ name: 'corral_leases', help: 'Leases held', registers, collect() { this.set(gauges.leases()); } });
    new Gauge({ name: 'corral_lease_waiters', help: 'Callers parked on a lease', registers, collect() { this.set(gauges.waiters()); } });
  }

  inc(e: LeaseEvent): void {
    this.counts[e]++;
    this.events?.labels(e).inc();
  }
}
