/**
 * Figures over the merged 100 ms buckets of the thundering-herd benchmark. A phase is a range of
 * buckets [from, to); rates are per second over a sliding one-second window kept inside the phase.
 */
export const BUCKET_MS = 100;
const PER_SECOND = 1000 / BUCKET_MS;

export function sumInto(into: number[], add: readonly number[]): void {
  for (let i = 0; i < add.length; i++) into[i] = (into[i] ?? 0) + add[i]!;
}

/** The highest count in any one-second window that lies within [from, to) (a shorter phase: its whole length, scaled to /s). */
export function peakPerSecond(counts: readonly number[], from: number, to: number): number {
  let peak = 0;
  const span = Math.min(PER_SECOND, Math.max(1, to - from));
  for (let end = from + span; end <= to; end++) {
    let n = 0;
    for (let i = end - span; i < end; i++) n += counts[i] ?? 0;
    peak = Math.max(peak, (n * PER_SECOND) / span);
  }
  return peak;
}

/** Fraction of calls in [from, to) that did not reach the origin. */
export function hitRatio(calls: readonly number[], origin: readonly number[], from: number, to: number): number {
  let c = 0, o = 0;
  for (let i = from; i < to; i++) { c += calls[i] ?? 0; o += origin[i] ?? 0; }
  return c === 0 ? NaN : Math.max(0, 1 - o / c);
}

/**
 * The first bucket from `from` at which the hit ratio over the `window` buckets ending there is
 * back to `target`, or undefined. Returns the end of that window (a bucket index).
 */
export function recoveredAt(calls: readonly number[], origin: readonly number[], from: number, to: number, target: number, window = 5): number | undefined {
  for (let end = from + window; end <= to; end++) if (hitRatio(calls, origin, end - window, end) >= target) return end;
  return undefined;
}

export function maxIn(a: readonly number[], from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, a[i] ?? 0);
  return m;
}
