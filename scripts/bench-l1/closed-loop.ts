import * as hdr from 'hdr-histogram-js';
import type { LoadResult } from '../bench/load';

/**
 * A closed loop of `concurrency` workers, each issuing op(i) and awaiting it, until `durationMs`.
 * Leaner than bench/load.ts's runLoad (one clock read per op instead of three: the end of one op is
 * the start of the next), because at a million L1 hits a second the harness would otherwise cost
 * as much as what it measures. Every system in the run goes through this same loop.
 */
export async function closedLoop(op: (i: number) => unknown, concurrency: number, durationMs: number): Promise<LoadResult> {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
  let ops = 0;
  let errors = 0;
  let issued = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const worker = async () => {
    let start = performance.now();
    while (start < deadline) {
      try {
        await op(issued++);
        ops++;
      } catch {
        errors++;
      }
      const end = performance.now();
      h.recordValue(Math.max(1, Math.round((end - start) * 1000)));
      start = end;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const r: LoadResult = { ops, errors, opsPerSec: ops / elapsed, p50Us: h.getValueAtPercentile(50), p99Us: h.getValueAtPercentile(99), maxUs: h.maxValue };
  h.destroy();
  return r;
}
