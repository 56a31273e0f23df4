import type { ArgSpec, OpSpec } from './ops';

/**
 * Ops for the L1 near cache and hot keys, codes 60–79. Kept apart from the core table like the
 * cluster and stampede ops; ops.ts spreads this into `Ops`.
 *
 * Every node has one invalidation stream: (epoch, seq), the epoch a random id drawn at boot, seq
 * +1 per change of any key (set, delete, CAS, INCRBY, expiry, eviction, flush, touch, a key
 * handed off). A client that keeps an L1 subscribes on its connection and is then sent push
 * frames (`PushKind.Invalidate`, `PushKind.Heartbeat`) whose bodies are `InvalidationMessage`s:
 * every message says which range of the stream it covers, so a lost one shows as a gap.
 * See docs/l1.md.
 */
const key: ArgSpec = { name: 'key', type: 'key', doc: 'the key' };

/**
 * The body of both invalidation push kinds. `from..to` (inclusive) is the range of the node's
 * stream the message covers for this subscriber: `keys` holds every change in that range the
 * subscriber must hear about (all of them in broadcast mode, the keys it read in tracking mode);
 * a heartbeat has none. `from` is one past the `to` of the previous message sent on this
 * connection, so `from > last to + 1` means a message was lost. `versions[i]` is the entry's
 * version after the change, 0 when there is no value any more (delete, expiry, eviction, touch,
 * a key the tracking table forgot): an L1 copy at that version or newer may be kept. A `null` key
 * is a FLUSH: every key of the node changed.
 */
export interface InvalidationMessage {
  epoch: number;
  from: number;
  to: number;
  keys?: Array<string | null>;
  versions?: number[];
  /** Heartbeats: the generation of this node's hot-key set, and the set itself when it changed. */
  hotGen?: number;
  hot?: string[];
}

/** `INVALIDATIONS_SINCE`'s reply: the changes after `seq`, or `lost` when the log no longer has them. */
export type InvalidationReplay =
  | { epoch: number; from: number; to: number; keys: Array<string | null>; versions: number[] }
  | { epoch: number; lost: true; seq: number };

export type SubscribeMode = 'tracking' | 'broadcast' | 'none';

export const InvalidationOps = {
  INVALIDATIONS_SUBSCRIBE: {
    name: 'INVALIDATIONS_SUBSCRIBE', code: 60,
    args: [{
      name: 'opts', type: 'options', optional: true, doc: 'what to be told',
      fields: {
        mode: { type: 'string', doc: '"tracking" (default: only keys this connection read, until told once), "broadcast" (every change, or those under `prefixes`), "none" (heartbeats and hot keys only)' },
        prefixes: { type: 'keys', doc: 'broadcast: only keys starting with one of these' },
      },
    }],
    reply: '{ epoch, seq, heartbeatMs, mode }  (the stream position this subscription starts after)',
    doc: 'subscribe this connection to the node\'s invalidation stream (Invalidate and Heartbeat pushes)',
  },
  INVALIDATIONS_SINCE: {
    name: 'INVALIDATIONS_SINCE', code: 61,
    args: [
      { name: 'epoch', type: 'uint', doc: 'the stream epoch the caller knows' },
      { name: 'seq', type: 'uint', doc: 'the last sequence number the caller has seen' },
    ],
    reply: '{ epoch, from, to, keys, versions } | { epoch, lost: true, seq }  (lost: other epoch, or the log no longer reaches back)',
    doc: 'replay the invalidation log after seq, to repair a gap',
  },
  INVALIDATIONS_UNSUBSCRIBE: {
    name: 'INVALIDATIONS_UNSUBSCRIBE', code: 62, args: [],
    reply: 'bool (was subscribed)', doc: 'stop invalidation pushes on this connection',
  },
  HOT_GET: {
    // No keyArg on purpose: any node may answer for a hot key, so routing hints must not apply.
    name: 'HOT_GET', code: 63, args: [key],
    reply: 'null | [value, flags, version, ttlMs] | false  (false: not hot here, ask the owner)',
    doc: 'read a hot key from any node: the owner answers from its store, others from their copy',
  },
  HOTKEYS: {
    name: 'HOTKEYS', code: 64, admin: true, args: [],
    reply: '{ node, hot: [{ key, count, sinceMs, reads }], copies: [{ key, owner, reads }], top: [{ key, count }] }',
    doc: 'the hot keys this node owns, the copies it holds for other owners, and its busiest keys',
  },
  HOT_SYNC: {
    name: 'HOT_SYNC', code: 65, admin: true,
    args: [
      { name: 'from', type: 'string', doc: 'the owner\'s member id' },
      { name: 'epoch', type: 'uint', doc: 'the owner\'s stream epoch' },
      { name: 'fromSeq', type: 'uint', doc: 'first sequence number this message covers' },
      { name: 'toSeq', type: 'uint', doc: 'last sequence number this message covers' },
      {
        name: 'opts', type: 'options', optional: true, doc: 'what changed',
        fields: {
          keys: { type: 'keys', doc: 'hot keys that changed in the range' },
          versions: { type: 'any', doc: 'their versions (0: gone)' },
          flush: { type: 'bool', doc: 'the owner was flushed: drop every copy of its keys' },
          hot: { type: 'keys', doc: 'the owner\'s hot keys, when the set changed' },
          hotGen: { type: 'uint', doc: 'generation of that set' },
        },
      },
    ],
    reply: '{ reads: [[key, n]…] }  (reads of the owner\'s hot keys this node served since the last sync)',
    doc: 'node to node: the owner\'s invalidations of its hot keys, with the same sequence and gap rules as client pushes',
  },
  INVALIDATION_FAULTS: {
    name: 'INVALIDATION_FAULTS', code: 66, admin: true,
    args: [{
      name: 'opts', type: 'options', optional: true, doc: 'faults to inject',
      fields: {
        dropPerMille: { type: 'uint', doc: 'drop this many of every 1000 invalidation and heartbeat pushes (coverage still advances, so receivers see gaps)' },
        cut: { type: 'string', doc: 'close every connection whose HELLO name starts with this' },
      },
    }],
    reply: '{ dropPerMille, dropped, cut }',
    doc: 'test hook, only on a node started with invalidation.testHooks: drop pushes, cut connections',
  },
} as const satisfies Record<string, OpSpec>;
