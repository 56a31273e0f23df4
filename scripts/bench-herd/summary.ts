/** What one variant of the thundering-herd benchmark measured, from the workers' 100 ms buckets. */
import { BUCKET_MS, hitRatio, maxIn, peakPerSecond, recoveredAt, sumInto } from './series';

export interface WorkerResult { calls: number[]; origin: number[]; errors: number[]; peakConc: number[]; breaker: Array<[number, string]> }

/** Wall-clock moments of the restart: SIGTERM sent, all three listening again. */
export interface Timeline { startAt: number; tStop: number; tUp: number }

export interface Row {
  variant: string; restored: number;
  /** Hit ratio and peak database calls per second over the 3 s before the restart. */
  steadyHit: number; steadyPeak: number;
  /** SIGTERM → all three nodes listening. */
  downMs: number;
  /** SIGTERM → every client's cache breaker closed again, the cluster up (undefined: some never closed). */
  bypassMs: number | undefined;
  bypassPeak: number; bypassConc: number; backPeak: number; backConc: number;
  /** Database calls from SIGTERM to the end. */
  restartOrigin: number;
  /** Cluster up → the first 500 ms window with a hit ratio >= 0.9 × steady. */
  recoverMs: number | undefined;
  errors: number;
}

/**
 * When a client was using the cache again: its breaker's last change after the cluster was up, if
 * that was a close; the moment the cluster was up, if its breaker was closed then and stayed so;
 * undefined if it ended anything but closed.
 */
function backOnCache(changes: Array<[number, string]>, tUp: number): number | undefined {
  const after = changes.filter(([t]) => t >= tUp);
  const last = after[after.length - 1] ?? changes.filter(([t]) => t < tUp).pop();
  if (last !== undefined && last[1] !== 'closed') return undefined;
  return after.length === 0 ? tUp : last![0];
}

export function summarize(variant: string, restored: number, results: WorkerResult[], t: Timeline, debug: boolean): Row {
  const calls: number[] = [], origin: number[] = [], errors: number[] = [], conc: number[] = [];
  for (const r of results) { sumInto(calls, r.calls); sumInto(origin, r.origin); sumInto(errors, r.errors); sumInto(conc, r.peakConc); }
  const b = (at: number) => Math.max(0, Math.floor((at - t.startAt) / BUCKET_MS));
  const backs = results.map((r) => backOnCache(r.breaker, t.tUp));
  const tBack = backs.includes(undefined) ? Infinity : Math.max(t.tUp, ...(backs as number[]));
  const bEnd = calls.length;
  const bStop = b(t.tStop), bUp = Math.max(b(t.tUp), bStop + 1), bBack = Math.min(bEnd, Math.max(b(tBack), bUp));
  const bSteady = Math.max(0, bStop - 3_000 / BUCKET_MS);
  if (debug) {
    process.stderr.write(`stop@${bStop} up@${bUp} back@${bBack} breakers ${JSON.stringify(results.map((r) => r.breaker.map(([at, s]) => `${b(at)}:${s}`)))}\n`);
    process.stderr.write(`${Array.from({ length: bEnd - bStop }, (_, i) => `${bStop + i}:${calls[bStop + i] ?? 0}/${origin[bStop + i] ?? 0}`).join(' ')}\n`);
  }
  const steadyHit = hitRatio(calls, origin, bSteady, bStop);
  const back = recoveredAt(calls, origin, bUp, bEnd, 0.9 * steadyHit);
  const total = (a: number[], from: number) => a.slice(from).reduce((s, x) => s + (x ?? 0), 0);
  return {
    variant, restored, steadyHit, steadyPeak: peakPerSecond(origin, bSteady, bStop),
    downMs: t.tUp - t.tStop, bypassMs: Number.isFinite(tBack) ? tBack - t.tStop : undefined,
    bypassPeak: peakPerSecond(origin, bStop, bBack), bypassConc: maxIn(conc, bStop, bBack),
    backPeak: peakPerSecond(origin, bBack, bEnd), backConc: maxIn(conc, bBack, bEnd),
    restartOrigin: total(origin, bStop), recoverMs: back === undefined ? undefined : back * BUCKET_MS + t.startAt - t.tUp,
    errors: total(errors, bStop),
  };
}
