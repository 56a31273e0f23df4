import fc from 'fast-check';
import { HashRing, loadRingHasher } from '../src';
import { keys, members, vnodes } from './arbitraries';

beforeAll(() => loadRingHasher());

describe('preferenceList', () => {
  it('has min(r, N) distinct members, owner first', () => {
    fc.assert(
      fc.property(members(1, 12), vnodes, keys, fc.integer({ min: 0, max: 15 }), (ms, v, sample, r) => {
        const ring = new HashRing(ms, { vnodes: v });
        for (const key of sample) {
          const list = ring.preferenceList(key, r);
          expect(list).toHaveLength(Math.min(r, ms.length));
          expect(new Set(list).size).toBe(list.length);
          expect(list.every((id) => ring.has(id))).toBe(true);
          if (r > 0) expect(list[0]).toBe(ring.ownerOf(key));
        }
      }),
    );
  });

  it('lists fallbacks in the order they would own the key as owners leave', () => {
    // So a fallback holding a key while its owner is down is the node that owns it after removal.
    fc.assert(
      fc.property(members(2, 8), vnodes, keys, (ms, v, sample) => {
        const ring = new HashRing(ms, { vnodes: v });
        for (const key of sample) {
          const [owner, ...rest] = ring.preferenceList(key, ms.length);
          expect(ring.withoutMember(owner!).preferenceList(key, ms.length)).toEqual(rest);
        }
      }),
    );
  });

  it('is empty for an empty ring or r <= 0, where ownerOf throws', () => {
    const empty = new HashRing([]);
    expect(empty.preferenceList('k', 3)).toEqual([]);
    expect(() => empty.ownerOf('k')).toThrow(expect.objectContaining({ code: 'ERR_RING_EMPTY' }));
    expect(new HashRing([{ id: 'a' }]).preferenceList('k', -1)).toEqual([]);
  });
});
