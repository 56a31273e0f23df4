import fc from 'fast-check';
import { HashRing, hashKey, hashKeyBytes, isRingHasherLoaded, loadRingHasher, RingError } from '../src';

describe('hasher', () => {
  it('refuses to hash or build a ring before loadRingHasher() resolves, with a stable code', () => {
    jest.isolateModules(() => {
      // A fresh module registry: this copy of the package has never loaded its WebAssembly.
      const fresh = require('../src') as typeof import('../src');
      expect(fresh.isRingHasherLoaded()).toBe(false);
      expect(() => fresh.hashKey('k')).toThrow(expect.objectContaining({ code: 'ERR_RING_HASHER_NOT_LOADED', name: 'RingError' }));
      expect(() => new fresh.HashRing([{ id: 'a' }])).toThrow(/await loadRingHasher\(\)/);
    });
  });

  it('loads once and stays loaded', async () => {
    const first = loadRingHasher();
    expect(loadRingHasher()).toBe(first);
    await first;
    await loadRingHasher();
    expect(isRingHasherLoaded()).toBe(true);
  });

  it('is plain XXH32 with seed 0, so clients in other languages can route identically', async () => {
    await loadRingHasher();
    // Reference vectors from the xxHash project (XXH32, seed 0).
    expect(hashKey('')).toBe(0x02cc5d05);
    expect(hashKey('abc')).toBe(0x32d153ff);
  });

  it('returns a uint32 that matches hashing the UTF-8 bytes', async () => {
    await loadRingHasher();
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (key) => {
        const h = hashKey(key);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
        expect(hashKeyBytes(encoder.encode(key))).toBe(h);
      }),
    );
  });

  it('exports RingError for instanceof checks', async () => {
    await loadRingHasher();
    expect(() => new HashRing([]).ownerOf('k')).toThrow(RingError);
  });
});
