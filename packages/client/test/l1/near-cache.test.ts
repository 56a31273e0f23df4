import { ENTRY_OVERHEAD_BYTES } from '../../src/l1/l1-entry';
import { NearCache, type NearCacheBounds } from '../../src/l1/near-cache';
import { NodeStream } from '../../src/l1/node-stream';

function synced(id = 'n1'): NodeStream {
  const s = new NodeStream(id, 1_000_000);
  s.status = 'synced';
  s.lastHeardAt = 0;
  return s;
}

const bounds = (b: Partial<NearCacheBounds> = {}): NearCacheBounds => ({
  maxEntries: 3, maxBytes: 1 << 20, maxEntriesPerNamespace: 3, maxBytesPerNamespace: 1 << 20, maxNamespaces: 4, namespaceOf: undefined, ...b,
});

describe('NearCache', () => {
  it('is an LRU bounded by entries: a hit protects an entry, the least recently used goes', () => {
    const c = new NearCache(bounds());
    const s = synced();
    for (const k of ['a', 'b', 'c']) c.store(k, k, 1, 1, 1e9, s, 0);
    expect(c.lookup('a', 1)?.value).toBe('a');
    c.store('d', 'd', 1, 1, 1e9, s, 0);
    expect(c.lookup('b', 1)).toBeUndefined();
    expect([...c.all()].map((e) => e.key).sort()).toEqual(['a', 'c', 'd']);
    expect(c.dropped.evict).toBe(1);
    expect(s.entries.size).toBe(3);
  });

  it('gives every entry read since it was linked one second chance, in link order (CLOCK)', () => {
    const c = new NearCache(bounds({ maxEntries: 4, maxEntriesPerNamespace: 4 }));
    const s = synced();
    for (const k of ['a', 'b', 'c', 'd']) c.store(k, k, 1, 1, 1e9, s, 0);
    // a and c read; b and d never: b (older) goes, then d; a and c were moved to the head once.
    c.lookup('c', 1);
    c.lookup('a', 1);
    c.store('e', 'e', 1, 1, 1e9, s, 0);
    expect([...c.all()].map((e) => e.key).sort()).toEqual(['a', 'c', 'd', 'e']);
    c.store('f', 'f', 1, 1, 1e9, s, 0);
    expect([...c.all()].map((e) => e.key).sort()).toEqual(['a', 'c', 'e', 'f']);
    // Their chance is spent: a went back to the head when e came in, c when f did, so e goes, then a.
    c.store('g', 'g', 1, 1, 1e9, s, 0);
    expect([...c.all()].map((e) => e.key).sort()).toEqual(['a', 'c', 'f', 'g']);
    c.store('h', 'h', 1, 1, 1e9, s, 0);
    expect([...c.all()].map((e) => e.key).sort()).toEqual(['c', 'f', 'g', 'h']);
    expect(c.dropped.evict).toBe(4);
  });

  it('is bounded by bytes (key, value and overhead)', () => {
    const per = ENTRY_OVERHEAD_BYTES + 2 + 100;
    const c = new NearCache(bounds({ maxEntries: 100, maxEntriesPerNamespace: 100, maxBytes: per * 2 + 10 }));
    const s = synced();
    for (const k of ['a', 'b', 'c']) c.store(k, k, 100, 1, 1e9, s, 0);
    expect(c.size).toBe(2);
    expect(c.byteSize).toBe(per * 2);
    expect(c.store('huge', 'x', 1 << 21, 1, 1e9, s, 0)).toBe(false);
  });

  it('serves nothing expired, nothing its node does not vouch for right now', () => {
    const c = new NearCache(bounds());
    const s = synced();
    c.store('a', 'a', 1, 1, 100, s, 0);
    c.store('b', 'b', 1, 1, 1e9, s, 0);
    expect(c.lookup('a', 100)).toBeUndefined();
    expect(c.dropped.expire).toBe(1);
    s.status = 'repairing';
    expect(c.lookup('b', 1)).toBeUndefined();
    s.status = 'synced';
    expect(c.lookup('b', 1)?.value).toBe('b');
  });

  it('keeps a copy an invalidation names at its own version or older, drops it otherwise', () => {
    const c = new NearCache(bounds());
    const s = synced();
    c.store('a', 'a', 1, 10, 1e9, s, 0);
    expect(c.invalidate('a', 10)).toBe(false);
    expect(c.invalidate('a', 9)).toBe(false);
    expect(c.invalidate('a', 11)).toBe(true);
    c.store('a', 'a', 1, 10, 1e9, s, 0);
    expect(c.invalidate('a', 0)).toBe(true);
  });

  it('drops exactly what one node vouched for', () => {
    const c = new NearCache(bounds({ maxEntries: 10, maxEntriesPerNamespace: 10 }));
    const s1 = synced('n1');
    const s2 = synced('n2');
    c.store('a', 1, 1, 1, 1e9, s1, 0);
    c.store('b', 1, 1, 1, 1e9, s2, 0);
    c.store('c', 1, 1, 1, 1e9, s1, 0);
    expect(c.dropStream(s1, 'flush')).toBe(2);
    expect([...c.all()].map((e) => e.key)).toEqual(['b']);
  });

  it('per namespace: one tenant filling its share evicts only its own entries', () => {
    const c = new NearCache(bounds({ maxEntries: 10, maxEntriesPerNamespace: 2, namespaceOf: (k) => k.split(':')[0]! }));
    const s = synced();
    c.store('t1:a', 1, 1, 1, 1e9, s, 0);
    c.store('t2:a', 1, 1, 1, 1e9, s, 0);
    for (let i = 0; i < 5; i++) c.store(`t2:x${i}`, 1, 1, 1, 1e9, s, 0);
    expect(c.lookup('t1:a', 1)).toBeDefined();
    expect(c.byNamespace()).toEqual({ t1: { entries: 1, bytes: expect.any(Number) }, t2: { entries: 2, bytes: expect.any(Number) } });
  });

  it('over the total bound, evicts the least recently used entry of any namespace', () => {
    const c = new NearCache(bounds({ maxEntries: 3, maxEntriesPerNamespace: 3, namespaceOf: (k) => k.split(':')[0]! }));
    const s = synced();
    c.store('t1:old', 1, 1, 1, 1e9, s, 0);
    c.store('t2:a', 1, 1, 1, 1e9, s, 0);
    c.store('t1:b', 1, 1, 1, 1e9, s, 0);
    c.lookup('t1:old', 1);
    c.store('t2:c', 1, 1, 1, 1e9, s, 0);
    expect(c.lookup('t2:a', 1)).toBeUndefined();
    expect(c.size).toBe(3);
  });

  it('refuses keys of a namespace past maxNamespaces', () => {
    const c = new NearCache(bounds({ maxEntries: 10, maxNamespaces: 1, namespaceOf: (k) => k.split(':')[0]! }));
    const s = synced();
    expect(c.store('t1:a', 1, 1, 1, 1e9, s, 0)).toBe(true);
    expect(c.store('t2:a', 1, 1, 1, 1e9, s, 0)).toBe(false);
  });
});
