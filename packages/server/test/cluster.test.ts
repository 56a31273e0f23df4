import { PushKind } from '@corral/protocol';
import { startTestCluster, startTestNode, type TestCluster } from '@corral/test-utils';

const bytes = (s: string) => Buffer.from(s);

describe('a node in a static cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => { cluster = await startTestCluster(3); });
  afterAll(async () => { await cluster.stop(); });

  it('answers TOPOLOGY with every member and one epoch everywhere', async () => {
    const tops = await Promise.all(cluster.nodes.map(async (t) => {
      const c = await t.connect();
      try { return (await c.call('TOPOLOGY')) as { epoch: number; members: Array<{ id: string }> }; } finally { c.close(); }
    }));
    for (const t of tops) {
      expect(t.members.map((m) => m.id).sort()).toEqual([...cluster.seeds].sort());
      expect(t.epoch).toBe(tops[0]!.epoch);
    }
  });

  it('refuses keys it does not own when the client routed by epoch, and serves them without meta', async () => {
    const [a] = cluster.nodes;
    const view = a!.node.cluster;
    const foreign = Array.from({ length: 200 }, (_x, i) => `k${i}`).find((k) => view.ownerOf(k) !== view.selfId)!;
    const mine = Array.from({ length: 200 }, (_x, i) => `k${i}`).find((k) => view.ownerOf(k) === view.selfId)!;
    const c = await a!.connect();
    try {
      await expect(c.callWithMeta('SET', [foreign, bytes('x')], { epoch: view.epoch })).rejects.toMatchObject({
        code: 'E_NOT_OWNER', details: { epoch: view.epoch, owner: view.ownerOf(foreign) },
      });
      expect(await c.callWithMeta('SET', [mine, bytes('x')], { epoch: view.epoch })).toEqual(expect.any(Number));
      // MGET with one foreign key among owned ones is refused as a whole.
      await expect(c.callWithMeta('MGET', [[mine, foreign]], { epoch: view.epoch })).rejects.toMatchObject({ code: 'E_NOT_OWNER' });
      // No meta: the node serves its own store (admin tools, direct checks).
      expect(await c.call('SET', [foreign, bytes('local')])).toEqual(expect.any(Number));
    } finally { c.close(); }
  });

  it('caps TTLs of writes it takes as a fallback (gutter)', async () => {
    const t = cluster.nodes[1]!;
    const c = await t.connect();
    try {
      await c.callWithMeta('SET', ['gutter:1', bytes('v'), { ttlMs: 3_600_000 }], { fallback: true });
      await c.callWithMeta('SET', ['gutter:2', bytes('v')], { fallback: true });
      await c.call('SET', ['gutter:3', bytes('v')]);
      await c.callWithMeta('TOUCH', ['gutter:3', 0], { fallback: true });
      const cap = t.node.config.gutterTtlMs;
      for (const k of ['gutter:1', 'gutter:2', 'gutter:3']) {
        const ttl = (await c.call('TTL', [k])) as number;
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(cap);
      }
    } finally { c.close(); }
  });
});

it('pushes the new topology to connected clients when members change', async () => {
  const t = await startTestNode({ host: '127.0.0.2' });
  const c = await t.connect();
  try {
    await c.call('HELLO', [1, { name: 'test' }]);
    const before = t.node.cluster.epoch;
    t.node.setMembers([
      { id: `${t.host}:${t.port}`, state: 'alive', incarnation: 0 },
      { id: '127.0.0.9:7070', state: 'alive', incarnation: 0 },
    ]);
    const push = await c.waitFor((f) => f.kind === 3 && f.push === PushKind.Topology);
    const body = (push as { body: { epoch: number; members: unknown[] } }).body;
    expect(body.epoch).toBeGreaterThan(before);
    expect(body.members).toHaveLength(2);
  } finally {
    c.close();
    await t.stop();
  }
});
