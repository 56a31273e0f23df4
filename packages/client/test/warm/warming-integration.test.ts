import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestNode, type TestNode } from '@corral/test-utils';
import { Corral } from '../../src';

/** Warming against real in-process nodes, in real (short) time. */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function client(t: TestNode): Promise<Corral> {
  const c = await Corral.connect({ seeds: [`${t.host}:${t.port}`] });
  cleanup.push(() => c.close());
  return c;
}

test('background warmers in two clients keep a hot key loaded: readers never load it again, and each expiry is refreshed once fleet-wide', async () => {
  const t = await startTestNode();
  cleanup.push(() => t.stop(200));
  const clients = [await client(t), await client(t)];
  const refreshAt: number[] = [];
  let readerLoads = 0;
  const warmers = clients.map((c) => c.startWarmer({
    loader: async () => { refreshAt.push(Date.now()); await sleep(20); return { at: Date.now() }; },
    ttlMs: 1_000, aheadMs: 400, intervalMs: 50, hotScore: 3,
  }));
  const read = (c: Corral) => c.getOrSet('hot', async () => { readerLoads++; await sleep(20); return { at: Date.now() }; }, { ttlMs: 1_000, beta: 0 });
  const until = Date.now() + 3_500;
  await Promise.all(clients.map(async (c) => { while (Date.now() < until) { await read(c); await sleep(20); } }));

  expect(readerLoads).toBe(1); // the first fill; every later expiry was refreshed ahead of it
  const refreshed = warmers.reduce((n, w) => n + w.stats().refreshed, 0);
  expect(refreshed).toBe(refreshAt.length);
  expect(refreshed).toBeGreaterThanOrEqual(3);
  // One refresh per expiry, fleet-wide: about TTL − aheadMs apart, never two at once.
  const gaps = refreshAt.slice(1).map((at, i) => at - refreshAt[i]!);
  expect(Math.min(...gaps)).toBeGreaterThan(300);
  // Both clients took part in noticing (each tracks the key); the lease chose who loaded.
  expect(warmers.every((w) => w.stats().tracked === 1)).toBe(true);
  expect(clients.reduce((n, c) => n + c.stampedeStats().hits, 0)).toBeGreaterThan(100);
});

test('close() stops the warmers of a client', async () => {
  const t = await startTestNode();
  cleanup.push(() => t.stop(200));
  const c = await Corral.connect({ seeds: [`${t.host}:${t.port}`] });
  const w = c.startWarmer({ loader: () => 1 });
  await c.close();
  expect(w.isStopped).toBe(true);
});

test('keys-mode snapshot: after a restart, snapshotKeys() lists the hot keys hottest first, and warm() reloads them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-warm-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const snapshotFile = join(dir, 'node.snap');
  const a = await startTestNode({ snapshotFile, snapshotMode: 'keys' });
  const ca = await Corral.connect({ seeds: [`${a.host}:${a.port}`] });
  for (let i = 0; i < 20; i++) await ca.set(`item:${i}`, { i });
  await ca.get('item:3'); // the hottest now
  await ca.close();
  await a.stop();

  const b = await startTestNode({ snapshotFile, snapshotMode: 'keys' });
  cleanup.push(() => b.stop(200));
  const cb = await client(b);
  expect(await cb.get('item:3')).toBeUndefined(); // keys only: nothing was restored
  const keys = await cb.snapshotKeys();
  expect(keys).toHaveLength(20);
  expect(keys.slice(0, 3)).toEqual(['item:3', 'item:19', 'item:18']);
  const r = await cb.warm(keys, (key) => ({ reloaded: key }), { concurrency: 4 });
  expect(r).toMatchObject({ total: 20, loaded: 20, failed: 0, skipped: 0 });
  expect(await cb.get('item:3')).toEqual({ reloaded: 'item:3' });
});
