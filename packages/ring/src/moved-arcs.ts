import type { MovedArc } from './arc';
import type { HashRing } from './ring';

/**
 * The ranges whose owner differs between two rings, sorted by start, never wrapping. A key moved
 * iff its hash is in one of them. Touching ranges always differ in `from` or `owner`: both inputs
 * are maximal runs, so every boundary of the sweep is an owner change on at least one side.
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
    if (a.owner !== b.owner) moved.push({ start, end, owner: b.owner, from: a.owner });
    start = end + 1;
    if (a.end === end) i++;
    if (b.end === end) j++;
  }
  return moved;
}
