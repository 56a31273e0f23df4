import { HashRing, loadRingHasher } from '@corral/ring';
import { startTestNode, waitUntil, type TestNode } from '@corral/test-utils';
import type { ClusterMember } from '../src/cluster/cluster-view';

/**
 * Handoff between two in-process nodes whose member tables the test sets directly (no gossip), so
 * the ring change happens exactly when the test says. Throttled to ~1 KB/s so the last keys of the
 * handoff are still on their way while the test reads, deletes and writes them at the new owner.
 */
const TOKEN = 'handoff-test-token';
const slow = { handoff: { maxBytesPerSec: 1000, batchKeys: 10 }, adminToken: TOKEN };
const m = (id: string, state: ClusterMember['state'] = 'alive', incarnation = 0): ClusterMember => ({ id, state, incarnation });
const idOf = (t: TestNode) => `${t.host}:${t.port}`;

let a: TestNode;
let b: TestNode;

beforeAll(async () => {
  await loadRingHasher();
  a = await startTestNode({ host: '127.0.0.2', ...slow });
  b = await startTestNode({ host: '127.0.0.3', ...slow });
});
afterAll(async () => { await Promise.all([a?.stop(), b?.stop()]); });

test('the new owner reads through, keeps its own writes and deletes, and ends up with exactly its keys at their versions', async () => {
  const A = idOf(a);
  const B = idOf(b);
  const keys = Array.from({ length: 200 }, (_x, i) => `k${i}`);
  for (const k of keys) a.node.store.set(k, Buffer.from(`v:${k}`));
  const ring = new HashRing([{ id: A }, { id: B }]);
  const moving = keys.filter((k) => ring.ownerOf(k) === B);
  // The scan sends keys in insertion order: the last three arrive last.
  const [kRead, kDel, kSet] = moving.slice(-3) as [string, string, string];
  const versionBefore = a.node.store.gets(kRead)!.version;

  b.node.setMembers([m(A), m(B, 'dead')]); // B's ring is {A}: B owns nothing yet
  const both = [m(A), m(B, 'alive', 1)];
  a.node.setMembers(both);
  b.node.setMembers(both);
  expect(b.node.agent!.receiver.stats()['pendingArcs']).toBeGreaterThan(0);

  const conn = await b.connect();
  try {
    // A miss at the new owner for a key still on its way is answered by the old owner.
    expect(b.node.store.peek(kRead)).toBeUndefined();
    expect(await conn.call('GET', [kRead])).toEqual([Buffer.from(`v:${kRead}`), 0]);
    expect(b.node.agent!.receiver.stats()['readThroughHits']).toBeGreaterThanOrEqual(1);
    // A delete at the new owner wins: not read through, not resurrected by the handoff.
    expect(await conn.call('DEL', [kDel])).toBe(false);
    expect(await conn.call('GET', [kDel])).toBeNull();
    // A write at the new owner wins over the copy on its way, whatever the versions say.
    await conn.call('SET', [kSet, Buffer.from('written at the new owner')]);
    // The cluster ops are admin ops: without HELLO auth they are refused.
    await expect(conn.call('CLUSTER_STATUS')).rejects.toMatchObject({ code: 'E_NOT_ADMIN' });
  } finally {
    conn.close();
  }

  await waitUntil(() => a.node.agent!.sender.idle && b.node.agent!.receiver.stats()['pendingArcs'] === 0, 15_000, 'the handoff to finish');
  for (const k of keys) {
    const owner = ring.ownerOf(k) === A ? a : b;
    const other = owner === a ? b : a;
    expect(other.node.store.peek(k)).toBeUndefined();
    if (k === kDel) expect(owner.node.store.peek(k)).toBeUndefined();
    else if (k === kSet) expect(owner.node.store.peek(k)?.value.toString()).toBe('written at the new owner');
    else expect(owner.node.store.peek(k)?.value.toString()).toBe(`v:${k}`);
  }
  expect(b.node.store.gets(kRead)!.version).toBe(versionBefore);
  expect(a.node.store.size + b.node.store.size).toBe(keys.length - 1);
  // Through the admin token the peers used: HELLO then HANDOFF worked (entries arrived), and the status reads.
  expect((a.node.agent!.sender.stats()['lifetime'] as { keys: number }).keys).toBe(moving.length);
}, 30_000);

test('keys for an owner that cannot be reached stay where they are', async () => {
  const c = await startTestNode({ host: '127.0.0.4', handoff: { batchTimeoutMs: 500 } });
  try {
    const C = idOf(c);
    for (let i = 0; i < 100; i++) c.node.store.set(`c${i}`, Buffer.from('x'));
    const ghost = '127.0.0.9:9'; // nothing listens there
    c.node.setMembers([m(C), m(ghost)]);
    await waitUntil(() => ((c.node.agent!.sender.stats()['lifetime'] as { failedBatches: number }).failedBatches) > 0, 5000, 'a failed batch');
    expect(c.node.store.size).toBe(100);
    c.node.setMembers([m(C), m(ghost, 'dead')]);
    await waitUntil(() => c.node.agent!.sender.idle, 5000, 'the sender to settle');
    expect(c.node.store.size).toBe(100);
  } finally {
    await c.stop();
  }
});
