import { decodeValue } from '@corral/protocol';
import { clientError } from '../errors';

/** LGET's reply (see the op table), decoded. `waited`: the node parked the call on someone else's lease. */
export type LeaseReply =
  | { kind: 'hit'; value: unknown; version: number; ttlMs: number; deltaMs: number; lease: number | undefined; waited: boolean }
  | { kind: 'lease'; token: number }
  | { kind: 'stale'; value: unknown; version: number; deltaMs: number; lease: number | undefined }
  | { kind: 'miss'; waited: boolean };

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;

function bad(reply: unknown): Error {
  let shown: string;
  try { shown = JSON.stringify(reply)?.slice(0, 200) ?? String(reply); } catch { shown = String(reply); }
  return clientError('E_INTERNAL', `unexpected LGET reply from the node: ${shown}`);
}

export function readLeaseReply(reply: unknown): LeaseReply {
  if (typeof reply !== 'object' || reply === null) throw bad(reply);
  const r = reply as Record<string, unknown>;
  const lease = isInt(r['lease']) ? r['lease'] : undefined;
  const waited = r['waited'] === true;
  const hit = r['hit'];
  if (Array.isArray(hit)) {
    const [bytes, flags, version, ttlMs, deltaMs] = hit as unknown[];
    if (!isBytes(bytes) || !isInt(flags) || !isInt(version) || !isInt(ttlMs) || !isInt(deltaMs)) throw bad(reply);
    return { kind: 'hit', value: decodeValue(bytes, flags), version, ttlMs: ttlMs < 0 ? Infinity : ttlMs, deltaMs, lease, waited };
  }
  const stale = r['stale'];
  if (Array.isArray(stale)) {
    const [bytes, flags, version, deltaMs] = stale as unknown[];
    if (!isBytes(bytes) || !isInt(flags) || !isInt(version) || !isInt(deltaMs)) throw bad(reply);
    return { kind: 'stale', value: decodeValue(bytes, flags), version, deltaMs, lease };
  }
  if (lease !== undefined) return { kind: 'lease', token: lease };
  if (r['miss'] === true) return { kind: 'miss', waited };
  throw bad(reply);
}
