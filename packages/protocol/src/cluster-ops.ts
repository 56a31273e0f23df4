import type { OpSpec } from './ops';

/**
 * Ops for cluster membership and rebalancing, codes 20–39. Kept apart from the core table like
 * the stampede ops; ops.ts spreads this into `Ops`.
 *
 * All of them are admin ops: HANDOFF writes around the ownership check and the version a client
 * would get, HANDOFF_GET reads around routing, and JOIN/DRAIN change the cluster. Nodes send the
 * admin token in their own HELLO, so a cluster with a token keeps strangers out of all four.
 * See docs/protocol.md, "Handoff", for the exchange.
 */
export const ClusterOps = {
  HANDOFF: {
    name: 'HANDOFF', code: 20, admin: true,
    args: [
      { name: 'from', type: 'string', doc: 'the sending node\'s id (its data address host:port)' },
      { name: 'epoch', type: 'uint', doc: 'the sender\'s ring epoch when it planned this batch' },
      { name: 'entries', type: 'handoff', doc: '[key, value, flags, version, ttlMs] entries (ttlMs -1 = no expiry); may be empty' },
      {
        name: 'opts', type: 'options', optional: true, doc: 'batch flags',
        fields: {
          done: { type: 'bool', doc: 'the sender holds nothing more this node owns: stop reading through to it' },
          ring: { type: 'uint', doc: 'with done: the fingerprint of the sender\'s ring, which settles epochs that differ only by forgotten members' },
        },
      },
    ],
    reply: '{ applied, stale, rejected: [index…] }  (rejected: keys this node does not own under its ring; the sender keeps them and retries)',
    doc: 'node to node: entries of an arc that changed owner, applied only if newer than what this node holds',
  },
  HANDOFF_GET: {
    name: 'HANDOFF_GET', code: 21, admin: true,
    args: [{ name: 'key', type: 'key', doc: 'the key' }],
    reply: 'null | [value, flags, version, ttlMs]',
    doc: 'node to node: the previous owner\'s copy of a key still being handed over (never read through, never counted as a hit)',
  },
  CLUSTER_JOIN: {
    name: 'CLUSTER_JOIN', code: 22, admin: true,
    args: [{ name: 'seeds', type: 'keys', doc: 'gossip addresses (host:port) of members to join through' }],
    reply: '{ joined: true, members }  (the member list right after the join)',
    doc: 'make a running node that is alone join a cluster; its share of the keys is then handed to it',
  },
  CLUSTER_DRAIN: {
    name: 'CLUSTER_DRAIN', code: 23, admin: true,
    args: [{
      name: 'opts', type: 'options', optional: true, doc: 'what to do when drained',
      fields: {
        exit: { type: 'bool', doc: 'exit the process (code 0) once every key is handed over; default false: stay up alone' },
        wait: { type: 'bool', doc: 'reply only once drained, instead of at once' },
      },
    }],
    reply: '{ state, moved: { keys, bytes, byTarget }, stranded, ms }  (stranded: keys no member could take)',
    doc: 'leave the cluster gracefully: announce the leave, hand every key to its new owner, then exit or stay up alone',
  },
  CLUSTER_STATUS: {
    name: 'CLUSTER_STATUS', code: 24, admin: true,
    args: [],
    reply: '{ id, state, epoch, gossip, ring, handoff: { sender, receiver }, store, opsPerSec }',
    doc: 'this node\'s membership view and handoff progress (what `corral cluster status/add/remove` read)',
  },
} as const satisfies Record<string, OpSpec>;
