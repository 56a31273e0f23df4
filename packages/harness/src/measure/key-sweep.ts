import type { Corral } from '@corral/client';
import type { KeyLedger } from '../workload/key-ledger';
import type { KeySpace } from '../workload/key-space';
import type { ValueCodec } from '../workload/value-codec';

/** A key whose settled value is older than its last acknowledged write. */
export interface Regression { key: string; readSeq: number; ackedSeq: number; readVersion: number; ackedVersion: number }

export interface SweepResult {
  readable: number;
  /** Keys that should exist and were not found (first found in this sweep: newly lost). */
  newlyLost: number;
  /** Keys the ledger already counted as lost that are still missing. */
  stillMissing: number;
  regressions: Regression[];
  errors: number;
  ms: number;
}

const CONCURRENCY = 64;

/**
 * Reads every key of the run back once the cluster settled after a step, as the application
 * would (through the client, routed by the ring). The workload only reads what its distribution
 * picks; the sweep makes the loss count exact for the cold keys too. It never refills: it is an
 * observer, so a key it finds missing stays missing until the workload rewrites it.
 */
export async function sweepKeys(o: { client: Corral; keys: KeySpace; ledger: KeyLedger; codec: ValueCodec; now: () => number; step: number; timeoutMs: number }): Promise<SweepResult> {
  const t0 = performance.now();
  const out: SweepResult = { readable: 0, newlyLost: 0, stillMissing: 0, regressions: [], errors: 0, ms: 0 };
  let next = 0;
  const worker = async () => {
    while (next < o.keys.size) {
      const i = next++;
      if (o.ledger.isWriting(i)) continue; // a write in flight makes "the last acknowledged value" a moving target
      const expected = o.ledger.expectation(i);
      const sentAt = o.now();
      let entry: { value: unknown; version: number } | undefined;
      try {
        entry = await o.client.gets(o.keys.key(i), { timeoutMs: o.timeoutMs });
      } catch {
        out.errors++;
        continue;
      }
      const decoded = entry === undefined ? undefined : o.codec.decode(entry.value) ?? 'foreign';
      const verdict = o.ledger.judge(i, sentAt, o.now(), expected, decoded, { step: o.step, detectedBy: 'sweep' });
      if (verdict === 'lost') out.newlyLost++;
      else if (verdict === 'miss' && expected.seq > 0) out.stillMissing++;
      else if (entry !== undefined && decoded !== undefined && decoded !== 'foreign') {
        out.readable++;
        if (o.ledger.regressed(i, decoded, expected, o.now()))
          out.regressions.push({ key: o.keys.key(i), readSeq: decoded.seq, ackedSeq: expected.seq, readVersion: entry.version, ackedVersion: o.ledger.ackedVersionOf(i) });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  out.ms = Math.round(performance.now() - t0);
  return out;
}
