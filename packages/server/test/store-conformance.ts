import { encodeValue, ValueFlags } from '@corral/protocol';
import { ENTRY_OVERHEAD_BYTES } from '../src/store-entry';
import { VERSION_TICKS_PER_MS } from '../src/version-clock';

export interface AdapterSetOptions { ttlMs?: number; flags?: number; nx?: boolean; xx?: boolean; ifVersion?: number }
export interface AdapterStats { keys: number; bytesUsed: number; maxMemoryBytes: number; evictions: number; expirations: number }

/**
 * The store semantics every backend must show, whatever sits between the test and the store:
 * called directly, over one node's TCP listener, later through a cluster. Failures reject with an
 * object carrying the stable error `code`.
 */
export interface StoreAdapter {
  get(key: string): Promise<[Buffer, number] | null>;
  gets(key: string): Promise<[Buffer, number, number, number] | null>;
  set(key: string, value: Buffer, opts?: AdapterSetOptions): Promise<number | null>;
  del(key: string): Promise<boolean>;
  touch(key: string, ttlMs: number): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  ttl(key: string): Promise<number>;
  incrBy(key: string, delta: number, opts?: { ttlMs?: number }): Promise<number>;
  stats(): Promise<AdapterStats>;
  /** Moves the backend's time forward (fake timers, a manual clock). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export type MakeAdapter = (opts: { maxMemoryBytes: number }) => Promise<StoreAdapter>;

const b = (s: string) => Buffer.from(s);
const text = (r: [Buffer, number] | null) => (r === null ? null : r[0].toString());

export function describeStoreConformance(name: string, makeAdapter: MakeAdapter): void {
  describe(`store conformance: ${name}`, () => {
    let s: StoreAdapter;
    let adapters: StoreAdapter[] = [];
    const make = async (maxMemoryBytes = 64 * 1024 * 1024) => {
      const a = await makeAdapter({ maxMemoryBytes });
      adapters.push(a);
      return a;
    };
    beforeEach(async () => { s = await make(); });
    afterEach(async () => {
      for (const a of adapters) await a.close();
      adapters = [];
    });

    describe('get / set / del', () => {
      test('a missing key reads as null; a written one reads back with its flags', async () => {
        expect(await s.get('nope')).toBeNull();
        await s.set('k', b('hello'), { flags: 7 });
        const r = await s.get('k');
        expect(text(r)).toBe('hello');
        expect(r![1]).toBe(7);
        await s.set('k', b(''));
        expect(await s.get('k')).toEqual([Buffer.alloc(0), 0]);
      });

      test('del reports whether the key existed', async () => {
        await s.set('k', b('v'));
        expect(await s.del('k')).toBe(true);
        expect(await s.del('k')).toBe(false);
        expect(await s.get('k')).toBeNull();
        expect(await s.exists('k')).toBe(false);
      });
    });

    describe('versions', () => {
      test('every write returns a version above every earlier one, across keys and deletes', async () => {
        let last = 0;
        for (let i = 0; i < 50; i++) {
          const key = `v${i % 4}`;
          if (i % 7 === 3) await s.del(key);
          const v = i % 5 === 0 ? await s.incrBy(`n${i % 3}`, 1).then(async () => (await s.gets(`n${i % 3}`))![2])
            : await s.set(key, b(`x${i}`));
          expect(v).not.toBeNull();
          expect(v!).toBeGreaterThan(last);
          last = v!;
        }
      });

      test('versions are wall-clock based (comparable across nodes) and GETS returns the one SET issued', async () => {
        const v = await s.set('k', b('v'));
        expect(v!).toBeGreaterThanOrEqual((Date.now() - 60_000) * VERSION_TICKS_PER_MS);
        expect(v!).toBeLessThanOrEqual((Date.now() + 60_000) * VERSION_TICKS_PER_MS);
        expect(Number.isSafeInteger(v)).toBe(true);
        expect((await s.gets('k'))![2]).toBe(v);
      });
    });

    describe('conditional writes', () => {
      test('CAS succeeds on the current version and fails on any other, leaving the value', async () => {
        const v1 = (await s.set('k', b('one')))!;
        const v2 = (await s.set('k', b('two'), { ifVersion: v1 }))!;
        expect(v2).toBeGreaterThan(v1);
        await expect(s.set('k', b('three'), { ifVersion: v1 })).rejects.toMatchObject({ code: 'E_CAS_MISMATCH' });
        expect(text(await s.get('k'))).toBe('two');
        await expect(s.set('absent', b('x'), { ifVersion: v2 })).rejects.toMatchObject({ code: 'E_CAS_MISMATCH' });
        expect(await s.exists('absent')).toBe(false);
      });

      test('nx writes only a missing key, xx only an existing one; a refused write returns null', async () => {
        expect(await s.set('k', b('a'), { xx: true })).toBeNull();
        expect(await s.exists('k')).toBe(false);
        expect(await s.set('k', b('a'), { nx: true })).toEqual(expect.any(Number));
        expect(await s.set('k', b('b'), { nx: true })).toBeNull();
        expect(text(await s.get('k'))).toBe('a');
        expect(await s.set('k', b('c'), { xx: true })).toEqual(expect.any(Number));
        expect(text(await s.get('k'))).toBe('c');
      });
    });

    describe('TTL', () => {
      test('an entry lives exactly its TTL', async () => {
        await s.set('k', b('v'), { ttlMs: 1000 });
        const t = await s.ttl('k');
        expect(t).toBeGreaterThan(990);
        expect(t).toBeLessThanOrEqual(1000);
        await s.advance(999);
        expect(text(await s.get('k'))).toBe('v');
        expect(await s.ttl('k')).toBe(1);
        await s.advance(1);
        expect(await s.get('k')).toBeNull();
        expect(await s.exists('k')).toBe(false);
        expect(await s.ttl('k')).toBe(-2);
      });

      test('ttl is -1 without expiry, -2 when missing; a plain set clears an earlier TTL', async () => {
        expect(await s.ttl('missing')).toBe(-2);
        await s.set('k', b('v'), { ttlMs: 500 });
        await s.set('k', b('w'));
        expect(await s.ttl('k')).toBe(-1);
        await s.advance(10_000);
        expect(text(await s.get('k'))).toBe('w');
      });

      test('GETS reports the remaining TTL', async () => {
        await s.set('k', b('v'), { ttlMs: 2000 });
        await s.advance(500);
        expect((await s.gets('k'))![3]).toBe(1500);
        await s.set('p', b('v'));
        expect((await s.gets('p'))![3]).toBe(-1);
      });

      test('touch changes the TTL (0 removes it), keeps the version, and misses a missing key', async () => {
        expect(await s.touch('missing', 100)).toBe(false);
        const v = await s.set('k', b('v'), { ttlMs: 100 });
        expect(await s.touch('k', 5000)).toBe(true);
        await s.advance(1000);
        expect(text(await s.get('k'))).toBe('v');
        expect(await s.ttl('k')).toBe(4000);
        expect((await s.gets('k'))![2]).toBe(v);
        expect(await s.touch('k', 0)).toBe(true);
        expect(await s.ttl('k')).toBe(-1);
        await s.advance(100_000);
        expect(await s.exists('k')).toBe(true);
      });

      test('an expired entry cannot be touched back to life', async () => {
        await s.set('k', b('v'), { ttlMs: 100 });
        await s.advance(100);
        expect(await s.touch('k', 10_000)).toBe(false);
        expect(await s.get('k')).toBeNull();
      });
    });

    describe('incrBy', () => {
      test('counts from 0, stores decimal ASCII with the Integer flag, and bumps the version', async () => {
        expect(await s.incrBy('n', 5)).toBe(5);
        const v1 = (await s.gets('n'))![2];
        expect(await s.incrBy('n', -8)).toBe(-3);
        const r = await s.gets('n');
        expect(r![0].toString('latin1')).toBe('-3');
        expect(r![1]).toBe(ValueFlags.Integer);
        expect(r![2]).toBeGreaterThan(v1);
      });

      test('reads integers whoever wrote them; anything else is E_NOT_INTEGER and left alone', async () => {
        await s.set('ascii', b('41'));
        expect(await s.incrBy('ascii', 1)).toBe(42);
        const packed = encodeValue(1000);
        await s.set('packed', packed.bytes, { flags: packed.flags });
        expect(await s.incrBy('packed', 1)).toBe(1001);
        await s.set('word', b('forty'));
        await expect(s.incrBy('word', 1)).rejects.toMatchObject({ code: 'E_NOT_INTEGER' });
        await s.set('float', b('1.5'));
        await expect(s.incrBy('float', 1)).rejects.toMatchObject({ code: 'E_NOT_INTEGER' });
        expect(text(await s.get('word'))).toBe('forty');
      });

      test('leaving the safe integer range is E_OVERFLOW and changes nothing', async () => {
        await s.set('big', b(String(Number.MAX_SAFE_INTEGER)));
        await expect(s.incrBy('big', 1)).rejects.toMatchObject({ code: 'E_OVERFLOW' });
        expect(text(await s.get('big'))).toBe(String(Number.MAX_SAFE_INTEGER));
        await s.set('small', b(String(-Number.MAX_SAFE_INTEGER)));
        await expect(s.incrBy('small', -1)).rejects.toMatchObject({ code: 'E_OVERFLOW' });
      });

      test('keeps the TTL of an existing key; the ttl option applies only on create', async () => {
        await s.set('n', b('1'), { ttlMs: 1000 });
        await s.advance(400);
        expect(await s.incrBy('n', 1, { ttlMs: 60_000 })).toBe(2);
        expect(await s.ttl('n')).toBe(600);
        await s.advance(600);
        expect(await s.exists('n')).toBe(false);
        expect(await s.incrBy('fresh', 1, { ttlMs: 300 })).toBe(1);
        expect(await s.ttl('fresh')).toBe(300);
      });
    });

    describe('byte bound and LRU', () => {
      const value = Buffer.alloc(1000, 0x61);
      // Keys of one length so every entry is charged the same.
      const sizeOf = (key: string) => Buffer.byteLength(key) + value.length + ENTRY_OVERHEAD_BYTES;

      test('evicts the least recently used entry; reads refresh recency', async () => {
        const one = sizeOf('lru:a');
        const small = await make(3 * one + Math.floor(one / 2));
        for (const k of ['lru:a', 'lru:b', 'lru:c']) await small.set(k, value);
        expect((await small.get('lru:a'))).not.toBeNull(); // a is now the most recent; b the oldest
        await small.set('lru:d', value);
        // exists() does not refresh recency, so checking does not disturb the order.
        expect(await small.exists('lru:b')).toBe(false);
        for (const k of ['lru:a', 'lru:c', 'lru:d']) expect(await small.exists(k)).toBe(true);
        await small.set('lru:e', value);
        expect(await small.exists('lru:c')).toBe(false);
        const st = await small.stats();
        expect(st.evictions).toBe(2);
        expect(st.keys).toBe(3);
        expect(st.bytesUsed).toBe(3 * one);
      });

      test('exists and ttl do not refresh recency; writes and touch do', async () => {
        const one = sizeOf('lru:a');
        const small = await make(3 * one);
        for (const k of ['lru:a', 'lru:b', 'lru:c']) await small.set(k, value);
        await small.exists('lru:a');
        await small.ttl('lru:a');
        await small.touch('lru:b', 0);
        await small.set('lru:d', value);
        expect(await small.exists('lru:a')).toBe(false);
        await small.set('lru:e', value); // c is the oldest now: b was touched after it
        expect(await small.exists('lru:c')).toBe(false);
        expect(await small.exists('lru:b')).toBe(true);
      });

      test('accounted bytes never exceed the bound while writing many times the bound', async () => {
        const max = 64 * 1024;
        const small = await make(max);
        const seen = new Set<string>();
        for (let i = 0; i < 300; i++) {
          const key = `fill:${String(i).padStart(4, '0')}`;
          seen.add(key);
          await small.set(key, Buffer.alloc(500 + (i % 7) * 100, i & 0xff));
          if (i % 25 === 0) expect((await small.stats()).bytesUsed).toBeLessThanOrEqual(max);
        }
        const st = await small.stats();
        expect(st.bytesUsed).toBeLessThanOrEqual(max);
        expect(st.bytesUsed).toBeGreaterThan(max / 2);
        expect(st.maxMemoryBytes).toBe(max);
        expect(st.evictions).toBe(seen.size - st.keys);
        expect(await small.exists('fill:0299')).toBe(true);
        expect(await small.exists('fill:0000')).toBe(false);
      });

      test('an entry larger than the whole bound is E_OOM and evicts nothing', async () => {
        const small = await make(32 * 1024);
        await small.set('keep', b('me'));
        await expect(small.set('huge', Buffer.alloc(40 * 1024))).rejects.toMatchObject({ code: 'E_OOM' });
        expect(await small.exists('keep')).toBe(true);
        expect((await small.stats()).evictions).toBe(0);
      });

      test('replacing a value re-accounts its bytes', async () => {
        await s.set('k', Buffer.alloc(10_000));
        const big = (await s.stats()).bytesUsed;
        await s.set('k', Buffer.alloc(10));
        expect((await s.stats()).bytesUsed).toBe(big - 9_990);
        await s.del('k');
        expect((await s.stats()).bytesUsed).toBe(0);
      });
    });
  });
}
