import type { CommandRecord } from '../cluster/cluster-commands';
import type { Convergence } from '../cluster/convergence';
import type { MoveFigures } from '../measure/ideal-moves';
import type { Regression } from '../measure/key-sweep';
import type { Scenario } from '../scenario/scenario-types';
import type { L1Status } from '../workload/l1-support';
import type { LostKey, StaleRead } from '../workload/key-ledger';

/** A workload client switched rings (epoch, members by state) or one of its breakers changed state. */
export type ClientEvent =
  | { atMs: number; wall: number; client: string; kind: 'topology'; epoch: number; members: string[] }
  | { atMs: number; wall: number; client: string; kind: 'breaker'; node: string; state: string };

/** One node as the sampler saw it. */
export type NodeSample =
  | {
    keys: number;
    epoch: number;
    ringMembers: number;
    fingerprint: number;
    /** Members this node counts as alive or suspect (its own view of the cluster). */
    live: number;
    /** Its view by state, e.g. { alive: 3, dead: 1 }. */
    view: Record<string, number>;
    /** Keys planned in its current handoff pass and not sent yet; arcs it still waits for. */
    handoffLeft: number;
    pendingArcs: number;
  }
  | { unreachable: string };

/** One sampling window. Times are seconds since the run started. */
export interface Sample {
  t: number;
  step: number;
  opsPerSec: number;
  reads: number;
  writes: number;
  hitRatio: number | null;
  l1HitRatio: number | null;
  p50: number | null;
  p99: number | null;
  max: number | null;
  errors: Record<string, number>;
  originLoads: number;
  staleReads: number;
  /** Reads that missed an acknowledged key (lost or only unavailable for a while). */
  missedAcked: number;
  skipped: number;
  nodes: Record<string, NodeSample>;
}

export interface StepReport {
  index: number;
  label: string;
  kind: string;
  source: string;
  /** Seconds since the run started. */
  startedAt: number;
  endedAt: number;
  noLoss: boolean;
  membersBefore: string[];
  membersAfter: string[];
  keysBefore: Record<string, number>;
  keysAfter: Record<string, number>;
  convergence: Convergence | null;
  moved: MoveFigures | null;
  /** Acknowledged keys found missing during the step that never turned up again. */
  lost: number;
  /** Acknowledged keys found missing during the step that were readable again later (a miss, not a loss). */
  unavailable: number;
  regressions: Regression[];
  staleReads: number;
  /** Warm-up baseline, the ratio just before the step, the lowest window during it, and before − lowest. */
  hitRatio: { baseline: number | null; before: number | null; min: number | null; dip: number | null };
  commands: CommandRecord[];
  notes: string[];
  error?: string;
}

export interface InvariantResult {
  name: string;
  /** Step index, or null for the whole run. */
  step: number | null;
  stepLabel: string | null;
  pass: boolean;
  expected: string;
  actual: string;
}

export interface Report {
  version: 1;
  scenario: Scenario;
  scenarioFile: string;
  startedAt: string;
  durationS: number;
  hostMode: 'loopback' | 'netns';
  hosts: Record<string, { id: string; logFile: string }>;
  l1: L1Status;
  baselineHitRatio: number | null;
  samples: Sample[];
  steps: StepReport[];
  invariants: InvariantResult[];
  lostKeys: LostKey[];
  /** Lost keys beyond the ones listed (the list is capped). */
  lostKeysOmitted: number;
  /**
   * Every stale read (up to a cap): the key, the reading client, its ring epoch and the key's owner
   * in it, the key's last acknowledged writes (client, epoch, owner, version, times) and what each
   * node held for the key right after. Absent in reports from before it was recorded.
   */
  staleReadList?: StaleRead[];
  /** The workload clients' ring changes and breaker transitions, in order (times as in samples, plus wall-clock ms). */
  clientEvents?: ClientEvent[];
  totals: { ops: number; reads: number; writes: number; originLoads: number; staleReads: number; lost: number; unavailable: number; errors: Record<string, number>; evictions: number };
  passed: boolean;
  /** Set when the run stopped early (Ctrl-C, a step that could not be carried out). */
  aborted?: string;
}
