/**
 * Issue 3's acceptance check with real processes: three node processes (static --peers, on
 * 127.0.0.2…4), a client writes 10 000 keys and reads them back, each key lives only on its owner
 * (asked directly: a request without routing hints reads that node's own store), and MGET across
 * all three nodes answers in the caller's order.
 */
import { Corral } from '@corral/client';
import { askNode, spawnProcessCluster, type ProcessCluster } from '@corral/test-utils';

jest.setTimeout(60_000);

const N = 10_000;
const key = (i: number) => `item:${i}`;
let cluster: ProcessCluster;
let cache: Corral;

beforeAll(async () => {
  cluster = await spawnProcessCluster(3);
  cache = await Corral.connect({ seeds: [cluster.seeds[1]!], timeoutMs: 5_000 });
});
afterAll(async () => {
  await cache?.close();
  await cluster?.stop();
});

it('routes 10 000 keys to their owners, each stored only there, and reads them all back', async () => {
  for (let i = 0; i < N; i += 500)
    await Promise.all(Array.from({ length: 500 }, (_x, j) => cache.set(key(i + j), { n: i + j })));
  const back = await Promise.all(Array.from({ length: N }, (_x, i) => cache.get<{ n: number }>(key(i))));
  expect(back.every((v, i) => v?.n === i)).toBe(true);

  // Ask every node directly (no meta): the key must be on its owner and nowhere else.
  const sample = Array.from({ length: 300 }, (_x, i) => Math.floor((i * N) / 300));
  const perNode = new Map<string, number>();
  for (const i of sample) {
    const owner = cache.ownerOf(key(i));
    for (const id of cluster.seeds) {
      const found = (await askNode(id, 'EXISTS', [key(i)])) as boolean;
      expect({ key: key(i), id, found }).toEqual({ key: key(i), id, found: id === owner });
    }
    perNode.set(owner, (perNode.get(owner) ?? 0) + 1);
  }
  expect([...perNode.keys()].sort()).toEqual([...cluster.seeds].sort()); // every node owns some
  const keysPerNode = await Promise.all(cluster.seeds.map(async (id) => ((await askNode(id, 'STATS')) as { keys: number }).keys));
  expect(keysPerNode.reduce((a, b) => a + b, 0)).toBe(N);
});

it('MGET across all nodes answers in the caller\'s order', async () => {
  const idx = [9_999, 3, 5_000, 17, 8_123, 42, 1, 7_777, 12_345];
  const vals = await cache.mget<{ n: number }>(idx.map(key));
  expect(vals.map((v) => v?.n)).toEqual(idx.map((i) => (i < N ? i : undefined)));
  expect(new Set(idx.filter((i) => i < N).map((i) => cache.ownerOf(key(i)))).size).toBe(3);
});
