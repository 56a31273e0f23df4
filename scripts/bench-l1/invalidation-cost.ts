import { readFileSync } from 'node:fs';
import { Corral } from '@corral/client';
import { spawnNodeProcess } from '../../packages/test-utils/src/node-process';
import { closedLoop } from './closed-loop';

/**
 * What each invalidation mode costs the node: `subscribers` clients with an L1, each reading its
 * own `workingSet` keys of the key space, while one writer (no L1) overwrites random keys as fast
 * as 64 requests in flight allow. Per mode: the writer's rate, the node's CPU per write (from
 * /proc, so all of it: the write itself, the stream, the pushes), bytes and keys pushed per write,
 * and the tracking table's size. "none" is the same run with nobody subscribed.
 */
export interface CostOptions { keys: number; subscribers: number; workingSet: number; durationMs: number }

interface Row { mode: string; writesPerSec: number; cpuUsPerWrite: number; bytesPerWrite: number; keysPerWrite: number; trackedKeys: number; l1Entries: number }

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in clock ticks of 10 ms
}

async function stats(c: Corral): Promise<Record<string, number>> {
  return await c.stats() as Record<string, number>;
}

export async function measureInvalidationCost(o: CostOptions = { keys: 100_000, subscribers: 8, workingSet: 2_000, durationMs: 3_000 }): Promise<void> {
  const rows: Row[] = [];
  for (const mode of ['none', 'tracking', 'broadcast'] as const) {
    const node = await spawnNodeProcess(['--max-memory', '1gb']);
    const seeds = [`${node.host}:${node.port}`];
    try {
      const writer = await Corral.connect({ seeds, timeoutMs: 30_000 });
      const value = 'x'.repeat(100);
      for (let i = 0; i < o.keys; i += 1000)
        await writer.mset(Array.from({ length: Math.min(1000, o.keys - i) }, (_x, j) => [`key:${i + j}`, value] as [string, string]));
      const subs = mode === 'none' ? [] : await Promise.all(Array.from({ length: o.subscribers }, () =>
        Corral.connect({ seeds, timeoutMs: 30_000, l1: { mode, maxEntries: o.workingSet * 2 } })));
      await Promise.all(subs.map(async (c, s) => {
        const mine = Array.from({ length: o.workingSet }, (_x, i) => `key:${(s * 7919 + i * 31) % o.keys}`);
        for (let i = 0; i < mine.length; i += 500) await c.mget(mine.slice(i, i + 500));
      }));
      await new Promise((r) => setTimeout(r, 300)); // subscriptions answered, heartbeats flowing
      const before = await stats(writer);
      const cpu0 = cpuMs(node.pid);
      const r = await closedLoop((i) => writer.set(`key:${Math.floor(Math.random() * o.keys)}`, `${value}${i % 10}`), 64, o.durationMs);
      const cpu1 = cpuMs(node.pid);
      await new Promise((res) => setTimeout(res, 200));
      const after = await stats(writer);
      const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
      rows.push({
        mode: mode === 'none' ? 'no L1 subscribers' : mode,
        writesPerSec: r.opsPerSec,
        cpuUsPerWrite: ((cpu1 - cpu0) * 1000) / Math.max(1, r.ops),
        bytesPerWrite: d('invalidationBytesPushed') / Math.max(1, r.ops),
        keysPerWrite: d('invalidationKeysPushed') / Math.max(1, r.ops),
        trackedKeys: after['invalidationTrackedKeys'] ?? 0,
        l1Entries: subs.reduce((a, c) => a + (c.l1Stats()?.entries ?? 0), 0),
      });
      await Promise.all([writer, ...subs].map((c) => c.close()));
    } finally {
      node.kill('SIGTERM');
      await node.exited;
    }
  }
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(`\nInvalidation cost on the node: ${o.subscribers} L1 clients each reading ${fmt(o.workingSet)} of ${fmt(o.keys)} keys; ` +
    `one writer overwriting random keys (64 in flight) for ${o.durationMs} ms\n`);
  console.log(`${'mode'.padEnd(18)}  ${'writes/s'.padStart(9)}  ${'node CPU/write'.padStart(14)}  ${'pushed B/write'.padStart(14)}  ${'keys pushed/write'.padStart(17)}  ${'tracked keys'.padStart(12)}  ${'L1 entries left'.padStart(15)}`);
  for (const r of rows)
    console.log(`${r.mode.padEnd(18)}  ${fmt(r.writesPerSec).padStart(9)}  ${`${fmt(r.cpuUsPerWrite, 1)} µs`.padStart(14)}  ${fmt(r.bytesPerWrite, 1).padStart(14)}  ${fmt(r.keysPerWrite, 2).padStart(17)}  ${fmt(r.trackedKeys).padStart(12)}  ${fmt(r.l1Entries).padStart(15)}`);
}
