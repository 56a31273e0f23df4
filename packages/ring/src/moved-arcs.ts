import type { MovedArc } from './arc';
import type { HashRing } from './ring';

/**
 * The ranges whose owner differs between two rings, sorted by start, never wrapping, adjacent
 * ranges with the same (from, owner) pair merged. A key moved iff its hash is in one of them.
 * Empty if either ring is empty: there is no previous owner to hand off from, or no new owner
 * to hand off to.
 */
export function movedArcs(from: HashRing, to: HashRing): MovedArc[] {
  const before = from.arcs();
  const after = to.arcs();
  const moved: MovedArc[] = [];
  let i = 0;
  let j = 0;
  let start = 0;
  // Both lists tile [0, 2^32 - 1] in order, so one merge-style sweep visits every boundary.
  while (i < before.length && j < after.length) {
    const a = before[i]!;
    const b = after[j]!;
    const end = Math.min(a.end, b.end);
    if (a.owner !== b.owner) {
      const last = moved[moved.length - 1];
      if (last !== undefined && last.end + 1 === start && last.from === a.owner && last.owner === b.owner) last.end = end;
      else moved.push({ start, end, owner: b.owner, from: a.owner });
    }
    start = end + 1;
    if (a.end === end) i++;
    if (b.end === end) j++;
  }
  return moved;
}
