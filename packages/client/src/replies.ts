import { decodeValue } from '@corral/protocol';
import { clientError } from './errors';

/**
 * Wire replies (see the `reply` column of the op table) turned into API values. A reply of the
 * wrong shape is a node bug, reported as E_INTERNAL rather than surfacing later as a TypeError in
 * the caller's code.
 */

function unexpected(op: string, reply: unknown): Error {
  let shown: string;
  try { shown = JSON.stringify(reply)?.slice(0, 200) ?? String(reply); } catch { shown = String(reply); }
  return clientError('E_INTERNAL', `unexpected ${op} reply from the node: ${shown}`);
}

const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

/** `null | [value, flags]` → the decoded value, or undefined for a miss. */
export function readValue(op: string, reply: unknown): unknown {
  if (reply === null || reply === undefined) return undefined;
  if (!Array.isArray(reply) || !isBytes(reply[0]) || !isInt(reply[1])) throw unexpected(op, reply);
  return decodeValue(reply[0], reply[1]);
}

export function readValues(op: string, reply: unknown, count: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== count) throw unexpected(op, reply);
  return reply.map((r) => readValue(op, r));
}

export interface Entry<T> {
  value: T;
  version: number;
  /** Remaining time to live in ms; Infinity when the entry does not expire. */
  ttlMs: number;
}

/** GETS: `null | [value, flags, version, ttlMs]`, ttlMs -1 = no expiry. */
export function readEntry(reply: unknown): Entry<unknown> | undefined {
  if (reply === null || reply === undefined) return undefined;
  if (!Array.isArray(reply) || !isBytes(reply[0]) || !isInt(reply[1]) || !isInt(reply[2]) || !isInt(reply[3]))
    throw unexpected('GETS', reply);
  return { value: decodeValue(reply[0], reply[1]), version: reply[2], ttlMs: reply[3] < 0 ? Infinity : reply[3] };
}

/** SET: `version | null` (null: the nx/xx condition was not met). */
export function readVersion(op: string, reply: unknown): number | undefined {
  if (reply === null || reply === undefined) return undefined;
  if (!isInt(reply)) throw unexpected(op, reply);
  return reply;
}

export function readVersions(op: string, reply: unknown, count: number): number[] {
  if (!Array.isArray(reply) || reply.length !== count || !reply.every(isInt)) throw unexpected(op, reply);
  return reply as number[];
}

export function readBool(op: string, reply: unknown): boolean {
  if (typeof reply !== 'boolean') throw unexpected(op, reply);
  return reply;
}

export function readInt(op: string, reply: unknown): number {
  if (!isInt(reply)) throw unexpected(op, reply);
  return reply;
}

/** TTL: ms remaining | -1 (no expiry) → Infinity | -2 (missing) → undefined. */
export function readTtl(reply: unknown): number | undefined {
  if (!isInt(reply) || reply < -2) throw unexpected('TTL', reply);
  return reply === -2 ? undefined : reply === -1 ? Infinity : reply;
}

export function readMap(op: string, reply: unknown): Record<string, unknown> {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) throw unexpected(op, reply);
  return reply as Record<string, unknown>;
}
