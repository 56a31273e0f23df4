import type { Host } from '../cluster/harness-cluster';
import { InvariantChecker } from '../invariants/invariant-checker';
import { baselineHitRatio, fillStepFigures } from '../measure/step-figures';
import type { Scenario } from '../scenario/scenario-types';
import type { LostKey, StaleRead } from '../workload/key-ledger';
import type { L1Status } from '../workload/l1-support';
import type { ClientEvent, Report, Sample, StepReport } from './report-types';

/** Listed lost keys per report; the counts are always exact. */
const MAX_LOST_LISTED = 500;
/** Stale reads listed, each with its trace. */
const MAX_STALE_LISTED = 200;

export interface RunRecordings {
  scenario: Scenario;
  scenarioFile: string;
  startedAt: string;
  durationS: number;
  hostMode: Report['hostMode'];
  /** In name order. */
  hosts: readonly Host[];
  l1: L1Status;
  samples: Sample[];
  steps: StepReport[];
  lost: readonly LostKey[];
  stale?: readonly StaleRead[];
  clientEvents?: readonly ClientEvent[];
  evictions: number;
  aborted: string | undefined;
}

/**
 * Turns what a run recorded into its report: the per-step figures that need the whole run (hit
 * ratio dips, stale reads, lost keys by step), the totals, and the invariants' verdicts.
 */
export function assembleReport(r: RunRecordings): Report {
  const baseline = baselineHitRatio(r.samples);
  fillStepFigures(r.steps, r.samples, r.lost, baseline);
  const totals: Report['totals'] = {
    ops: 0, reads: 0, writes: 0, originLoads: 0, staleReads: 0,
    lost: r.lost.filter((k) => !k.cameBack).length, unavailable: r.lost.filter((k) => k.cameBack).length, errors: {}, evictions: r.evictions,
  };
  for (const s of r.samples) {
    totals.reads += s.reads;
    totals.writes += s.writes;
    totals.originLoads += s.originLoads;
    totals.staleReads += s.staleReads;
    for (const [k, v] of Object.entries(s.errors)) totals.errors[k] = (totals.errors[k] ?? 0) + v;
  }
  totals.ops = totals.reads + totals.writes;
  const invariants = new InvariantChecker(r.scenario).check(r.steps, {
    regressions: r.steps.reduce((n, s) => n + s.regressions.length, 0), staleReads: totals.staleReads,
    l1: r.l1.available ? 'on' : r.l1.requested ? 'unavailable' : 'off', ...(r.aborted !== undefined && { aborted: r.aborted }),
  });
  return {
    version: 1, scenario: r.scenario, scenarioFile: r.scenarioFile, startedAt: r.startedAt, durationS: r.durationS, hostMode: r.hostMode,
    hosts: Object.fromEntries(r.hosts.map((h) => [h.name, { id: h.id, logFile: h.logFile }])),
    l1: r.l1, baselineHitRatio: baseline, samples: r.samples, steps: r.steps, invariants,
    lostKeys: listedLost(r.lost, r.steps), lostKeysOmitted: Math.max(0, r.lost.length - MAX_LOST_LISTED),
    ...(r.stale && { staleReadList: r.stale.slice(0, MAX_STALE_LISTED) }),
    ...(r.clientEvents && { clientEvents: [...r.clientEvents] }),
    totals, passed: invariants.every((i) => i.pass), ...(r.aborted !== undefined && { aborted: r.aborted }),
  };
}

/**
 * The lost keys the report lists: those of steps that must lose nothing first (they are what a
 * failing "no key lost" row is about), then the losses a step expects by nature (a partition, a
 * SIGKILL), each group in the order found, at most MAX_LOST_LISTED in all.
 */
function listedLost(lost: readonly LostKey[], steps: readonly StepReport[]): LostKey[] {
  const noLoss = new Set(steps.filter((s) => s.noLoss).map((s) => s.index));
  const first = lost.filter((k) => noLoss.has(k.step));
  const rest = lost.filter((k) => !noLoss.has(k.step));
  return [...first, ...rest].slice(0, MAX_LOST_LISTED);
}
