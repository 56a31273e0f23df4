import { DEFAULT_VNODES, HashRing } from '@corral/ring';

export interface MoveFigures {
  /** Keys the nodes' handoff counters say moved during the step. */
  actual: number;
  /**
   * The ideal for this ring: the keys whose owner differs between the rings the step went
   * through, counted over the run's keys. A handoff that moves more sends keys it did not have
   * to; one that moves fewer left keys behind. This is what the invariant compares with.
   */
  ringIdeal: number;
  /**
   * What a perfectly balanced ring would move. `corral cluster add` adds one node at a time, so
   * adding m to n moves K/(n+1) + … + K/(n+m); removing one of n moves K/n; a drained restart
   * moves K/n out and back, 2K/n. Shown beside the ring's ideal: the gap between the two is the
   * ring's vnode imbalance (docs/ring.md), not the handoff's doing.
   */
  balanced: number;
  /** |actual − ringIdeal| / ringIdeal. */
  deviation: number;
  /** (ringIdeal − balanced) / balanced: how far this ring's shares are from equal, for this step. */
  ringImbalance: number;
  keysBefore: number;
}

/** Member sets of the rings a step goes through, in order: one more member per add, [all, without, all] for a restart. */
export function moveFigures(o: { actual: number; keysBefore: number; rings: string[][]; balanced: number; keyNames: readonly string[]; vnodes?: number }): MoveFigures {
  let ringIdeal = 0;
  const rings = o.rings.map((ids) => new HashRing(ids.map((id) => ({ id })), { vnodes: o.vnodes ?? DEFAULT_VNODES }));
  for (let r = 1; r < rings.length; r++) {
    const a = rings[r - 1]!;
    const b = rings[r]!;
    if (a.size === 0 || b.size === 0) continue;
    for (const k of o.keyNames) if (a.ownerOf(k) !== b.ownerOf(k)) ringIdeal++;
  }
  const balanced = Math.round(o.balanced);
  return {
    actual: o.actual, ringIdeal, balanced, keysBefore: o.keysBefore,
    deviation: ringIdeal > 0 ? round4(Math.abs(o.actual - ringIdeal) / ringIdeal) : o.actual === 0 ? 0 : 1,
    ringImbalance: balanced > 0 ? round4((ringIdeal - balanced) / balanced) : 0,
  };
}

/** The balanced-ring figure for a step, from the number of keys held and the member counts. */
export function balancedMoves(kind: 'add' | 'remove' | 'restart', keys: number, liveBefore: number, added = 1): number {
  if (kind === 'add') {
    let sum = 0;
    for (let j = 1; j <= added; j++) sum += keys / (liveBefore + j);
    return sum;
  }
  if (kind === 'remove') return keys / liveBefore;
  return (2 * keys) / liveBefore;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
