import fc from 'fast-check';
import { arcContains, HashRing, hashKey, loadRingHasher, MAX_HASH, movedArcs } from '../src';
import { hash, manyKeys, memberId, memberIds, vnodes } from './arbitraries';

let keyHashes: number[] = [];

beforeAll(async () => {
  await loadRingHasher();
  keyHashes = manyKeys.map(hashKey);
});

type Step = { add: string } | { remove: number };

/** Start from some members, then apply adds of fresh ids and removes of current members. */
const scenario = fc.record({
  initial: memberIds(1, 8),
  steps: fc.array(fc.oneof(memberId.map((add): Step => ({ add })), fc.nat().map((remove): Step => ({ remove }))), { minLength: 1, maxLength: 6 }),
  vnodes,
});

function applyStep(ring: HashRing, step: Step): { next: HashRing; added?: string; removed?: string } | undefined {
  if ('add' in step) return ring.has(step.add) ? undefined : { next: ring.withMember({ id: step.add }), added: step.add };
  if (ring.size < 2) return undefined; // an empty ring has no owners to compare
  const removed = ring.members()[step.remove % ring.size]!.id;
  return { next: ring.withoutMember(removed), removed };
}

describe('membership changes move only what they must', () => {
  it('an add moves keys only to the new member; a remove moves only the removed member’s keys', () => {
    fc.assert(
      fc.property(scenario, ({ initial, steps, vnodes: v }) => {
        let ring = new HashRing(initial.map((id) => ({ id })), { vnodes: v });
        for (const step of steps) {
          const change = applyStep(ring, step);
          if (change === undefined) continue;
          const { next, added, removed } = change;
          expect(next.epoch).toBe(ring.epoch + 1);
          let moved = 0;
          const strays: Array<{ h: number; was: string; now: string }> = []; // collected: one expect per key is slow
          for (const h of keyHashes) {
            const was = ring.ownerOfHash(h);
            const now = next.ownerOfHash(h);
            if (was === now) continue;
            moved++;
            if ((added !== undefined && now !== added) || (removed !== undefined && was !== removed)) strays.push({ h, was, now });
          }
          expect(strays).toEqual([]);
          // Not vacuous: a removed member's keys all move; an added member takes at least its own keys.
          if (removed !== undefined) expect(moved).toBe(keyHashes.filter((h) => ring.ownerOfHash(h) === removed).length);
          if (added !== undefined) expect(moved).toBe(keyHashes.filter((h) => next.ownerOfHash(h) === added).length);
          ring = next;
        }
      }),
    );
  });

  it('movedArcs agrees with comparing owners hash by hash, including at every arc boundary', () => {
    fc.assert(
      fc.property(scenario, fc.array(hash, { maxLength: 200 }), ({ initial, steps, vnodes: v }, randomHashes) => {
        let ring = new HashRing(initial.map((id) => ({ id })), { vnodes: v });
        for (const step of steps) {
          const next = applyStep(ring, step)?.next;
          if (next === undefined) continue;
          const moved = movedArcs(ring, next);
          expectSortedTiling(moved);
          const boundaries = [...ring.arcs(), ...next.arcs()].flatMap((a) => [a.start, a.end, a.end + 1]).filter((h) => h <= MAX_HASH);
          const disagreements = [...randomHashes, ...boundaries, ...keyHashes.slice(0, 300)].flatMap((h) => {
            const was = ring.ownerOfHash(h);
            const now = next.ownerOfHash(h);
            const containing = moved.filter((arc) => arcContains(arc, h));
            const agrees = was === now ? containing.length === 0 : containing.length === 1 && containing[0]!.from === was && containing[0]!.owner === now;
            return agrees ? [] : [{ h, was, now, containing }];
          });
          expect(disagreements).toEqual([]);
          ring = next;
        }
      }),
    );
  });

  it('nothing moves between a ring and itself, and an empty side yields no arcs', () => {
    fc.assert(
      fc.property(memberIds(1, 6), vnodes, (ids, v) => {
        const ring = new HashRing(ids.map((id) => ({ id })), { vnodes: v });
        expect(movedArcs(ring, new HashRing([...ids].reverse().map((id) => ({ id })), { vnodes: v }))).toEqual([]);
        expect(movedArcs(new HashRing([]), ring)).toEqual([]);
        expect(movedArcs(ring, new HashRing([]))).toEqual([]);
      }),
    );
  });

  it('moving the whole space to a lone newcomer is one arc per old owner run', () => {
    const ring = new HashRing([{ id: 'a' }], { vnodes: 4 });
    const replaced = ring.withMember({ id: 'b' }).withoutMember('a');
    expect(movedArcs(ring, replaced)).toEqual([{ start: 0, end: MAX_HASH, owner: 'b', from: 'a' }]);
  });
});

/** Sorted, non-overlapping, non-wrapping, and never two touching arcs with the same (from, owner). */
function expectSortedTiling(arcs: ReturnType<typeof movedArcs>): void {
  arcs.forEach((arc, i) => {
    expect(arc.start).toBeLessThanOrEqual(arc.end);
    expect(arc.from).not.toBe(arc.owner);
    const prev = arcs[i - 1];
    if (prev === undefined) return;
    expect(arc.start).toBeGreaterThan(prev.end);
    if (arc.start === prev.end + 1) expect([arc.from, arc.owner]).not.toEqual([prev.from, prev.owner]);
  });
}
