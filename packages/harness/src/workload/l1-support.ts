import type { Corral, CorralOptions } from '@corral/client';

/** Whether the run asked for the client's L1 near cache, and whether this client build has one. */
export interface L1Status {
  requested: boolean;
  available: boolean;
  note: string;
}

interface L1Counters { hits: number }

/**
 * The one place the harness touches the client's L1 (`Corral.connect({ l1 })`, `l1Stats().hits`).
 * The near cache was built alongside the harness: a client without it (no `l1Stats()`, or an L1
 * that reports itself disabled) runs the scenario without an L1, and the report says so instead of
 * pretending. If the option or the counter changes shape, this adapter is what to adjust.
 */
export const L1Support = {
  options(requested: boolean): Partial<CorralOptions> {
    return requested ? ({ l1: true } as unknown as Partial<CorralOptions>) : {};
  },

  status(requested: boolean, client: Corral | undefined): L1Status {
    if (!requested) return { requested, available: false, note: 'off in this scenario' };
    const available = client !== undefined && L1Support.counters(client) !== undefined;
    return {
      requested,
      available,
      note: available ? 'on' : 'requested, but this client has no L1 near cache yet (no l1Stats()); the run measured node reads only',
    };
  },

  /** Cumulative L1 hits, when the client reports them. */
  counters(client: Corral): L1Counters | undefined {
    const f = (client as unknown as { l1Stats?: () => unknown }).l1Stats;
    if (typeof f !== 'function') return undefined;
    const s = f.call(client) as { hits?: unknown; enabled?: unknown } | undefined;
    return s && s.enabled !== false && typeof s.hits === 'number' ? { hits: s.hits } : undefined;
  },
};
