import * as hdr from 'hdr-histogram-js';

/** One client connection's view for a load run: a function that performs one op. */
export interface LoadTarget {
  op: (i: number) => Promise<unknown>;
}

export interface LoadResult {
  ops: number;
  errors: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** This process's CPU (user + system) per op, µs: what a client costs, whatever the machine's drift does to throughput. */
  cpuUsPerOp?: number;
}

/**
 * Closed-loop load: every connection keeps `depth` requests in flight until `durationMs` or
 * `maxOps` is reached (both bound the loop). Latency is recorded per op in microseconds.
 */
export async function runLoad(targets: LoadTarget[], depth: number, durationMs: number, maxOps: number): Promise<LoadResult> {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let ops = 0;
  let errors = 0;
  let issued = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const worker = async (t: LoadTarget) => {
    while (issued < maxOps && performance.now() < deadline) {
      const i = issued++;
      const s = performance.now();
      try {
        await t.op(i);
        ops++;
      } catch {
        errors++;
      }
      h.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)));
    }
  };
  await Promise.all(targets.flatMap((t) => Array.from({ length: depth }, () => worker(t))));
  const elapsed = (performance.now() - t0) / 1000;
  const r: LoadResult = {
    ops, errors, opsPerSec: ops / elapsed,
    p50Us: h.getValueAtPercentile(50), p99Us: h.getValueAtPercentile(99), maxUs: h.maxValue,
  };
  h.destroy();
  return r;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median of each field over runs (each field independently, as benchmark tables report). */
export function medianResult(rs: readonly LoadResult[]): LoadResult {
  const f = (k: keyof LoadResult) => median(rs.map((r) => r[k] ?? 0));
  const cpu = rs.every((r) => r.cpuUsPerOp !== undefined) ? { cpuUsPerOp: f('cpuUsPerOp') } : {};
  return { ops: f('ops'), errors: f('errors'), opsPerSec: f('opsPerSec'), p50Us: f('p50Us'), p99Us: f('p99Us'), maxUs: f('maxUs'), ...cpu };
}
