import { retransmitLimit } from '../src';
import { GossipQueue } from '../src/gossip-queue';
import { encodeMessage, encodedUpdateSize } from '../src/message-codec';
import type { Update } from '../src/messages';
import { withPiggyback } from '../src/piggyback';

const alive = (id: string, incarnation = 0, meta: Record<string, unknown> = {}): Update => ({
  kind: 'alive',
  id,
  incarnation,
  addr: '10.0.0.1:7946',
  meta,
});

test('each update is transmitted exactly retransmitLimit times, then dropped', () => {
  const queue = new GossipQueue(100);
  const limit = retransmitLimit(5, 4);
  queue.enqueue(alive('a'));
  queue.enqueue(alive('b'));
  const counts = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    for (const u of queue.take(1400, limit)) counts.set(u.id, (counts.get(u.id) ?? 0) + 1);
  }
  expect(counts.get('a')).toBe(limit);
  expect(counts.get('b')).toBe(limit);
  expect(queue.size).toBe(0);
});

test('the limit grows with the cluster size', () => {
  const send = (n: number): number => {
    const queue = new GossipQueue(10);
    queue.enqueue(alive('a'));
    let sent = 0;
    while (queue.take(1400, retransmitLimit(n, 4)).length > 0) sent++;
    return sent;
  };
  expect(send(5)).toBe(4);
  expect(send(50)).toBe(8);
  expect(send(500)).toBe(12);
});

test('least-transmitted updates go first when the packet is full', () => {
  const queue = new GossipQueue(100);
  const size = encodedUpdateSize(alive('a'));
  queue.enqueue(alive('a'));
  queue.enqueue(alive('b'));
  expect(queue.take(size, 10).map((u) => u.id)).toEqual(['b']); // newest first among equals
  expect(queue.take(size, 10).map((u) => u.id)).toEqual(['a']);
  queue.enqueue(alive('c'));
  expect(queue.take(size, 10).map((u) => u.id)).toEqual(['c']);
  // All tied at one transmit now: the newest two.
  expect(queue.take(2 * size, 10).map((u) => u.id)).toEqual(['c', 'b']);
  expect(queue.take(2 * size, 10).map((u) => u.id)).toEqual(['a', 'c']);
});

test('a newer update about a member replaces the queued one and starts over', () => {
  const queue = new GossipQueue(100);
  queue.enqueue(alive('a', 1));
  queue.take(1400, 4);
  queue.take(1400, 4);
  queue.enqueue({ kind: 'suspect', id: 'a', incarnation: 1, from: 'b' });
  expect(queue.size).toBe(1);
  expect(queue.transmitsOf('a')).toBe(0);
  expect(queue.take(1400, 4)).toEqual([{ kind: 'suspect', id: 'a', incarnation: 1, from: 'b' }]);
});

test('the queue is bounded, evicting the most-transmitted entry', () => {
  const queue = new GossipQueue(3);
  queue.enqueue(alive('a'));
  queue.take(1400, 10);
  queue.enqueue(alive('b'));
  queue.enqueue(alive('c'));
  queue.enqueue(alive('d'));
  expect(queue.size).toBe(3);
  expect(queue.transmitsOf('a')).toBeUndefined();
});

test('piggybacked packets stay under the datagram budget however much is queued', () => {
  const queue = new GossipQueue(1000);
  for (let i = 0; i < 500; i++) queue.enqueue(alive(`member-${i}.example.internal:7000`, i, { dataPort: 7000 + i, zone: 'eu-west-1a' }));
  const maxPayload = 1400 - 33;
  let total = 0;
  for (let round = 0; round < 50 && queue.size > 0; round++) {
    const msg = withPiggyback({ type: 'ping', seq: 123_456, from: 'self-node:7000', target: 'peer:7000', updates: [] }, queue, 4, maxPayload);
    const bytes = encodeMessage(msg).length;
    expect(bytes).toBeLessThanOrEqual(maxPayload);
    expect(bytes).toBeGreaterThan(maxPayload - 120); // and the packet is actually filled
    total += msg.updates.length;
  }
  expect(total).toBeGreaterThan(500);
});

test('updates the caller must send go first', () => {
  const queue = new GossipQueue(10);
  queue.enqueue(alive('a'));
  const hint: Update = { kind: 'dead', id: 'peer', incarnation: 3, from: 'self' };
  const msg = withPiggyback({ type: 'ack', seq: 1, from: 'self', updates: [hint] }, queue, 4, 1367);
  expect(msg.updates).toEqual([hint, alive('a')]);
});
