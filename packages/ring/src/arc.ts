/**
 * A range of the 32-bit hash space and the member that owns it. Both ends are INCLUSIVE uint32
 * values, so the whole space is `{ start: 0, end: 0xffffffff }` without needing 2^32.
 * `start > end` means the arc wraps past 0xffffffff to 0. `HashRing.arcs()` and `movedArcs()`
 * never return wrapping arcs (they split at 0), but `arcContains` accepts them.
 */
export interface RingArc {
  start: number;
  end: number;
  owner: string;
}

export interface MovedArc extends RingArc {
  /** The owner of this range in the `from` ring; `owner` is the owner in the `to` ring. */
  from: string;
}

export const HASH_SPACE = 2 ** 32;
export const MAX_HASH = HASH_SPACE - 1;

export function arcContains(arc: RingArc, hash: number): boolean {
  return arc.start <= arc.end
    ? hash >= arc.start && hash <= arc.end
    : hash >= arc.start || hash <= arc.end;
}

/** Number of hash values in the arc (a wrapping arc counts both pieces). */
export function arcLength(arc: RingArc): number {
  return arc.start <= arc.end ? arc.end - arc.start + 1 : HASH_SPACE - arc.start + arc.end + 1;
}
