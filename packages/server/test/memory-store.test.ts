import type { Clock } from '@corral/protocol';
import { ExpiryScheduler } from '../src/expiry-scheduler';
import { ActiveExpiry, MemoryStore, type ChangeCause } from '../src/memory-store';
import { ENTRY_OVERHEAD_BYTES, entrySize } from '../src/store-entry';
import { VERSION_TICKS_PER_MS } from '../src/version-clock';

const v = (n: number) => Buffer.alloc(n, 0x62);

/** Deterministic sampling, so the expiry tests do not depend on luck. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x / 0x80000000; };
}

function recorder() {
  const events: Array<[string | null, ChangeCause]> = [];
  return { events, onChange: (k: string | null, c: ChangeCause) => { events.push([k, c]); } };
}

describe('active expiry', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('the scheduler reclaims expired entries without any read', () => {
    const rec = recorder();
    const store = new MemoryStore({ maxMemoryBytes: 1 << 30, onChange: rec.onChange, random: seeded(42) });
    for (let i = 0; i < 1000; i++) store.set(`t${i}`, v(10), { ttlMs: 1000 });
    for (let i = 0; i < 1000; i++) store.set(`p${i}`, v(10));
    for (let i = 0; i < 500; i++) store.set(`l${i}`, v(10), { ttlMs: 600_000 });
    const scheduler = new ExpiryScheduler(store);
    scheduler.start();
    try {
      jest.advanceTimersByTime(900);
      expect(store.size).toBe(2500);
      jest.advanceTimersByTime(200);
      // Like Redis: a cycle repeats while its sample is >25% expired, so the first cycles reclaim
      // in bulk (where they stop depends on sampling noise) ...
      expect(store.stats().expirations).toBeGreaterThan(500);
      // ... and the rest goes a sample at a time in later cycles.
      jest.advanceTimersByTime(60_000);
      const st = store.stats();
      expect(st.expirations).toBe(1000);
      expect(st.keys).toBe(1500);
      expect(st.keysWithTtl).toBe(500);
      expect(st.hits + st.misses).toBe(0); // nothing was read
      const expected = [...Array(1000).keys()].reduce((a, i) => a + entrySize(`p${i}`, v(10)), 0) +
        [...Array(500).keys()].reduce((a, i) => a + entrySize(`l${i}`, v(10)), 0);
      expect(st.bytesUsed).toBe(expected);
      expect(rec.events.filter(([, c]) => c === 'expire')).toHaveLength(1000);
      expect(store.exists('l1')).toBe(true);
    } finally {
      scheduler.stop();
    }
  });

  test('a cycle that finds few expired keys stops after one sample (bounded work)', () => {
    let draws = 0;
    const rnd = seeded(7);
    const store = new MemoryStore({ maxMemoryBytes: 1 << 30, random: () => { draws++; return rnd(); } });
    for (let i = 0; i < 10_000; i++) store.set(`k${i}`, v(1), { ttlMs: i < 100 ? 10 : 60_000 });
    jest.advanceTimersByTime(20);
    store.expireCycle();
    // 1% expired: the first sample of 20 is almost surely under the 25% threshold.
    expect(draws).toBeLessThanOrEqual(ActiveExpiry.samplesPerRound * 2);
    expect(store.size).toBeGreaterThan(9_900 - 40);
  });

  test('a cycle with everything expired keeps going until the TTL set is empty (within its round cap)', () => {
    const store = new MemoryStore({ maxMemoryBytes: 1 << 30 });
    for (let i = 0; i < 5_000; i++) store.set(`k${i}`, v(1), { ttlMs: 5 });
    jest.advanceTimersByTime(5);
    expect(store.expireCycle()).toBe(5_000);
    expect(store.size).toBe(0);
    expect(store.bytesUsed).toBe(0);
  });

  test('the scheduler timer does not keep a process alive', () => {
    const scheduler = new ExpiryScheduler({ expireCycle: () => 0 });
    const spy = jest.spyOn(global, 'setInterval');
    scheduler.start();
    const timer = spy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    scheduler.stop();
    spy.mockRestore();
  });
});

describe('LRU eviction', () => {
  test('evicts in least-recently-used order, reporting each eviction', () => {
    const one = entrySize('k0', v(100));
    const rec = recorder();
    const store = new MemoryStore({ maxMemoryBytes: 5 * one, onChange: rec.onChange });
    for (let i = 0; i < 5; i++) store.set(`k${i}`, v(100));
    // Recency now (old → new): k0 k1 k2 k3 k4. Reads reorder it: k1 k3 k0 k4 k2.
    store.get('k0');
    store.get('k4');
    store.gets('k2');
    store.peek('k1'); // peek must not count as a use
    for (let i = 5; i < 8; i++) store.set(`k${i}`, v(100));
    const evicted = rec.events.filter(([, c]) => c === 'evict').map(([k]) => k);
    expect(evicted).toEqual(['k1', 'k3', 'k0']);
    expect(store.stats().evictions).toBe(3);
    expect([...store.entries()].map((e) => e.key).sort()).toEqual(['k2', 'k4', 'k5', 'k6', 'k7']);
  });

  test('one large write evicts as many old entries as it needs, never itself', () => {
    const store = new MemoryStore({ maxMemoryBytes: 10_000 });
    for (let i = 0; i < 8; i++) store.set(`s${i}`, v(200));
    store.set('big', v(10_000 - ENTRY_OVERHEAD_BYTES - 3));
    expect(store.size).toBe(1);
    expect(store.exists('big')).toBe(true);
    expect(store.bytesUsed).toBe(10_000);
    expect(store.stats().evictions).toBe(8);
  });

  test('growing an existing value in place evicts others, not the entry being written', () => {
    const small = entrySize('a', v(100));
    const store = new MemoryStore({ maxMemoryBytes: 3 * small });
    store.set('a', v(100));
    store.set('b', v(100));
    store.set('c', v(100));
    store.set('a', v(100 + small)); // a was the oldest; rewriting makes it the newest
    expect(store.exists('a')).toBe(true);
    expect(store.exists('b')).toBe(false);
    expect(store.bytesUsed).toBeLessThanOrEqual(3 * small);
  });
});

describe('versions', () => {
  test('stay strictly increasing when the wall clock steps backwards', () => {
    let wall = 1_800_000_000_000;
    const clock: Clock = { now: () => 0, wallNow: () => wall };
    const store = new MemoryStore({ maxMemoryBytes: 1 << 20, clock });
    const v1 = store.set('k', v(1))!;
    expect(v1).toBe(wall * VERSION_TICKS_PER_MS);
    wall -= 60_000;
    const v2 = store.set('k', v(1))!;
    const v3 = store.set('other', v(1))!;
    expect(v2).toBe(v1 + 1);
    expect(v3).toBe(v2 + 1);
    wall += 120_000;
    expect(store.set('k', v(1))).toBe(wall * VERSION_TICKS_PER_MS);
  });

  test('setIfNewer never overwrites a newer or equal version and adopts the version it is given', () => {
    const rec = recorder();
    const store = new MemoryStore({ maxMemoryBytes: 1 << 20, onChange: rec.onChange });
    const local = store.set('k', Buffer.from('local'))!;
    expect(store.setIfNewer('k', { value: Buffer.from('old'), flags: 0, version: local - 1 })).toBe(false);
    expect(store.setIfNewer('k', { value: Buffer.from('same'), flags: 0, version: local })).toBe(false);
    expect(store.get('k')!.value.toString()).toBe('local');
    const remote = local + 1_000_000;
    expect(store.setIfNewer('k', { value: Buffer.from('new'), flags: 3, version: remote, ttlMs: 5000 })).toBe(true);
    expect(store.gets('k')).toMatchObject({ flags: 3, version: remote });
    expect(store.ttl('k')).toBeGreaterThan(0);
    expect(store.setIfNewer('fresh', { value: Buffer.from('x'), flags: 0, version: 5 })).toBe(true);
    // A later local write must still beat what arrived from the node with the faster clock.
    expect(store.set('other', Buffer.from('y'))!).toBeGreaterThan(remote);
    expect(rec.events.filter(([, c]) => c === 'set')).toHaveLength(4);
  });
});

describe('change hook and iteration', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('reports every kind of mutation, and nothing for reads or refused writes', () => {
    const rec = recorder();
    const store = new MemoryStore({ maxMemoryBytes: 1 << 20, onChange: rec.onChange });
    store.set('a', v(1), { ttlMs: 10 });
    store.set('a', v(1), { nx: true });
    store.get('a');
    store.touch('a', 20);
    store.incrBy('n', 1);
    store.delete('n');
    store.delete('n');
    jest.advanceTimersByTime(20);
    store.get('a');
    store.set('b', v(1));
    store.flush();
    expect(rec.events).toEqual([
      ['a', 'set'], ['a', 'touch'], ['n', 'incr'], ['n', 'delete'], ['a', 'expire'], ['b', 'set'], [null, 'flush'],
    ]);
  });

  test('a throwing listener does not leave the store over its bound', () => {
    const one = entrySize('k0', v(10));
    const store = new MemoryStore({ maxMemoryBytes: 2 * one, onChange: () => { throw new Error('boom'); } });
    for (let i = 0; i < 5; i++) store.set(`k${i}`, v(10));
    expect(store.bytesUsed).toBe(2 * one);
    expect(store.stats().listenerErrors).toBeGreaterThan(0);
  });

  test('entries() yields live entries with their version and remaining TTL, skipping expired ones', () => {
    const store = new MemoryStore({ maxMemoryBytes: 1 << 20 });
    const va = store.set('a', Buffer.from('A'), { ttlMs: 100, flags: 1 })!;
    store.set('b', Buffer.from('B'), { ttlMs: 10 });
    store.set('c', Buffer.from('C'));
    jest.advanceTimersByTime(40);
    const all = [...store.entries()];
    expect(all).toEqual([
      { key: 'a', value: Buffer.from('A'), flags: 1, version: va, ttlMs: 60 },
      { key: 'c', value: Buffer.from('C'), flags: 0, version: expect.any(Number), ttlMs: -1 },
    ]);
    expect(store.size).toBe(3); // iteration does not mutate: b is reclaimed by expiry, not by reading
  });

  test('flush empties everything and resets the accounting', () => {
    const store = new MemoryStore({ maxMemoryBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) store.set(`k${i}`, v(10), { ttlMs: i % 2 ? 1000 : 0 });
    expect(store.flush()).toBe(10);
    expect(store.stats()).toMatchObject({ keys: 0, keysWithTtl: 0, bytesUsed: 0 });
    store.set('again', v(1), { ttlMs: 5 });
    jest.advanceTimersByTime(5);
    expect(store.expireCycle()).toBe(1);
  });

  test('accounting matches the sum of live entry sizes after a mixed workload', () => {
    const store = new MemoryStore({ maxMemoryBytes: 40_000 });
    const rnd = seeded(7);
    for (let i = 0; i < 3000; i++) {
      const key = `key${Math.floor(rnd() * 200)}`;
      const r = rnd();
      if (r < 0.5) store.set(key, v(Math.floor(rnd() * 2000)), { ttlMs: rnd() < 0.3 ? 1 + Math.floor(rnd() * 50) : 0 });
      else if (r < 0.6) store.delete(key);
      else if (r < 0.7) store.touch(key, Math.floor(rnd() * 30));
      else if (r < 0.8) { try { store.incrBy(key, 3); } catch { /* not an integer */ } }
      else if (r < 0.9) store.get(key);
      else jest.advanceTimersByTime(5);
      if (i % 100 === 0) store.expireCycle();
      expect(store.bytesUsed).toBeLessThanOrEqual(40_000);
    }
    // Expired entries not yet reclaimed are still charged, so live entries can only be fewer bytes.
    const live = [...store.entries()].reduce((a, e) => a + entrySize(e.key, e.value), 0);
    expect(live).toBeLessThanOrEqual(store.bytesUsed);
    jest.advanceTimersByTime(1_000_000);
    store.expireCycle(); // everything with a TTL is expired now, so one cycle reclaims it all
    expect(store.stats().keysWithTtl).toBe(0);
    const after = [...store.entries()].reduce((a, e) => a + entrySize(e.key, e.value), 0);
    expect(store.bytesUsed).toBe(after);
  });
});
