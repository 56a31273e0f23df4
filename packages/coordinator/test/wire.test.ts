import { Packr } from 'msgpackr';
import { GossipEnvelope } from '../src/gossip-envelope';
import { MalformedMessageError, decodeMessage, encodeMessage } from '../src/message-codec';
import type { Message } from '../src/messages';
import { updatesFromState } from '../src/state-merge';

const limits = { maxMembers: 10 };

const samples: Message[] = [
  {
    type: 'ping',
    seq: 4_294_967_295,
    from: 'a:1',
    target: 'b:1',
    updates: [
      { kind: 'alive', id: 'c:1', incarnation: 3, addr: '[::1]:7946', meta: { dataPort: 7000, tags: ['x'] } },
      { kind: 'suspect', id: 'd', incarnation: 0, from: 'a:1' },
      { kind: 'dead', id: 'e', incarnation: 9, from: 'b:1' },
      { kind: 'left', id: 'f', incarnation: 2 },
    ],
  },
  { type: 'ack', seq: 0, from: 'b:1', updates: [] },
  { type: 'ping-req', seq: 17, from: 'a', target: 'b', targetAddr: '10.1.2.3:7946', updates: [] },
  { type: 'gossip', from: 'a', updates: [{ kind: 'suspect', id: 'd', incarnation: 4, from: 'a' }] },
  {
    type: 'push-pull',
    from: 'a',
    join: true,
    members: [{ id: 'a', addr: 'a.example:7946', state: 'suspect', incarnation: 1, meta: {} }],
  },
];

test('messages round-trip as plain msgpack arrays any decoder can read', () => {
  for (const m of samples) expect(decodeMessage(encodeMessage(m), limits)).toEqual(m);
  const generic = new Packr({ useRecords: false }).unpack(encodeMessage(samples[1] as Message));
  expect(generic).toEqual([2, 0, 'b:1', []]);
});

test('malformed input throws MalformedMessageError, never anything else', () => {
  const packr = new Packr({ useRecords: false });
  const bad: unknown[] = [
    null,
    42,
    [],
    [1],
    [9, 1, 'a', 'b', []],
    [1, -1, 'a', 'b', []],
    [1, 1.5, 'a', 'b', []],
    [1, 1, '', 'b', []],
    [1, 1, 'a'.repeat(300), 'b', []],
    [1, 1, 'a', 'b', [[0, 'c', 0, 'not an address', {}]]],
    [1, 1, 'a', 'b', [[0, 'c', 0, 'h:1', []]]],
    [1, 1, 'a', 'b', [[7, 'c', 0]]],
    [2, 1, 'a', {}],
    [3, 1, 'a', 'b', 'h:99999', []],
    [4, 'a', 'yes', []],
    [4, 'a', true, new Array(11).fill(['a', 'h:1', 0, 0, {}])],
    [4, 'a', true, [['a', 'h:1', 4, 0, {}]]],
  ];
  for (const b of bad) expect(() => decodeMessage(packr.pack(b), limits)).toThrow(MalformedMessageError);
  for (const raw of [Buffer.alloc(0), Buffer.from([0xc1]), Buffer.from([0x91]), Buffer.from([0x91, 0x01, 0x01])]) {
    expect(() => decodeMessage(raw, limits)).toThrow(MalformedMessageError);
  }
});

test('the envelope authenticates with HMAC-SHA256 and fails closed', () => {
  const payload = encodeMessage(samples[1] as Message);
  const keyed = new GossipEnvelope('secret');
  const sealed = keyed.seal(payload, 'udp');
  expect(sealed.length).toBe(payload.length + keyed.overheadBytes);
  expect(keyed.open(sealed, 'udp')).toEqual({ ok: true, payload });
  expect(keyed.open(sealed, 'tcp')).toEqual({ ok: false, reason: 'auth' }); // channel-bound
  expect(new GossipEnvelope('other').open(sealed, 'udp')).toEqual({ ok: false, reason: 'auth' });
  expect(new GossipEnvelope().open(sealed, 'udp')).toEqual({ ok: false, reason: 'auth' });
  expect(keyed.open(new GossipEnvelope().seal(payload, 'udp'), 'udp')).toEqual({ ok: false, reason: 'auth' });
  expect(keyed.open(sealed.subarray(0, 20), 'udp')).toEqual({ ok: false, reason: 'auth' });
  const flipped = Buffer.from(sealed);
  flipped[40] = (flipped[40] ?? 0) ^ 1;
  expect(keyed.open(flipped, 'udp')).toEqual({ ok: false, reason: 'auth' });
  expect(keyed.open(Buffer.from([7, 1, 2]), 'udp')).toEqual({ ok: false, reason: 'malformed' });
  expect(keyed.open(Buffer.alloc(0), 'udp')).toEqual({ ok: false, reason: 'malformed' });
});

test('push-pull state softens dead to suspect and introduces unknown suspects as alive first', () => {
  const updates = updatesFromState(
    [
      { id: 'a', addr: 'h:1', state: 'alive', incarnation: 1, meta: {} },
      { id: 'b', addr: 'h:2', state: 'suspect', incarnation: 2, meta: {} },
      { id: 'c', addr: 'h:3', state: 'dead', incarnation: 3, meta: {} },
      { id: 'd', addr: 'h:4', state: 'left', incarnation: 4, meta: {} },
    ],
    'peer',
    (id) => id === 'c',
  );
  expect(updates.map((u) => `${u.kind} ${u.id}`)).toEqual(['alive a', 'alive b', 'suspect b', 'suspect c', 'left d']);
});
