import { CorralError } from './errors';
import type { Limits } from './limits';
import { ClusterOps } from './cluster-ops';
import { StampedeOps } from './stampede-ops';
import { InvalidationOps } from './invalidation-ops';

export type { InvalidationMessage, InvalidationReplay, SubscribeMode } from './invalidation-ops';

/**
 * The op table: one row per op. The node's dispatch, the client's API and docs/protocol.md are all
 * driven by it (`npm run docs:protocol` regenerates the table in the spec; a test checks they agree).
 */
export type ArgType =
  | 'key'      // string, 1..maxKeyBytes bytes of UTF-8
  | 'keys'     // array of keys
  | 'value'    // bytes (msgpack bin), 0..maxValueBytes
  | 'uint'     // integer >= 0 (safe range)
  | 'int'      // integer (safe range)
  | 'string'
  | 'entries'  // array of [key, value, flags?]
  | 'handoff'  // array (may be empty) of [key, value, flags, version, ttlMs]: entries moving between nodes
  | 'options'; // map; known fields are type-checked, unknown fields are rejected

export type FieldType = 'uint' | 'int' | 'bool' | 'string' | 'keys' | 'any';

export interface ArgSpec {
  name: string;
  type: ArgType;
  optional?: boolean;
  doc: string;
  fields?: Record<string, { type: FieldType; doc: string }>;
}

export interface OpSpec {
  name: string;
  code: number;
  args: readonly ArgSpec[];
  reply: string;
  doc: string;
  /** Admin ops need an admin connection when the node has an admin token. */
  admin?: boolean;
  /** Where routing finds the key(s): the index of a `key`, `keys` or `entries` argument. */
  keyArg?: number;
  /** Mutating ops bump versions and feed the invalidation stream. */
  mutates?: boolean;
}

const key: ArgSpec = { name: 'key', type: 'key', doc: 'the key' };
const ttlField = { ttlMs: { type: 'uint' as const, doc: 'time to live in ms; 0 or absent = no expiry' } };

export const PROTOCOL_VERSION = 1;

