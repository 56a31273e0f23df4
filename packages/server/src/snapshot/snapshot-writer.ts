import { createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodeHeader, encodeRecord, encodeTrailer, type SnapshotHeader, type SnapshotRecord } from './snapshot-format';

export interface WrittenSnapshot { records: number; bytes: number }

/** Writes are gathered into chunks of about this size: one syscall per chunk, not per key. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Writes a snapshot atomically: into a temporary file beside the target, fsync, then rename over
 * the target (and fsync the directory, so the rename itself survives a power cut). A crash at any
 * point leaves either the old snapshot or the new one, never half of one; the temporary file is
 * removed when the write fails.
 */
export async function writeSnapshotFile(path: string, header: SnapshotHeader, records: Iterable<SnapshotRecord>): Promise<WrittenSnapshot> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  let count = 0;
  let chunk: Buffer[] = [];
  let chunkBytes = 0;
  const flush = async () => {
    if (chunkBytes === 0) return;
    const b = Buffer.concat(chunk, chunkBytes);
    chunk = [];
    chunkBytes = 0;
    await fh.write(b);
  };
  const put = async (b: Buffer) => {
    hash.update(b);
    chunk.push(b);
    chunkBytes += b.length;
    bytes += b.length;
    if (chunkBytes >= CHUNK_BYTES) await flush();
  };
  try {
    await put(encodeHeader(header));
    for (const r of records) {
      await put(encodeRecord(r));
      count++;
    }
    await flush();
    const trailer = encodeTrailer(count, hash.digest());
    await fh.write(trailer);
    bytes += trailer.length;
    await fh.sync();
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDir(dirname(path));
  return { records: count, bytes };
}

/** Best effort: not every platform or filesystem lets a directory be opened and synced. */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  } catch { /* the rename is still atomic; only its durability across a power cut is weaker */ }
}
