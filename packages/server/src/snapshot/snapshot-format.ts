/**
 * The snapshot file layout. Pure: bytes in, bytes out; the file I/O is in snapshot-writer/reader.
 *
 *   header   "CORRALSN" | u16 format version | u8 mode | u8 0 | f64 written-at wall ms | u16 n | node id (n bytes UTF-8)
 *   records  u32 length | body                                   (one per key, any number)
 *   trailer  "CORRALND" | u32 record count | u32 0 | SHA-256 of every byte before the trailer
 *
 *   body (entry)     u8 1 | u16 key length | key | u8 flags | f64 version | f64 ttlMs (-1 = none)
 *                    | f64 graceMs | f64 deltaMs | f64 sourceVersion | u32 value length | value
 *   body (key only)  u8 2 | u16 key length | key
 *
 * Length-prefixed records rather than msgpack: the server does not depend on a msgpack library of
 * its own, and a reader can skip a record it does not want without decoding it. The trailer sits
 * at a fixed distance from the end, so a truncated file is caught before a single record is read
 * (its last 48 bytes are not a trailer, or the hash does not match).
 */

export const SNAPSHOT_FORMAT_VERSION = 1;
export const HEADER_MAGIC = Buffer.from('CORRALSN', 'latin1');
export const TRAILER_MAGIC = Buffer.from('CORRALND', 'latin1');
export const TRAILER_BYTES = 8 + 4 + 4 + 32;
/** A record bigger than this is a broken file, whatever the node's limits (keys ≤ 64 KiB, values far below). */
export const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

const KIND_ENTRY = 1;
const KIND_KEY = 2;
const ENTRY_FIXED = 1 + 2 + 1 + 8 * 5 + 4; // kind, key length, flags, five numbers, value length

export type SnapshotMode = 'keys' | 'entries';
const MODE_CODES: Record<SnapshotMode, number> = { keys: 0, entries: 1 };

export interface SnapshotHeader {
  mode: SnapshotMode;
  /** Wall clock at writing: the only clock two processes share, so remaining TTLs are shortened by the downtime. */
  writtenAtWallMs: number;
  nodeId: string;
}

/** One key of a snapshot: with its value (entries mode), or just the key (to be reloaded from the origin). */
export type SnapshotRecord =
  | { kind: 'entry'; key: string; value: Buffer; flags: number; version: number; ttlMs: number; graceMs: number; deltaMs: number; sourceVersion: number }
  | { kind: 'key'; key: string };

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

export function encodeHeader(h: SnapshotHeader): Buffer {
  const id = Buffer.from(h.nodeId.slice(0, 1024), 'utf8');
  const b = Buffer.alloc(8 + 2 + 1 + 1 + 8 + 2 + id.length);
  HEADER_MAGIC.copy(b, 0);
  b.writeUInt16BE(SNAPSHOT_FORMAT_VERSION, 8);
  b.writeUInt8(MODE_CODES[h.mode], 10);
  b.writeDoubleBE(h.writtenAtWallMs, 12);
  b.writeUInt16BE(id.length, 20);
  id.copy(b, 22);
  return b;
}

/** The fixed part of the header; `nodeIdBytes` more follow it. */
export const HEADER_FIXED_BYTES = 22;

export function decodeHeaderFixed(b: Buffer): { mode: SnapshotMode; writtenAtWallMs: number; nodeIdBytes: number } {
  if (b.length < HEADER_FIXED_BYTES || !b.subarray(0, 8).equals(HEADER_MAGIC)) throw new SnapshotFormatError('not a Corral snapshot (bad magic)');
  const version = b.readUInt16BE(8);
  if (version !== SNAPSHOT_FORMAT_VERSION) throw new SnapshotFormatError(`snapshot format version ${version}, this node reads ${SNAPSHOT_FORMAT_VERSION}`);
  const code = b.readUInt8(10);
  const mode = (Object.keys(MODE_CODES) as SnapshotMode[]).find((m) => MODE_CODES[m] === code);
  if (mode === undefined) throw new SnapshotFormatError(`unknown snapshot mode ${code}`);
  return { mode, writtenAtWallMs: b.readDoubleBE(12), nodeIdBytes: b.readUInt16BE(20) };
}

