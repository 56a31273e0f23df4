import * as hdr from 'hdr-histogram-js';
import type { LoadResult } from '../bench/load';

const CHUNK = 1 << 20;

/**
 * A closed loop of `concurrency` workers, each issuing op(i) and awaiting it, until `durationMs`.
 * Leaner than bench/load.ts's runLoad, because at a million L1 hits a second the harness would
 * otherwise cost as much as what it measures: one clock read per op (the end of one op is the
 * start of the next), and each latency is stored in a typed array during the run and put into the
 * HDR histogram after it (hdr-histogram-js's recordValue costs ~0.1 µs, a tenth of an L1 hit).
 * Every system in the run goes through this same loop.
 */
export async function closedLoop(op: (i: number) => unknown, concurrency: number, durationMs: number): Promise<LoadResult> {
  const chunks: Uint32Array[] = [new Uint32Array(CHUNK)];
  let chunk = chunks[0]!;
  let at = 0;
  let ops = 0;
  let errors = 0;
  let issued = 0;
  const cpu0 = process.cpuUsage();
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
      if (at === CHUNK) { chunk = new Uint32Array(CHUNK); chunks.push(chunk); at = 0; }
      chunk[at++] = (end - start) * 1000 + 0.5; // µs, rounded (the store truncates)
      start = end;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
  for (const c of chunks) {
    const n = c === chunk ? at : CHUNK;
    for (let k = 0; k < n; k++) h.recordValue(Math.min(60_000_000, Math.max(1, c[k]!)));
  }
  const r: LoadResult = {
    ops, errors, opsPerSec: ops / elapsed, p50Us: h.getValueAtPercentile(50), p99Us: h.getValueAtPercentile(99), maxUs: h.maxValue,
    cpuUsPerOp: (cpu.user + cpu.system) / Math.max(1, ops),
  };
  h.destroy();
  return r;
}
