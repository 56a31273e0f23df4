import { ManualClock, startTestNode, type TestNode } from '@corral/test-utils';
import { Corral, type CorralOptions } from '../../src';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function node(clock?: ManualClock): Promise<TestNode> {
  const t = await startTestNode(clock ? { clock } : {});
  cleanup.push(() => t.stop(200));
  return t;
}
async function client(t: TestNode, opts: Partial<CorralOptions> = {}): Promise<Corral> {
  const c = await Corral.connect({ seeds: [`${t.host}:${t.port}`], ...opts });
  cleanup.push(() => c.close());
  return c;
}

test('writeBehind: the cache at once, the database later; close() flushes what is queued', async () => {
  const t = await node();
  const rows = new Map<string, unknown>();
  const writes: string[] = [];
  const c = await Corral.connect({
    seeds: [`${t.host}:${t.port}`],
    writeBehind: { write: async (k, v) => { writes.push(k); rows.set(k, v); }, flushIntervalMs: 60_000 },
  });
  await c.writeBehind('user:1', { name: 'Ada' });
  await c.writeBehind('user:1', { name: 'Ada L.' }); // coalesced: one database write
  await c.writeBehind('user:2', { name: 'Grace' }, { ttlMs: 60_000 });
  expect(await c.get('user:1')).toEqual({ name: 'Ada L.' });
  expect(rows.size).toBe(0); // not yet
  expect(c.stampedeStats().writeBehind).toMatchObject({ queued: 2, coalesced: 1 });
  await c.close();
  expect(writes).toEqual(['user:1', 'user:2']);
  expect(rows.get('user:1')).toEqual({ name: 'Ada L.' });
});

test('flushWrites() sends queued writes now; writeBehind without a writer is refused', async () => {
  const t = await node();
  const rows = new Map<string, unknown>();
  const c = await client(t, { writeBehind: { write: async (k, v) => { rows.set(k, v); }, flushIntervalMs: 60_000 } });
  await c.writeBehind('k', 1);
  await c.flushWrites();
  expect(rows.get('k')).toBe(1);
  const plain = await client(t);
  await expect(plain.writeBehind('k', 1)).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
});

test('writeThrough writes the database then the cache; writeAround deletes, voiding a slow loader\'s lease', async () => {
  const t = await node();
  const c = await client(t);
  const db = new Map<string, unknown>([['k', 'old']]);
  await c.writeThrough('k', 'v1', async (v) => { db.set('k', v); }, { ttlMs: 60_000 });
  expect([db.get('k'), await c.get('k')]).toEqual(['v1', 'v1']);
  await expect(c.writeThrough('k', 'v2', async () => { throw new Error('db down'); })).rejects.toThrow('db down');
  expect(await c.get('k')).toBe('v1'); // the database refused: the cache keeps what the database has

  const reader = await client(t);
  await c.del('k');
  let readDone!: () => void;
  const read = new Promise<void>((r) => { readDone = r; });
  const slowRead = reader.getOrSet('k', async () => { const v = db.get('k'); readDone(); await new Promise((r) => setTimeout(r, 60)); return v; });
  await read; // the loader holds the lease and has read the old row
  await c.writeAround('k', async () => { db.set('k', 'v3'); });
  expect(await slowRead).toBe('v1'); // it read before the write...
  expect(await c.get('k')).toBeUndefined(); // ...and could not store it after
  expect(await reader.getOrSet('k', async () => db.get('k'))).toBe('v3');
});

test('setIfNewer keeps the newest source version whatever the arrival order', async () => {
  const t = await node();
  const c = await client(t);
  expect(await c.setIfNewer('row', { v: 7 }, 7)).toEqual(expect.any(Number));
  expect(await c.setIfNewer('row', { v: 6 }, 6)).toBeUndefined(); // the slower writer arrives last, with older data
  expect(await c.get('row')).toEqual({ v: 7 });
  expect(await c.setIfNewer('row', { v: 8 }, 8, { ttlMs: 60_000 })).toEqual(expect.any(Number));
  expect(await c.get('row')).toEqual({ v: 8 });
});

test('update is a CAS loop: concurrent increments all land; it gives up after maxRetries', async () => {
  const t = await node();
  const clients = await Promise.all([1, 2, 3, 4].map(() => client(t)));
  await clients[0]!.set('counter', 0, { ttlMs: 60_000 });
  await Promise.all(clients.flatMap((c) => Array.from({ length: 5 }, () => c.update<number>('counter', (n) => (n ?? 0) + 1, { maxRetries: 100 }))));
  expect(await clients[0]!.get('counter')).toBe(20);
  expect(await clients[0]!.ttl('counter')).toBeLessThanOrEqual(60_000); // the TTL was kept
  expect(await clients[0]!.update<number>('fresh', (n) => (n ?? 41) + 1)).toBe(42); // absent: set-if-absent

  const c = clients[1]!;
  await expect(c.update<number>('counter', async (n) => {
    await clients[2]!.set('counter', -1); // someone always writes in between
    return (n ?? 0) + 1;
  }, { maxRetries: 2 })).rejects.toMatchObject({ code: 'E_CAS_MISMATCH', details: { attempts: 3 } });
  expect(c.stampedeStats().writes).toMatchObject({ casGaveUp: 1 });
});
