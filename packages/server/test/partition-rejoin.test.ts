import { FAST_GOSSIP, startTestNode, waitUntil, type TestNode } from '@corral/test-utils';

/**
 * In-process nodes gossiping on loopback aliases; one of them is cut off (its gossip only: every
 * packet in or out is dropped), so it declares the others dead while they declare it dead, and
 * then the cut is healed. While it was away its keys had an interim owner on the other side,
 * where some of them were rewritten. When it is back:
 *
 * - its copies that nobody rewrote are the only copies there are, and must not be thrown away;
 * - for the ones rewritten on the other side it must answer the newer value, not its own, also
 *   before the handoff has brought that over (handoff is throttled here so that it has not);
 * - it goes straight back to the whole ring, expecting each range from its interim owner.
 */
const gossip = { ...FAST_GOSSIP, port: 0 };
// About 1 KB/s with batches of 5: the interim owners' entries trickle in while the test reads.
const handoff = { maxBytesPerSec: 1000, batchKeys: 5 };
let nodes: TestNode[] = [];

afterAll(async () => { await Promise.all(nodes.map((n) => n.stop())); });

const ringSize = (t: TestNode) => t.node.cluster.ring.size;

test('a node back from a partition keeps its copies nobody rewrote and answers the newer ones from where they were written', async () => {
  const first = await startTestNode({ host: '127.0.0.40', gossip, handoff });
  const seeds = [first.node.agent!.gossip!.gossipAddr];
  nodes = [first, ...(await Promise.all(['127.0.0.41', '127.0.0.42'].map((host) => startTestNode({ host, gossip: { ...gossip, seeds }, handoff }))))];
  await waitUntil(() => nodes.every((n) => ringSize(n) === 3), 5000, 'three members');
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  const C = c.node.cluster.selfId;
  const keys = Array.from({ length: 600 }, (_x, i) => `k${i}`);
  for (const k of keys) nodes.find((n) => n.node.cluster.ownerOf(k) === n.node.cluster.selfId)!.node.store.set(k, Buffer.from(`old:${k}`));
  const ofC = keys.filter((k) => c.node.cluster.ownerOf(k) === C);
  expect(ofC.length).toBeGreaterThan(100);

  c.node.agent!.gossip!._testIsolate(true);
  await waitUntil(() => ringSize(a) === 2 && ringSize(b) === 2 && ringSize(c) === 1, 10_000, 'both sides to declare the other dead');

  // On the other side, half of c's keys are written again at their interim owner.
  const rewritten = ofC.filter((_k, i) => i % 2 === 0);
  const untouched = ofC.filter((_k, i) => i % 2 === 1);
  for (const k of rewritten) {
    const interim = [a, b].find((n) => n.node.cluster.ownerOf(k) === n.node.cluster.selfId)!;
    interim.node.store.set(k, Buffer.from(`new:${k}`));
  }

  const views: number[] = [];
  c.node.cluster.on('change', () => views.push(ringSize(c)));
  c.node.agent!.gossip!._testIsolate(false);
  await waitUntil(() => nodes.every((n) => ringSize(n) === 3), 10_000, 'the three to be together again');
  // Straight from alone to the whole ring, without rings of two that nobody else uses.
  expect(views.filter((n) => n === 2)).toEqual([]);
  const pending = c.node.agent!.receiver.stats()['pendingArcs'] as number;
  expect(pending).toBeGreaterThan(0);

  const conn = await c.connect();
  try {
    for (const k of untouched) expect(String((await conn.call('GET', [k]) as [Buffer, number] | null)?.[0])).toBe(`old:${k}`);
    for (const k of rewritten) expect(String((await conn.call('GET', [k]) as [Buffer, number] | null)?.[0])).toBe(`new:${k}`);
  } finally {
    conn.close();
  }
  // The reads compared with the interim owners; the handoff was still under way for part of them.
  expect(c.node.agent!.receiver.stats()['readThroughNewer']).toBeGreaterThan(0);

  await waitUntil(() => nodes.every((n) => n.node.agent!.sender.idle) && c.node.agent!.receiver.stats()['pendingArcs'] === 0, 20_000, 'the handoff to finish');
  for (const k of keys) {
    const holders = nodes.filter((n) => n.node.store.peek(k) !== undefined);
    expect(holders.map((n) => n.node.cluster.selfId)).toEqual([a.node.cluster.ownerOf(k)]);
    expect(String(holders[0]!.node.store.peek(k)!.value)).toBe(rewritten.includes(k) ? `new:${k}` : `old:${k}`);
  }
}, 60_000);