export const Ops = {
  PING: { name: 'PING', code: 1, args: [], reply: '"PONG"', doc: 'liveness check' },
  HELLO: {
    name: 'HELLO', code: 2,
    args: [
      { name: 'version', type: 'uint', doc: 'the protocol version the client speaks' },
      {
        name: 'opts', type: 'options', optional: true, doc: 'handshake options',
        fields: {
          name: { type: 'string', doc: 'client name, for logs' },
          auth: { type: 'string', doc: 'the admin token, when the node has one' },
        },
      },
    ],
    reply: '{ version, node, server, admin, limits: { maxKeyBytes, maxValueBytes, maxFrameBytes } }',
    doc: 'handshake: states the protocol version, authenticates, returns the node limits',
  },
  GET: { name: 'GET', code: 3, args: [key], keyArg: 0, reply: 'null | [value, flags]', doc: 'read a value' },
  GETS: {
    name: 'GETS', code: 4, args: [key], keyArg: 0,
    reply: 'null | [value, flags, version, ttlMs]  (ttlMs -1 = no expiry)',
    doc: 'read a value with its version and remaining TTL (for CAS)',
  },
  SET: {
    name: 'SET', code: 5, keyArg: 0, mutates: true,
    args: [
      key,
      { name: 'value', type: 'value', doc: 'the value bytes' },
      {
        name: 'opts', type: 'options', optional: true, doc: 'conditions and expiry',
        fields: {
          ...ttlField,
          flags: { type: 'uint', doc: 'opaque 0..255 stored with the value (the client records its encoding here)' },
          nx: { type: 'bool', doc: 'only if absent' },
          xx: { type: 'bool', doc: 'only if present' },
          ifVersion: { type: 'uint', doc: 'only if the current version equals this (CAS); else E_CAS_MISMATCH' },
        },
      },
    ],
    reply: 'version | null  (null: nx/xx condition not met)',
    doc: 'write a value; the new version is strictly greater than any earlier version of the key on this node',
  },
  DEL: { name: 'DEL', code: 6, args: [key], keyArg: 0, mutates: true, reply: 'bool (existed)', doc: 'delete a key' },
  TOUCH: {
    name: 'TOUCH', code: 7, keyArg: 0, mutates: true,
    args: [key, { name: 'ttlMs', type: 'uint', doc: 'new TTL in ms; 0 = no expiry' }],
    reply: 'bool (existed)', doc: 'change the TTL of a key without reading it',
  },
  EXISTS: { name: 'EXISTS', code: 8, args: [key], keyArg: 0, reply: 'bool', doc: 'whether a live entry exists' },
  TTL: { name: 'TTL', code: 9, args: [key], keyArg: 0, reply: 'ms remaining | -1 (no expiry) | -2 (missing)', doc: 'remaining TTL' },
  MGET: {
    name: 'MGET', code: 10, keyArg: 0,
    args: [{ name: 'keys', type: 'keys', doc: 'the keys' }],
    reply: 'array of (null | [value, flags]) in request order', doc: 'read many keys',
  },
  MSET: {
    name: 'MSET', code: 11, keyArg: 0, mutates: true,
    args: [
      { name: 'entries', type: 'entries', doc: '[key, value, flags?] triples' },
      { name: 'opts', type: 'options', optional: true, doc: 'expiry for all', fields: { ...ttlField } },
    ],
    reply: 'array of versions in request order', doc: 'write many keys (each key is atomic, the batch is not)',
  },
  INCRBY: {
    name: 'INCRBY', code: 12, keyArg: 0, mutates: true,
    args: [key, { name: 'delta', type: 'int', doc: 'amount to add (may be negative)' },
      { name: 'opts', type: 'options', optional: true, doc: 'expiry when the key is created', fields: { ...ttlField } }],
    reply: 'the new integer', doc: 'add to an integer value (missing = 0); keeps the TTL of an existing key',
  },
  STATS: { name: 'STATS', code: 13, args: [], reply: 'map of counters and gauges', doc: 'node statistics' },
  FLUSH: { name: 'FLUSH', code: 14, args: [], admin: true, mutates: true, reply: 'number of entries removed', doc: 'remove every entry' },
  TOPOLOGY: {
    name: 'TOPOLOGY', code: 15, args: [],
    reply: '{ epoch, vnodes, members: [{ id, state, ... }] }', doc: 'the cluster members and ring epoch as this node sees them',
  },
  ...ClusterOps,
  ...StampedeOps,
  ...InvalidationOps,
} as const satisfies Record<string, OpSpec>;

export type OpName = keyof typeof Ops;

const byCode: Array<OpSpec | undefined> = [];
for (const op of Object.values(Ops) as OpSpec[]) {
  if (byCode[op.code]) throw new Error(`duplicate op code ${op.code}`);
  byCode[op.code] = op;
}

export function opByCode(code: number): OpSpec | undefined {
  return code >= 0 ? byCode[code] : undefined;
}

export function allOps(): OpSpec[] {
  return byCode.filter((o): o is OpSpec => o !== undefined);
}

type ArgLimits = Pick<Limits, 'maxKeyBytes' | 'maxValueBytes'>;

const isSafeInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);
const bad = (op: OpSpec, why: string) => new CorralError('E_BAD_ARGS', `${op.name}: ${why}`);

export function checkKey(k: unknown, limits: ArgLimits): CorralError | undefined {
  if (typeof k !== 'string' || k.length === 0) return new CorralError('E_BAD_ARGS', 'a key is a non-empty string');
  // UTF-8 is at most 3 bytes per UTF-16 unit: skip the byte count for short keys.
  if (k.length * 3 > limits.maxKeyBytes && Buffer.byteLength(k) > limits.maxKeyBytes)
    return new CorralError('E_KEY_TOO_LONG', `key is ${Buffer.byteLength(k)} bytes, the limit is ${limits.maxKeyBytes}`);
  return undefined;
}

export function checkValue(v: unknown, limits: ArgLimits): CorralError | undefined {
  if (!(v instanceof Uint8Array)) return new CorralError('E_BAD_ARGS', 'a value is bytes (msgpack bin)');
  if (v.length > limits.maxValueBytes)
    return new CorralError('E_VALUE_TOO_LARGE', `value is ${v.length} bytes, the limit is ${limits.maxValueBytes}`);
  return undefined;
}

