import type { HashRing } from './ring';

export interface RingBalance {
  /** Largest member's load over its fair load; 1 is perfect. */
  maxOverMean: number;
  /** Standard deviation of load / fair load across members. */
  stdDevOverMean: number;
}

/**
 * How evenly the ring spreads the hash space, relative to each member's weight (a weight-2
 * member is expected to own twice as much). Exact: computed from arc lengths, not sampled keys.
 */
export function ringBalance(ring: HashRing): RingBalance {
  const members = ring.members();
  const totalWeight = members.reduce((sum, m) => sum + (m.weight ?? 1), 0);
  const shares = ring.shares();
  const loads = members.map((m) => (shares.get(m.id) ?? 0) / ((m.weight ?? 1) / totalWeight));
  return loadBalance(loads);
}

/** Balance of raw loads (e.g. keys counted per member) for equally weighted members. */
export function loadBalance(loads: readonly number[]): RingBalance {
  if (loads.length === 0) return { maxOverMean: 1, stdDevOverMean: 0 };
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  const variance = loads.reduce((sum, x) => sum + (x - mean) ** 2, 0) / loads.length;
  return { maxOverMean: Math.max(...loads) / mean, stdDevOverMean: Math.sqrt(variance) / mean };
}
