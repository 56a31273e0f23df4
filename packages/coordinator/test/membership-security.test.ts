import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { parseHostPort } from '../src/address';
import { GossipEnvelope } from '../src/gossip-envelope';
import { encodeMessage } from '../src/message-codec';
import type { Message } from '../src/messages';
import { Cluster, stateOf, waitFor } from './cluster-harness';

const cluster = new Cluster();
afterEach(() => cluster.stopAll());

async function sendUdp(to: string, packets: Buffer[]): Promise<void> {
  const addr = parseHostPort(to);
  if (!addr) throw new Error(`bad address ${to}`);
  const socket = createSocket('udp4');
  try {
    for (const p of packets) {
      await new Promise<void>((resolve, reject) => socket.send(p, addr.port, addr.host, (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    socket.close();
  }
}

/** A ping that would make the receiver learn about an `intruder` member if accepted. */
function intruderPing(targetId: string): Message {
  return {
    type: 'ping',
    seq: 7,
    from: 'intruder',
    target: targetId,
    updates: [{ kind: 'alive', id: 'intruder', incarnation: 0, addr: '127.0.0.9:9', meta: {} }],
  };
}

test('a member with the wrong cluster key cannot join; with the right key it can', async () => {
  const seed = await cluster.start(2, { clusterKey: 'right key' });
  const wrong = cluster.create(3, { clusterKey: 'wrong key', seeds: [seed.gossipAddr], joinTimeoutMs: 600 });
  await expect(wrong.start()).rejects.toMatchObject({ code: 'E_JOIN_TIMEOUT' });
  expect(seed.stats().authFailures).toBeGreaterThanOrEqual(1);
  expect(seed.members().map((m) => m.id)).toEqual(['node-2']);

  // Forged UDP traffic is dropped the same way: signed with the wrong key, unsigned, or tampered.
  const ping = encodeMessage(intruderPing('node-2'));
  const forged = new GossipEnvelope('wrong key').seal(ping, 'udp');
  const unsigned = new GossipEnvelope().seal(ping, 'udp');
  const tampered = new GossipEnvelope('right key').seal(ping, 'udp');
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
  const asTcp = new GossipEnvelope('right key').seal(ping, 'tcp');
  const failuresBefore = seed.stats().authFailures;
  await sendUdp(seed.gossipAddr, [forged, unsigned, tampered, asTcp]);
  await waitFor(() => seed.stats().authFailures >= failuresBefore + 4, 2000, 'four auth failures');
  expect(seed.members().map((m) => m.id)).toEqual(['node-2']);

  // The same packet properly signed is accepted: the key is the only thing that differed.
  await sendUdp(seed.gossipAddr, [new GossipEnvelope('right key').seal(ping, 'udp')]);
  await waitFor(() => stateOf(seed, 'intruder') !== undefined, 2000, 'the signed packet to be accepted');

  const good = await cluster.start(4, { clusterKey: 'right key', seeds: [seed.gossipAddr], joinTimeoutMs: 2000 });
  await waitFor(() => stateOf(seed, 'node-4') === 'alive' && stateOf(good, 'node-2') === 'alive', 2000, 'node-4 to join');
  expect(good.stats().authFailures).toBe(0);
});

test('malformed and garbage packets are counted and ignored; the member keeps working', async () => {
  const a = await cluster.start(2);
  const b = await cluster.start(3, { seeds: [a.gossipAddr] });
  await waitFor(() => stateOf(a, 'node-3') === 'alive' && stateOf(b, 'node-2') === 'alive', 3000, 'two members to converge');

  const plain = new GossipEnvelope();
  const garbage = [
    Buffer.alloc(0),
    Buffer.from([0x99, 1, 2, 3]), // unknown envelope version
    Buffer.from('hello world'),
    plain.seal(Buffer.from([0xc1]), 'udp'), // 0xc1 is never valid msgpack
    plain.seal(Buffer.from([0x93, 0x01, 0x02]), 'udp'), // truncated array
    plain.seal(encodeMessage({ type: 'push-pull', from: 'x', join: true, members: [] }), 'udp'), // TCP-only message
    plain.seal(Buffer.from([0x95, 0x01, 0xff, 0xa1, 0x78, 0xa1, 0x79, 0x90]), 'udp'), // negative seq
    plain.seal(Buffer.from([0x92, 0x63, 0x01]), 'udp'), // unknown message type
    plain.seal(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), 'udp'), // array32 claiming 4G elements
  ];
  const oversized = plain.seal(Buffer.alloc(2000, 0x90), 'udp');
  const { malformed } = a.stats();
  await sendUdp(a.gossipAddr, [...garbage, oversized]);
  await waitFor(() => a.stats().malformed >= malformed + garbage.length, 2000, 'garbage to be counted');
  await waitFor(() => a.stats().oversized >= 1, 2000, 'the oversized packet to be counted');
  expect(a.stats().malformed).toBe(malformed + garbage.length);

  // Garbage over TCP too: a header claiming a huge frame, and a frame that is not msgpack.
  await new Promise<void>((resolve) => {
    const addr = parseHostPort(a.gossipAddr);
    const s = connect({ host: addr?.host, port: addr?.port ?? 0 }, () => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2])));
    s.on('error', () => undefined).on('close', () => resolve());
  });
  await new Promise<void>((resolve) => {
    const addr = parseHostPort(a.gossipAddr);
    const s = connect({ host: addr?.host, port: addr?.port ?? 0 }, () => s.write(Buffer.from([0, 0, 0, 3, 0x01, 0xc1, 0xc1])));
    s.on('error', () => undefined).on('close', () => resolve());
  });
  await waitFor(() => a.stats().malformed >= malformed + garbage.length + 1, 2000, 'TCP garbage to be counted');

  // Still working: probes keep succeeding and a new member can join through it.
  const probes = a.stats().probes;
  const c = await cluster.start(4, { seeds: [a.gossipAddr] });
  await waitFor(() => [a, b, c].every((n) => n.aliveMembers().length === 3), 3000, 'a third member to join');
  await waitFor(() => a.stats().probes >= probes + 3, 2000, 'probing to continue');
  expect(stateOf(b, 'node-2')).toBe('alive');
});