function checkField(t: FieldType, v: unknown): boolean {
  switch (t) {
    case 'uint': return isSafeInt(v) && v >= 0;
    case 'int': return isSafeInt(v);
    case 'bool': return typeof v === 'boolean';
    case 'string': return typeof v === 'string';
    case 'keys': return Array.isArray(v) && v.every((k) => typeof k === 'string');
    case 'any': return true;
  }
}

const requiredCache = new WeakMap<OpSpec, number>();
/** Counted once per op: validation runs on every request. */
function requiredArgs(op: OpSpec): number {
  let n = requiredCache.get(op);
  if (n === undefined) requiredCache.set(op, (n = op.args.filter((a) => !a.optional).length));
  return n;
}

/** Validates a request's arguments against the op table; returns the error to send, if any. */
export function validateArgs(op: OpSpec, args: unknown[], limits: ArgLimits): CorralError | undefined {
  const required = requiredArgs(op);
  if (args.length < required || args.length > op.args.length)
    return bad(op, `expects ${required === op.args.length ? required : `${required}..${op.args.length}`} arguments, got ${args.length}`);
  for (let i = 0; i < args.length; i++) {
    const spec = op.args[i]!;
    const v = args[i];
    if (v === null && spec.optional) continue;
    let err: CorralError | undefined;
    switch (spec.type) {
      case 'key': err = checkKey(v, limits); break;
      case 'value': err = checkValue(v, limits); break;
      case 'uint': if (!isSafeInt(v) || v < 0) err = bad(op, `${spec.name} must be an integer >= 0`); break;
      case 'int': if (!isSafeInt(v)) err = bad(op, `${spec.name} must be a safe integer`); break;
      case 'string': if (typeof v !== 'string') err = bad(op, `${spec.name} must be a string`); break;
      case 'keys':
        if (!Array.isArray(v) || v.length === 0) { err = bad(op, `${spec.name} must be a non-empty array of keys`); break; }
        for (const k of v) if ((err = checkKey(k, limits))) break;
        break;
      case 'entries':
        if (!Array.isArray(v) || v.length === 0) { err = bad(op, `${spec.name} must be a non-empty array of [key, value, flags?]`); break; }
        for (const e of v) {
          if (!Array.isArray(e) || e.length < 2 || e.length > 3) { err = bad(op, 'each entry is [key, value, flags?]'); break; }
          if ((err = checkKey(e[0], limits)) || (err = checkValue(e[1], limits))) break;
          if (e.length === 3 && !(isSafeInt(e[2]) && e[2] >= 0 && e[2] <= 255)) { err = bad(op, 'flags must be 0..255'); break; }
        }
        break;
      case 'handoff': err = checkHandoffEntries(op, v, limits); break;
      case 'options': {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) { err = bad(op, `${spec.name} must be a map`); break; }
        const o = v as Record<string, unknown>;
        // for-in, not Object.entries: this runs for every SET and must not allocate.
        for (const f in o) {
          const fv = o[f];
          const fs = spec.fields?.[f];
          if (!fs) { err = bad(op, `unknown option "${f}"`); break; }
          if (fv !== null && fv !== undefined && !checkField(fs.type, fv)) { err = bad(op, `option ${f} must be ${fs.type}`); break; }
        }
        break;
      }
    }
    if (err) return err;
  }
  return undefined;
}

/** A handoff entry carries what setIfNewer needs: the version decides, the TTL is what remains. */
function checkHandoffEntries(op: OpSpec, v: unknown, limits: ArgLimits): CorralError | undefined {
  if (!Array.isArray(v)) return bad(op, 'entries must be an array of [key, value, flags, version, ttlMs]');
  for (const e of v) {
    if (!Array.isArray(e) || e.length !== 5) return bad(op, 'each entry is [key, value, flags, version, ttlMs]');
    const err = checkKey(e[0], limits) ?? checkValue(e[1], limits);
    if (err) return err;
    if (!(isSafeInt(e[2]) && e[2] >= 0 && e[2] <= 255)) return bad(op, 'flags must be 0..255');
    if (!(isSafeInt(e[3]) && e[3] > 0)) return bad(op, 'version must be an integer > 0');
    if (!(isSafeInt(e[4]) && (e[4] === -1 || e[4] > 0))) return bad(op, 'ttlMs must be -1 (no expiry) or > 0');
  }
  return undefined;
}
