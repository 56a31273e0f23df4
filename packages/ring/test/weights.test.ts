import fc from 'fast-check';
import { HashRing, hashKey, loadRingHasher, ringBalance } from '../src';
import { manyKeys, memberIds } from './arbitraries';

beforeAll(() => loadRingHasher());

describe('weights', () => {
  it('a weight-2 member owns about twice the share of a weight-1 member', () => {
    // 256 vnodes: a share's relative spread is about 1/sqrt(256) = 6%, so [1.6, 2.4] is several sigma wide.
    fc.assert(
      fc.property(memberIds(3, 7), ([heavy, ...light]) => {
        const ring = new HashRing([{ id: heavy!, weight: 2 }, ...light.map((id) => ({ id }))], { vnodes: 256 });
        const shares = ring.shares();
        const lightMean = light.reduce((sum, id) => sum + shares.get(id)!, 0) / light.length;
        const ratio = shares.get(heavy!)! / lightMean;
        expect(ratio).toBeGreaterThan(1.6);
        expect(ratio).toBeLessThan(2.4);
        expect(ringBalance(ring).maxOverMean).toBeLessThan(1.5);
      }),
      { numRuns: 30 },
    );
  });

  it('raising a weight only moves keys to that member, lowering it only away from it', () => {
    fc.assert(
      fc.property(memberIds(2, 6), fc.integer({ min: 1, max: 32 }), fc.constantFrom(0.5, 2, 3), (ids, v, weight) => {
        const target = ids[0]!;
        const before = new HashRing(ids.map((id) => ({ id })), { vnodes: v });
        const after = before.withMember({ id: target, weight });
        expect(after.members().find((m) => m.id === target)?.weight).toBe(weight);
        const strays = manyKeys.map(hashKey).filter((h) => {
          const was = before.ownerOfHash(h);
          const now = after.ownerOfHash(h);
          return was !== now && (weight > 1 ? now !== target : was !== target);
        });
        expect(strays).toEqual([]);
      }),
    );
  });

  it('rejects weights and options that cannot make a ring', () => {
    expect(() => new HashRing([{ id: 'a', weight: 0 }])).toThrow(expect.objectContaining({ code: 'ERR_RING_INVALID_MEMBER' }));
    expect(() => new HashRing([{ id: 'a', weight: Number.NaN }])).toThrow(expect.objectContaining({ code: 'ERR_RING_INVALID_MEMBER' }));
    expect(() => new HashRing([{ id: 'a' }, { id: 'a' }])).toThrow(/duplicate/);
    expect(() => new HashRing([{ id: '' }])).toThrow(expect.objectContaining({ code: 'ERR_RING_INVALID_MEMBER' }));
    expect(() => new HashRing([{ id: 'a' }], { vnodes: 0 })).toThrow(expect.objectContaining({ code: 'ERR_RING_INVALID_OPTION' }));
    expect(() => new HashRing([{ id: 'a' }], { epoch: -1 })).toThrow(expect.objectContaining({ code: 'ERR_RING_INVALID_OPTION' }));
    expect(() => new HashRing([{ id: 'a' }]).withoutMember('b')).toThrow(expect.objectContaining({ code: 'ERR_RING_UNKNOWN_MEMBER' }));
  });
});
