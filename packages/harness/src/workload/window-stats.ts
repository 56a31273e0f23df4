/** What the workload saw in one sampling window. */
export interface WindowFigures {
  ops: number;
  reads: number;
  /** Reads answered with a value by a node. */
  hits: number;
  /** Reads answered from the client's L1 (0 while the client has none). */
  l1Hits: number;
  misses: number;
  writes: number;
  staleReads: number;
  /** Reads that missed a key the ledger says must exist. */
  missedAcked: number;
  originLoads: number;
  /** Operations the load generator could not start because too many were in flight (it fell behind). */
  skipped: number;
  errors: Record<string, number>;
  latency: { p50: number; p99: number; max: number } | null;
}

/**
 * Counters for the current window plus the latencies of every finished operation in it. Windows
 * are short (a sample interval), so keeping the raw latencies and sorting once per window is
 * cheaper and more exact than a histogram.
 */
export class WindowStats {
  private f = blank();
  private latencies: number[] = [];

  count(field: Exclude<keyof WindowFigures, 'errors' | 'latency'>, n = 1): void {
    this.f[field] += n;
  }

  error(code: string): void {
    this.f.errors[code] = (this.f.errors[code] ?? 0) + 1;
  }

  latency(ms: number): void {
    this.latencies.push(ms);
  }

  /** Closes the window and starts the next one. */
  take(): WindowFigures {
    const out = this.f;
    const l = this.latencies.sort((a, b) => a - b);
    out.latency = l.length === 0 ? null : { p50: quantile(l, 0.5), p99: quantile(l, 0.99), max: l[l.length - 1]! };
    this.f = blank();
    this.latencies = [];
    return out;
  }
}

function blank(): WindowFigures {
  return { ops: 0, reads: 0, hits: 0, l1Hits: 0, misses: 0, writes: 0, staleReads: 0, missedAcked: 0, originLoads: 0, skipped: 0, errors: {}, latency: null };
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
