import type { ArgSpec, OpSpec } from './ops';

/**
 * Ops for stampede prevention (leases, grace, XFetch deltas), locks and version-guarded writes,
 * codes 40–59. Kept apart from the core table so the two can grow without stepping on each other;
 * ops.ts spreads this into `Ops`, so dispatch, client and docs see one table.
 *
 * Lease flow (memcache leases, NSDI 2013): LGET on a miss grants one caller a lease token; other
 * callers are parked by the node until the value is set (woken with it) or their wait ends; LSET
 * must present the token, and any other write or delete of the key voids it, so a slow loader
 * cannot store a value older than that write.
 */
const key: ArgSpec = { name: 'key', type: 'key', doc: 'the key' };
const lockName: ArgSpec = { name: 'name', type: 'key', doc: 'the lock name (routed like a key; a namespace apart from cache keys)' };
const value: ArgSpec = { name: 'value', type: 'value', doc: 'the value bytes' };

const writeFields = {
  ttlMs: { type: 'uint' as const, doc: 'time to live in ms; 0 or absent = no expiry' },
  flags: { type: 'uint' as const, doc: 'opaque 0..255 stored with the value' },
  graceMs: { type: 'uint' as const, doc: 'keep the entry this long past expiry so LGET can serve it stale (GET never does)' },
  deltaMs: { type: 'uint' as const, doc: 'how long the load that produced the value took (XFetch delta), returned on LGET hits' },
};

export const StampedeOps = {
  LGET: {
    name: 'LGET', code: 40, keyArg: 0,
    args: [
      key,
      {
        name: 'opts', type: 'options', optional: true, doc: 'lease request',
        fields: {
          leaseTtlMs: { type: 'uint', doc: 'lifetime of a granted lease (a dead holder\'s lease ends with it); 0 or absent = only look: no lease, no wait' },
          waitMs: { type: 'uint', doc: 'how long to park when another caller holds the lease and nothing stale may be served; 0 = reply miss at once' },
          graceMs: { type: 'uint', doc: 'the most staleness (ms past expiry) this caller accepts; the entry\'s own grace bounds it too' },
          early: { type: 'bool', doc: 'on a fresh hit, ask for a refresh lease (XFetch); one caller gets it, the rest just get the hit' },
          seenVersion: { type: 'uint', doc: 'with early: only while the entry is still at this version (else someone already refreshed it)' },
        },
      },
    ],
    reply: '{ hit: [value, flags, version, ttlMs, deltaMs], lease? } | { lease: token } | { stale: [value, flags, version, deltaMs], lease? } | { miss: true }; a parked call\'s reply adds waited: true',
    doc: 'read for a loader: a hit, a lease to load, a stale value (with the refresh lease if this caller won it), or, parked until the lease holder sets the key, a hit or a miss',
  },
  LSET: {
    name: 'LSET', code: 41, keyArg: 0, mutates: true,
    args: [
      key, value,
      { name: 'token', type: 'uint', optional: true, doc: 'the lease token from LGET; nil = write without a lease (voids leases as SET does)' },
      { name: 'opts', type: 'options', optional: true, doc: 'expiry, grace and load time', fields: writeFields },
    ],
    reply: 'version  (E_LEASE_INVALID: the token is unknown, expired, or voided by a write or delete)',
    doc: 'write the value a lease holder loaded; wakes the callers parked on the lease with it',
  },
  LDROP: {
    name: 'LDROP', code: 42, keyArg: 0,
    args: [key, { name: 'token', type: 'uint', doc: 'the lease token' }],
    reply: 'bool (the lease was still held)',
    doc: 'give a lease back without writing (the loader failed or declined to cache): parked callers are woken to try again',
  },
  LOCK: {
    name: 'LOCK', code: 43, keyArg: 0,
    args: [
      lockName,
      {
        name: 'opts', type: 'options', optional: true, doc: 'lease time and wait',
        fields: {
          ttlMs: { type: 'uint', doc: 'how long the lock lives unless extended (default 10000; a lock without a TTL outlives a crashed holder)' },
          waitMs: { type: 'uint', doc: 'how long to queue for a held lock; 0 or absent = try once' },
        },
      },
    ],
    reply: '[token, ttlMs]  (E_LOCK_HELD after waitMs; E_RATE_LIMITED: too many attempts on this connection)',
    doc: 'take a lock; the fencing token strictly increases per name, across holder crashes and owner changes (hybrid logical clock)',
  },
  UNLOCK: {
    name: 'UNLOCK', code: 44, keyArg: 0,
    args: [lockName, { name: 'token', type: 'uint', doc: 'the fencing token LOCK returned' }],
    reply: 'true  (E_LOCK_LOST: the token is not the current holder\'s)',
    doc: 'release a lock; the next queued caller gets it',
  },
  LOCKEXTEND: {
    name: 'LOCKEXTEND', code: 45, keyArg: 0,
    args: [lockName, { name: 'token', type: 'uint', doc: 'the fencing token' }, { name: 'ttlMs', type: 'uint', doc: 'the new lifetime from now, ms (> 0)' }],
    reply: 'ttlMs  (E_LOCK_LOST: the token is not the current holder\'s)',
    doc: 'extend a held lock; the token stays the same',
  },
  SETIFNEWER: {
    name: 'SETIFNEWER', code: 46, keyArg: 0, mutates: true,
    args: [
      key, value,
      { name: 'sourceVersion', type: 'uint', doc: 'the version of the data at its source (a DB row version, an updated-at)' },
      { name: 'opts', type: 'options', optional: true, doc: 'expiry', fields: { ttlMs: writeFields.ttlMs, flags: writeFields.flags, graceMs: writeFields.graceMs } },
    ],
    reply: 'version | null  (null: the entry already holds this source version or a newer one)',
    doc: 'write only if sourceVersion is newer than the one stored with the entry (last-writer-wins by source, not by arrival)',
  },
  SNAPKEYS: {
    name: 'SNAPKEYS', code: 47,
    args: [
      {
        name: 'opts', type: 'options', optional: true, doc: 'paging',
        fields: {
          cursor: { type: 'uint', doc: 'where to go on from: 0 to start, then the cursor of the previous reply' },
          count: { type: 'uint', doc: 'most keys in this reply (default 1000, at most 10000)' },
        },
      },
    ],
    reply: '[nextCursor, keys]  (nextCursor 0: that was the last page; an empty list when the node has no snapshot)',
    doc: 'the keys this node\'s snapshot asks to reload from the origin (keys mode, and entries that expired while it was down), hottest first',
  },
} as const satisfies Record<string, OpSpec>;