/** The record with its u32 length prefix. */
export function encodeRecord(r: SnapshotRecord): Buffer {
  const key = Buffer.from(r.key, 'utf8');
  if (key.length > 0xffff) throw new SnapshotFormatError('key longer than 65535 bytes');
  if (r.kind === 'key') {
    const b = Buffer.alloc(4 + 3 + key.length);
    b.writeUInt32BE(3 + key.length, 0);
    b.writeUInt8(KIND_KEY, 4);
    b.writeUInt16BE(key.length, 5);
    key.copy(b, 7);
    return b;
  }
  const body = ENTRY_FIXED + key.length + r.value.length;
  const b = Buffer.alloc(4 + body);
  let o = b.writeUInt32BE(body, 0);
  o = b.writeUInt8(KIND_ENTRY, o);
  o = b.writeUInt16BE(key.length, o);
  o += key.copy(b, o);
  o = b.writeUInt8(r.flags, o);
  for (const n of [r.version, r.ttlMs, r.graceMs, r.deltaMs, r.sourceVersion]) o = b.writeDoubleBE(n, o);
  o = b.writeUInt32BE(r.value.length, o);
  r.value.copy(b, o);
  return b;
}

/** Decodes a record body (without its length prefix). The value is copied out so it owns its memory. */
export function decodeRecord(body: Buffer): SnapshotRecord {
  if (body.length < 3) throw new SnapshotFormatError('record too short');
  const kind = body.readUInt8(0);
  const keyLen = body.readUInt16BE(1);
  if (3 + keyLen > body.length) throw new SnapshotFormatError('record key overruns the record');
  const key = body.toString('utf8', 3, 3 + keyLen);
  if (kind === KIND_KEY) {
    if (body.length !== 3 + keyLen) throw new SnapshotFormatError('key record has trailing bytes');
    return { kind: 'key', key };
  }
  if (kind !== KIND_ENTRY) throw new SnapshotFormatError(`unknown record kind ${kind}`);
  if (body.length < ENTRY_FIXED + keyLen) throw new SnapshotFormatError('entry record too short');
  let o = 3 + keyLen;
  const flags = body.readUInt8(o++);
  const nums: number[] = [];
  for (let i = 0; i < 5; i++, o += 8) nums.push(body.readDoubleBE(o));
  const valueLen = body.readUInt32BE(o);
  o += 4;
  if (o + valueLen !== body.length) throw new SnapshotFormatError('entry value does not fill the record');
  const [version, ttlMs, graceMs, deltaMs, sourceVersion] = nums as [number, number, number, number, number];
  if (!(Number.isSafeInteger(version) && version > 0)) throw new SnapshotFormatError(`bad entry version ${version}`);
  return { kind: 'entry', key, value: Buffer.from(body.subarray(o)), flags, version, ttlMs, graceMs, deltaMs, sourceVersion };
}

export function encodeTrailer(records: number, sha256: Buffer): Buffer {
  const b = Buffer.alloc(TRAILER_BYTES);
  TRAILER_MAGIC.copy(b, 0);
  b.writeUInt32BE(records, 8);
  sha256.copy(b, 16);
  return b;
}

export function decodeTrailer(b: Buffer): { records: number; sha256: Buffer } {
  if (b.length !== TRAILER_BYTES || !b.subarray(0, 8).equals(TRAILER_MAGIC)) throw new SnapshotFormatError('no trailer: the file is truncated or was not finished');
  return { records: b.readUInt32BE(8), sha256: Buffer.from(b.subarray(16)) };
}
