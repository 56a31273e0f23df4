import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import {
  decodeHeaderFixed, decodeRecord, decodeTrailer, HEADER_FIXED_BYTES, MAX_RECORD_BYTES, SnapshotFormatError, TRAILER_BYTES,
  type SnapshotHeader, type SnapshotRecord,
} from './snapshot-format';

const CHUNK_BYTES = 1024 * 1024;

export interface VerifiedSnapshot {
  header: SnapshotHeader;
  /** Records, as counted by the trailer (and checked while reading). */
  records: number;
  bytes: number;
  /** The records in file order. Throws SnapshotFormatError on anything malformed. */
  read(): AsyncIterableIterator<SnapshotRecord>;
}

/**
 * Opens and verifies a snapshot before a single record is handed out: the trailer must be where
 * it belongs and the SHA-256 of everything before it must match, so a truncated, corrupted or
 * half-written file is refused as a whole (the node then starts empty rather than half-warm with
 * garbage). Memory stays at one chunk and one record: the file is read twice, streaming.
 * Resolves undefined when there is no file (a first start).
 */
export async function openSnapshot(path: string): Promise<VerifiedSnapshot | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    if (size < HEADER_FIXED_BYTES + TRAILER_BYTES) throw new SnapshotFormatError(`file of ${size} bytes is too short to be a snapshot`);
    const trailer = decodeTrailer(await readAt(fh, size - TRAILER_BYTES, TRAILER_BYTES));
    const hash = createHash('sha256');
    for (let pos = 0; pos < size - TRAILER_BYTES; pos += CHUNK_BYTES)
      hash.update(await readAt(fh, pos, Math.min(CHUNK_BYTES, size - TRAILER_BYTES - pos)));
    if (!hash.digest().equals(trailer.sha256)) throw new SnapshotFormatError('checksum mismatch: the file is corrupt');
    const fixed = decodeHeaderFixed(await readAt(fh, 0, HEADER_FIXED_BYTES));
    const nodeId = (await readAt(fh, HEADER_FIXED_BYTES, fixed.nodeIdBytes)).toString('utf8');
    const header: SnapshotHeader = { mode: fixed.mode, writtenAtWallMs: fixed.writtenAtWallMs, nodeId };
    const start = HEADER_FIXED_BYTES + fixed.nodeIdBytes;
    const end = size - TRAILER_BYTES;
    await fh.close();
    return { header, records: trailer.records, bytes: size, read: () => readRecords(path, start, end, trailer.records) };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

async function* readRecords(path: string, start: number, end: number, expected: number): AsyncIterableIterator<SnapshotRecord> {
  const fh = await open(path, 'r');
  try {
    let buf: Buffer = Buffer.alloc(0);
    let pos = start;
    let count = 0;
    /** Ensures `n` unread bytes in `buf`, reading on from `pos`. */
    const fill = async (n: number) => {
      if (buf.length >= n) return;
      if (pos + (n - buf.length) > end) throw new SnapshotFormatError('a record runs past the end of the records');
      const more = await readAt(fh, pos, Math.max(n - buf.length, Math.min(CHUNK_BYTES, end - pos)));
      pos += more.length;
      buf = buf.length === 0 ? more : Buffer.concat([buf, more]);
    };
    while (pos < end || buf.length > 0) {
      await fill(4);
      const len = buf.readUInt32BE(0);
      if (len > MAX_RECORD_BYTES) throw new SnapshotFormatError(`record of ${len} bytes`);
      await fill(4 + len);
      const body = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      count++;
      yield decodeRecord(body);
    }
    if (count !== expected) throw new SnapshotFormatError(`${count} records, the trailer says ${expected}`);
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(b, got, length - got, position + got);
    if (bytesRead === 0) throw new SnapshotFormatError('the file ended early (changed while being read?)');
    got += bytesRead;
  }
  return b;
}
