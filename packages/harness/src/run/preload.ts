import type { Corral } from '@corral/client';
import type { KeyLedger } from '../workload/key-ledger';
import type { KeySpace } from '../workload/key-space';
import type { ValueCodec } from '../workload/value-codec';

const BATCH = 200;
const CONCURRENCY = 4;

/**
 * Writes every key once before the clock starts, so the run begins with a warm cache: every key
 * acknowledged, the ledger knows each one, and the baseline hit ratio is what a warm cache does.
 * A batch that fails is retried once; a second failure stops the run (the cluster is not healthy
 * enough to measure anything on).
 */
export async function preload(o: { client: Corral; keys: KeySpace; ledger: KeyLedger; codec: ValueCodec; ttlMs: number | undefined; now: () => number; timeoutMs: number }): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < o.keys.size) {
      const from = next;
      next = Math.min(o.keys.size, next + BATCH);
      const idx = Array.from({ length: next - from }, (_x, j) => from + j);
      const seqs = idx.map((i) => o.ledger.beginWrite(i, true)!);
      const entries = idx.map((i, j) => [o.keys.key(i), o.codec.encode(i, seqs[j]!)] as const);
      const sentAt = o.now();
      let versions: number[];
      try {
        versions = await o.client.mset(entries, { timeoutMs: o.timeoutMs, ...(o.ttlMs !== undefined && { ttlMs: o.ttlMs }) });
      } catch {
        versions = await o.client.mset(entries, { timeoutMs: o.timeoutMs * 5, ...(o.ttlMs !== undefined && { ttlMs: o.ttlMs }) });
      }
      const now = o.now();
      idx.forEach((i, j) => o.ledger.ackWrite(i, seqs[j]!, versions[j]!, sentAt, now, o.ttlMs, o.client.ownerOf(o.keys.key(i))));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}
