import type { Sample, StepReport } from '../report/report-types';
import type { LostKey } from '../workload/key-ledger';

/** A window with fewer reads than this says more about chance than about the cluster; it is left out of the minimum. */
const MIN_READS = 10;

/** Hit ratio over the warm-up windows (before the first step), weighted by reads. */
export function baselineHitRatio(samples: readonly Sample[]): number | null {
  let reads = 0;
  let hits = 0;
  for (const s of samples) {
    if (s.step !== -1 || s.hitRatio === null) continue;
    reads += s.reads;
    hits += s.hitRatio * s.reads;
  }
  return reads > 0 ? round4(hits / reads) : null;
}

/**
 * Fills the per-step figures that come from the whole run's measurements: the lowest hit ratio of
 * any window during the step and its dip below the hit ratio just before the step (the last two
 * windows; the warm-up baseline for the first step), so that a step is judged by what it did and
 * not by the aftermath of the one before (a crash's misses go on while the cold keys refill), the stale reads of its windows, and
 * the acknowledged keys found missing during it: lost, or only unavailable when they turned up again later.
 */
export function fillStepFigures(steps: StepReport[], samples: readonly Sample[], lost: readonly LostKey[], baseline: number | null): void {
  for (const step of steps) {
    const mine = samples.filter((s) => s.step === step.index);
    const usable = mine.filter((s) => s.hitRatio !== null && s.reads >= MIN_READS);
    const min = usable.length > 0 ? Math.min(...usable.map((s) => s.hitRatio!)) : null;
    const prior = samples.filter((s) => s.t <= step.startedAt && s.hitRatio !== null && s.reads >= MIN_READS).slice(-2);
    const before = prior.length > 0 ? weighted(prior) : baseline;
    step.hitRatio = { baseline, before, min, dip: min === null || before === null ? null : round4(Math.max(0, before - min)) };
    step.staleReads = mine.reduce((n, s) => n + s.staleReads, 0);
    const lostHere = lost.filter((k) => k.step === step.index);
    step.unavailable = lostHere.filter((k) => k.cameBack).length;
    step.lost = lostHere.length - step.unavailable;
  }
}

function weighted(samples: readonly Sample[]): number {
  const reads = samples.reduce((n, s) => n + s.reads, 0);
  return round4(samples.reduce((n, s) => n + s.hitRatio! * s.reads, 0) / reads);
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
