import { FAST_GOSSIP, startTestNode, waitUntil, type TestNode } from '@corral/test-utils';

/**
 * In-process nodes gossiping over real UDP on loopback aliases: a member drained with the node
 * left running becomes a lone node that still serves, and can be joined back, after which its
 * share of the keys comes back to it.
 */
const gossip = { ...FAST_GOSSIP, port: 0 };
let nodes: TestNode[] = [];

afterAll(async () => { await Promise.all(nodes.map((n) => n.stop())); });

const liveCount = (t: TestNode) => t.node.cluster.ring.size;

test('drain with the node left running, then join it back', async () => {
  const first = await startTestNode({ host: '127.0.0.30', gossip });
  const seeds = [first.node.agent!.gossip!.gossipAddr];
  nodes = [first, ...(await Promise.all(['127.0.0.31', '127.0.0.32'].map((host) => startTestNode({ host, gossip: { ...gossip, seeds } }))))];
  await waitUntil(() => nodes.every((n) => liveCount(n) === 3), 5000, 'three members');
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  for (let i = 0; i < 3000; i++) {
    const k = `k${i}`;
    const owner = nodes.find((n) => n.node.cluster.ownerOf(k) === n.node.cluster.selfId)!;
    owner.node.store.set(k, Buffer.from(`v${i}`));
  }
  const held = c.node.store.size;

  const conn = await c.connect();
  try {
    const result = (await conn.call('CLUSTER_DRAIN', [{ wait: true }], 10_000)) as { state: string; moved: { keys: number }; stranded: number };
    expect(result).toMatchObject({ state: 'drained', moved: { keys: held }, stranded: 0 });
    await waitUntil(() => liveCount(c) === 1 && liveCount(a) === 2 && liveCount(b) === 2, 5000, 'c alone, a and b together');
    expect(c.node.store.size).toBe(0);
    expect(a.node.store.size + b.node.store.size).toBe(3000);
    // Alone and still serving.
    await conn.call('SET', ['lonely', Buffer.from('yes')]);
    expect((await conn.call('CLUSTER_STATUS')) as { state: string }).toMatchObject({ state: 'drained' });

    // And back in: the keys it owns again are handed to it (its own lone key goes to its owner).
    await conn.call('CLUSTER_JOIN', [[a.node.agent!.gossip!.gossipAddr]], 10_000);
    await waitUntil(() => nodes.every((n) => liveCount(n) === 3 && n.node.agent!.sender.idle), 10_000, 'three members again, handoff done');
    expect(((await conn.call('CLUSTER_STATUS')) as { state: string }).state).toBe('member');
    const total = nodes.reduce((n, t) => n + t.node.store.size, 0);
    expect(total).toBe(3001);
    for (const t of nodes) for (const { key } of t.node.store.entries()) expect(t.node.cluster.ownerOf(key)).toBe(t.node.cluster.selfId);
    // Its gossip record came back with a higher incarnation than the one it left with.
    const rec = a.node.cluster.topology().members.find((m) => m.id === c.node.cluster.selfId)!;
    expect(rec.state).toBe('alive');
    expect(rec.incarnation).toBeGreaterThan(0);
  } finally {
    conn.close();
  }
}, 30_000);
