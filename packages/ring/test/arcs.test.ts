import fc from 'fast-check';
import { arcContains, arcLength, HASH_SPACE, HashRing, loadRingHasher, MAX_HASH } from '../src';
import { hash, members, vnodes } from './arbitraries';

beforeAll(() => loadRingHasher());

describe('arcs', () => {
  it('tile [0, 2^32 - 1] in order, each a maximal run owned by the member ownerOfHash names', () => {
    fc.assert(
      fc.property(members(1, 10), vnodes, fc.array(hash, { maxLength: 50 }), (ms, v, probes) => {
        const ring = new HashRing(ms, { vnodes: v });
        const arcs = ring.arcs();
        expect(arcs[0]!.start).toBe(0);
        expect(arcs[arcs.length - 1]!.end).toBe(MAX_HASH);
        const owned = new Map<string, number>();
        const problems = arcs.flatMap((arc, i) => {
          owned.set(arc.owner, (owned.get(arc.owner) ?? 0) + arcLength(arc));
          const prev = arcs[i - 1];
          const found: string[] = []; // collected: one expect per arc is slow
          if (arc.start > arc.end) found.push('wraps');
          if (prev !== undefined && arc.start !== prev.end + 1) found.push('gap or overlap');
          if (prev !== undefined && arc.owner === prev.owner) found.push('not maximal');
          if (ring.ownerOfHash(arc.start) !== arc.owner || ring.ownerOfHash(arc.end) !== arc.owner) found.push('wrong owner');
          return found.map((problem) => ({ problem, arc, prev }));
        });
        expect(problems).toEqual([]);
        for (const h of probes) expect(arcs.find((arc) => arcContains(arc, h))?.owner).toBe(ring.ownerOfHash(h));
        // shares() is computed separately from the vnode points; both views must agree.
        for (const [id, share] of ring.shares()) expect(share).toBeCloseTo((owned.get(id) ?? 0) / HASH_SPACE, 12);
        expect([...ring.shares().values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }),
    );
  });

  it('a lone member owns everything as a single arc', () => {
    expect(new HashRing([{ id: 'only' }], { vnodes: 7 }).arcs()).toEqual([{ start: 0, end: MAX_HASH, owner: 'only' }]);
    expect(new HashRing([]).arcs()).toEqual([]);
  });

  it('arcContains and arcLength treat start > end as wrapping past 2^32 - 1', () => {
    // Oracle: distance clockwise from start, modulo 2^32.
    const clockwise = (from: number, to: number) => (to - from + HASH_SPACE) % HASH_SPACE;
    fc.assert(
      fc.property(hash, hash, hash, (start, end, h) => {
        const arc = { start, end, owner: 'x' };
        expect(arcContains(arc, h)).toBe(clockwise(start, h) <= clockwise(start, end));
        expect(arcLength(arc)).toBe(clockwise(start, end) + 1);
      }),
    );
    expect(arcContains({ start: MAX_HASH, end: 0, owner: 'x' }, 0)).toBe(true);
    expect(arcContains({ start: MAX_HASH, end: 0, owner: 'x' }, 1)).toBe(false);
  });
});

describe('ring accessors', () => {
  it('report members sorted by id with weights filled in, and membership', () => {
    const ring = new HashRing([{ id: 'b', weight: 2 }, { id: 'a' }, { id: 'B' }], { epoch: 7 });
    expect(ring.members()).toEqual([{ id: 'B', weight: 1 }, { id: 'a', weight: 1 }, { id: 'b', weight: 2 }]);
    expect([ring.size, ring.epoch, ring.has('a'), ring.has('c')]).toEqual([3, 7, true, false]);
    expect(ring.pointCount).toBe(4 * ring.vnodes);
    expect(ring.withMember({ id: 'c' }).epoch).toBe(8);
  });
});
