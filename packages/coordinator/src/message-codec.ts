import { Packr } from 'msgpackr';
import { parseHostPort } from './address';
import type { Message, MemberRecord, Update } from './messages';
import type { MemberState } from './types';

/**
 * Messages are plain msgpack arrays (records off, so any msgpack decoder reads them):
 *   ping      [1, seq, from, target, updates]
 *   ack       [2, seq, from, updates]
 *   ping-req  [3, seq, from, target, targetAddr, updates]
 *   gossip    [5, from, updates]
 *   push-pull [4, from, join, members]          member = [id, addr, state, incarnation, meta]
 *   update    [0, id, inc, addr, meta] alive | [1, id, inc, from] suspect
 *             [2, id, inc, from] dead        | [3, id, inc] left
 * Decoding validates every field: the bytes come from the network.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export const MAX_ID_LENGTH = 256;

const MSG = { ping: 1, ack: 2, 'ping-req': 3, 'push-pull': 4, gossip: 5 } as const;
const UPDATE = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
  readonly code = 'E_GOSSIP_MALFORMED';
}

function fail(what: string): never {
  throw new MalformedMessageError(`malformed gossip message: ${what}`);
}

export function encodeUpdate(u: Update): unknown[] {
  switch (u.kind) {
    case 'alive':
      return [UPDATE.alive, u.id, u.incarnation, u.addr, u.meta];
    case 'suspect':
      return [UPDATE.suspect, u.id, u.incarnation, u.from];
    case 'dead':
      return [UPDATE.dead, u.id, u.incarnation, u.from];
    case 'left':
      return [UPDATE.left, u.id, u.incarnation];
  }
}

/** Exact msgpack size of one update; the packet builder sums these to fill a datagram. */
export function encodedUpdateSize(u: Update): number {
  return packr.pack(encodeUpdate(u)).length;
}

/** Byte-wise comparison of encoded meta: cheap, and exact for what travels on the wire. */
export function metaEquals(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return a === b || packr.pack(a).equals(packr.pack(b));
}

export function encodedMetaSize(meta: Record<string, unknown>): number {
  return packr.pack(meta).length;
}

function messageArray(m: Message): unknown[] {
  switch (m.type) {
    case 'ping':
      return [MSG.ping, m.seq, m.from, m.target, m.updates.map(encodeUpdate)];
    case 'ack':
      return [MSG.ack, m.seq, m.from, m.updates.map(encodeUpdate)];
    case 'ping-req':
      return [MSG['ping-req'], m.seq, m.from, m.target, m.targetAddr, m.updates.map(encodeUpdate)];
    case 'gossip':
      return [MSG.gossip, m.from, m.updates.map(encodeUpdate)];
    case 'push-pull':
      return [
        MSG['push-pull'],
        m.from,
        m.join,
        m.members.map((r) => [r.id, r.addr, STATES.indexOf(r.state), r.incarnation, r.meta]),
      ];
  }
}

export function encodeMessage(m: Message): Buffer {
  return packr.pack(messageArray(m));
}

function id(x: unknown, what: string): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > MAX_ID_LENGTH) fail(what);
  return x;
}

function addr(x: unknown, what: string): string {
  if (typeof x !== 'string' || parseHostPort(x) === undefined) fail(what);
  return x;
}

function uint(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) fail(what);
  return x;
}

function meta(x: unknown): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype) {
    fail('meta');
  }
  return x as Record<string, unknown>;
}

function array(x: unknown, what: string, maxLength: number): unknown[] {
  if (!Array.isArray(x) || x.length > maxLength) fail(what);
  return x;
}

export function decodeUpdate(x: unknown): Update {
  const a = array(x, 'update', 5);
  const kind = a[0];
  const uid = id(a[1], 'update id');
  const incarnation = uint(a[2], 'incarnation');
  switch (kind) {
    case UPDATE.alive:
      return { kind: 'alive', id: uid, incarnation, addr: addr(a[3], 'alive addr'), meta: meta(a[4]) };
    case UPDATE.suspect:
      return { kind: 'suspect', id: uid, incarnation, from: id(a[3], 'suspect from') };
    case UPDATE.dead:
      return { kind: 'dead', id: uid, incarnation, from: id(a[3], 'dead from') };
    case UPDATE.left:
      return { kind: 'left', id: uid, incarnation };
    default:
      return fail('update kind');
  }
}

function updates(x: unknown): Update[] {
  // A 1400-byte datagram cannot hold more than a few hundred updates; anything longer is garbage.
  return array(x, 'updates', 512).map(decodeUpdate);
}

function memberRecord(x: unknown): MemberRecord {
  const a = array(x, 'member', 5);
  const state = STATES[uint(a[2], 'state')];
  if (state === undefined) fail('state');
  return {
    id: id(a[0], 'member id'),
    addr: addr(a[1], 'member addr'),
    state,
    incarnation: uint(a[3], 'incarnation'),
    meta: meta(a[4]),
  };
}

/** Throws MalformedMessageError for anything that is not a well-formed message. */
export function decodeMessage(bytes: Buffer, limits: { maxMembers: number }): Message {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch {
    fail('not msgpack');
  }
  const a = array(raw, 'message', 6);
  switch (a[0]) {
    case MSG.ping:
      return { type: 'ping', seq: uint(a[1], 'seq'), from: id(a[2], 'from'), target: id(a[3], 'target'), updates: updates(a[4]) };
    case MSG.ack:
      return { type: 'ack', seq: uint(a[1], 'seq'), from: id(a[2], 'from'), updates: updates(a[3]) };
    case MSG.gossip:
      return { type: 'gossip', from: id(a[1], 'from'), updates: updates(a[2]) };
    case MSG['ping-req']:
      return {
        type: 'ping-req',
        seq: uint(a[1], 'seq'),
        from: id(a[2], 'from'),
        target: id(a[3], 'target'),
        targetAddr: addr(a[4], 'target addr'),
        updates: updates(a[5]),
      };
    case MSG['push-pull']: {
      if (typeof a[2] !== 'boolean') fail('join');
      return {
        type: 'push-pull',
        from: id(a[1], 'from'),
        join: a[2],
        members: array(a[3], 'members', limits.maxMembers).map(memberRecord),
      };
    }
    default:
      return fail('message type');
  }
}
