import { Ops } from '@corral/protocol';
import { Corral, NodeConnection, parseAddress } from '@corral/client';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, spawnProcessCluster, type ProcessCluster } from '@corral/test-utils';
import { assertClientBuilt } from './coherence-harness';

/**
 * Hot keys served by every node, with real node processes: four clients (no L1, so every read
 * reaches a node) put 90 % of their reads on one key and 10 % on 1 000 others. Until the key
 * turns hot its owner serves all of its reads; once the owner announces it, the clients send its
 * reads to any member and the owner's share falls to about a third. A write to it still reaches
 * every copy, one node-to-node hop after the owner.
 */

const COLD = 1_000;
const LOOPS = 8;
const MEASURE_MS = 3_000;

let cluster: ProcessCluster | undefined;
const clients: Corral[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stop();
});

const share = (by: Record<string, number>, id: string) => {
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : (by[id] ?? 0) / total;
};
const diff = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(Object.keys({ ...a, ...b }).map((k) => [k, (a[k] ?? 0) - (b[k] ?? 0)]));
const sumBy = (xs: Array<Record<string, number>>) => xs.reduce<Record<string, number>>((acc, x) => diff(acc, diff({}, x)), {});
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

it('90 % of reads on one key: once hot, its reads are spread over every node', async () => {
  assertClientBuilt();
  cluster = await spawnProcessCluster(3, ['--shutdown-grace', '200ms', '--hot-key-threshold', '1000', '--hot-key-half-life', '1s']);
  const seeds = cluster.seeds;
  for (let i = 0; i < 4; i++) clients.push(await Corral.connect({ seeds, timeoutMs: 5_000, hotKeys: true }));
  const [first] = clients;
  await first!.set('the-hot-key', 'v1');
  await first!.mset(Array.from({ length: COLD }, (_x, i) => [`cold:${i}`, i] as [string, number]));
  const owner = first!.ownerOf('the-hot-key');

  let stop = false;
  const loops = clients.flatMap((c) => Array.from({ length: LOOPS }, async () => {
    while (!stop) {
      await (Math.random() < 0.9 ? c.get('the-hot-key') : c.get(`cold:${Math.floor(Math.random() * COLD)}`));
      if (Math.random() < 0.02) await new Promise((r) => setImmediate(r));
    }
  }));
  const snap = () => clients.map((c) => ({ all: c.l1Stats()!.readsByNode, hot: c.l1Stats()!.hotReadsByNode }));
  const t0 = performance.now();
  const s0 = snap();
  while (!clients.every((c) => c.l1Stats()!.hotKeys > 0)) {
    if (performance.now() - t0 > 10_000) throw new Error('the key never turned hot');
    await new Promise((r) => setTimeout(r, 20));
  }
  const hotAfterMs = performance.now() - t0;
  const s1 = snap();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const s2 = snap();
  stop = true;
  await Promise.all(loops);

  const before = sumBy(s1.map((s, i) => diff(s.all, s0[i]!.all)));
  const afterAll = sumBy(s2.map((s, i) => diff(s.all, s1[i]!.all)));
  const afterHot = sumBy(s2.map((s, i) => diff(s.hot, s1[i]!.hot)));
  const reports = await Promise.all(seeds.map(async (id) => {
    const conn = new NodeConnection({ ...parseAddress(id), timeoutMs: 3_000 });
    await conn.connect();
    try { return await conn.request(Ops.HOTKEYS, []) as { hot: Array<{ key: string; reads: number }>; copies: Array<{ key: string; reads: number }> }; } finally { await conn.close(); }
  }));
  const line = (by: Record<string, number>) => seeds.map((id) => `${id}${id === owner ? ' (owner)' : ''} ${pct(share(by, id))}`).join(', ');
  console.log([
    `hot key: owner ${owner}; announced hot to every client after ${Math.round(hotAfterMs)} ms`,
    `  before (all reads, 90 % of them the hot key, all of which its owner served): ${line(before)}`,
    `  after, the hot key's reads (${Object.values(afterHot).reduce((a, b) => a + b, 0)} in ${MEASURE_MS} ms): ${line(afterHot)}`,
    `  after, all reads: ${line(afterAll)}`,
    `  nodes (HOTKEYS): ${reports.map((r, i) => `${seeds[i]} hot ${JSON.stringify(r.hot.map((h) => [h.key, h.reads]))} copies ${JSON.stringify(r.copies.map((c) => [c.key, c.reads]))}`).join('; ')}`,
  ].join('\n'));

  expect(share(before, owner)).toBeGreaterThan(0.85);
  expect(share(afterHot, owner)).toBeLessThan(0.5);
  for (const id of seeds) expect(share(afterHot, id)).toBeGreaterThan(0.2);

  // `corral cluster hotkeys` lists it, with its owner and the members serving copies.
  const cli = execFileSync(process.execPath, [join(REPO_ROOT, 'packages', 'cli', 'bin', 'corral.js'), 'cluster', 'hotkeys', '--seed', seeds[0]!], { encoding: 'utf8' });
  console.log(`corral cluster hotkeys --seed ${seeds[0]}\n${cli}`);
  expect(cli).toMatch(new RegExp(`the-hot-key\\s+${owner.replace(/\./g, '\\.')}`));
  for (const id of seeds.filter((x) => x !== owner)) expect(cli).toContain(id);

  // A write to the hot key reaches every copy: a copy lags its owner by one node-to-node hop
  // (HOT_SYNC), so within moments every read, from any node, sees it, and none goes back.
  await first!.set('the-hot-key', 'v2');
  const t1 = performance.now();
  const seen = async () => (await Promise.all(Array.from({ length: 12 }, (_x, i) => clients[i % 4]!.get('the-hot-key')))).every((v) => v === 'v2');
  while (!(await seen())) if (performance.now() - t1 > 1_000) throw new Error('a copy kept the old value for over a second');
  console.log(`every read sees the write after ${(performance.now() - t1).toFixed(2)} ms`);
  for (let i = 0; i < 60; i++) expect(await clients[i % 4]!.get('the-hot-key')).toBe('v2');
}, 60_000);
