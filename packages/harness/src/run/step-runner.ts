import type { Corral } from '@corral/client';
import { awaitConvergence } from '../cluster/convergence';
import type { NodeStatusView } from '../cluster/node-status';
import { balancedMoves, moveFigures, type MoveFigures } from '../measure/ideal-moves';
import { sweepKeys, type SweepResult } from '../measure/key-sweep';
import type { StepReport } from '../report/report-types';
import type { Scenario, Step } from '../scenario/scenario-types';
import type { KeyLedger } from '../workload/key-ledger';
import type { KeySpace } from '../workload/key-space';
import type { ValueCodec } from '../workload/value-codec';
import { performAction, sleep, StepActionError, type ActionContext } from './step-actions';

export interface StepRunnerOptions extends ActionContext {
  scenario: Scenario;
  client: Corral;
  keys: KeySpace;
  ledger: KeyLedger;
  codec: ValueCodec;
  /** ms since the run started. */
  now: () => number;
  onPhase?: (step: Step, phase: string) => void;
}

interface HostFigures { pid: number; keys: number; sent: number }

/**
 * Runs one timeline step and measures it: the action, then the time until the ring converged
 * and the handoff finished, a short settle, then every key read back. Keys per node and the
 * nodes' handoff counters are taken before and after, which gives the keys moved; the rings before
 * and after give the ideal to compare them with.
 */
export class StepRunner {
  constructor(private readonly o: StepRunnerOptions) {}

  async run(step: Step): Promise<{ report: StepReport; sweep: SweepResult | undefined }> {
    const { cluster, scenario } = this.o;
    const startedAt = this.o.now();
    const t0 = performance.now();
    const membersBefore = cluster.up().map((h) => h.name);
    const before = await this.figures();
    const report: StepReport = {
      index: step.index, label: step.label, kind: step.kind, source: step.source, startedAt: s(startedAt), endedAt: 0, noLoss: step.noLoss,
      membersBefore, membersAfter: [], keysBefore: mapValues(before, (f) => f.keys), keysAfter: {},
      convergence: null, moved: null, lost: 0, unavailable: 0, regressions: [], staleReads: 0,
      hitRatio: { baseline: null, before: null, min: null, dip: null }, commands: [], notes: [],
    };
    let sweep: SweepResult | undefined;
    try {
      this.o.onPhase?.(step, 'acting');
      const outcome = await performAction(step, this.o);
      report.commands = outcome.commands;
      report.notes.push(...outcome.notes);
      this.o.onPhase?.(step, 'converging');
      const bound = step.convergeMs ?? scenario.bounds.convergeMs;
      // A wait is not a change: what matters is whether the cluster is (still) converged once it is over.
      const from = step.kind === 'wait' ? performance.now() : t0;
      report.convergence = await awaitConvergence(this.o.links, cluster.up().map((h) => h.id), from, bound, this.o.signal);
      // A member restarted from its snapshot is back in every ring: its keys count again.
      this.o.ledger.plannedAway.clear();
      this.o.onPhase?.(step, 'settling');
      await sleep(scenario.settleMs, this.o.signal);
      this.o.onPhase?.(step, 'reading every key back');
      sweep = await sweepKeys({ client: this.o.client, keys: this.o.keys, ledger: this.o.ledger, codec: this.o.codec, now: this.o.now, step: step.index, timeoutMs: scenario.workload.timeoutMs });
      report.regressions = sweep.regressions;
      if (sweep.errors > 0) report.notes.push(`${sweep.errors} reads of the sweep failed (errors, not misses)`);
    } catch (e) {
      this.o.ledger.plannedAway.clear();
      report.error = e instanceof StepActionError ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
    }
    const after = await this.figures();
    report.keysAfter = mapValues(after, (f) => f.keys);
    report.membersAfter = cluster.up().map((h) => h.name);
    report.moved = this.moves(step, before, after, report);
    report.endedAt = s(this.o.now());
    return { report, sweep };
  }

  /** Keys, handoff counter and pid of every node that answers. */
  private async figures(): Promise<Map<string, HostFigures>> {
    const hosts = this.o.cluster.running();
    const st = await this.o.links.statuses(hosts.map((h) => h.id), 1000);
    const out = new Map<string, HostFigures>();
    for (const h of hosts) {
      const v = st.get(h.id);
      if (v && !(v instanceof Error)) out.set(h.name, { pid: h.proc!.pid, keys: (v as NodeStatusView).keys, sent: v.handoff.sentTotal });
    }
    return out;
  }

  private moves(step: Step, before: Map<string, HostFigures>, after: Map<string, HostFigures>, report: StepReport): MoveFigures | null {
    if (step.kind !== 'add' && step.kind !== 'remove' && !(step.kind === 'restart' && step.mode === 'drain')) return null;
    if (report.error) return null;
    let actual = 0;
    // A node's counter is only comparable within one process; a node started during the step counts from 0
    // (keys a new node passes on to the next one added are moves too); a drained node reports its own in the summary.
    for (const [name, a] of after) {
      const b = before.get(name);
      if (!b) actual += a.sent;
      else if (a.pid === b.pid) actual += a.sent - b.sent;
      else actual += a.sent;
    }
    for (const c of report.commands) {
      const moved = (c.summary?.['moved'] as { keys?: unknown } | undefined)?.keys;
      if (c.argv[2] === 'remove' && typeof moved === 'number') actual += moved;
    }
    const keys = [...before.values()].reduce((n, f) => n + f.keys, 0);
    const beforeIds = report.membersBefore.map((n) => this.o.cluster.get(n).id);
    const afterIds = report.membersAfter.map((n) => this.o.cluster.get(n).id);
    const n = report.membersBefore.length;
    const names = Array.from({ length: this.o.keys.size }, (_x, i) => this.o.keys.key(i));
    const vnodes = this.o.scenario.cluster.vnodes;
    if (step.kind === 'add') {
      const added = step.hosts.map((h) => this.o.cluster.get(h).id);
      const rings = added.map((_id, j) => [...beforeIds, ...added.slice(0, j + 1)]);
      return moveFigures({ actual, keysBefore: keys, rings: [beforeIds, ...rings], balanced: balancedMoves('add', keys, n, step.hosts.length), keyNames: names, ...(vnodes && { vnodes }) });
    }
    if (step.kind === 'remove')
      return moveFigures({ actual, keysBefore: keys, rings: [beforeIds, afterIds], balanced: balancedMoves('remove', keys, n), keyNames: names, ...(vnodes && { vnodes }) });
    const without = beforeIds.filter((id) => id !== this.o.cluster.get(step.host).id);
    return moveFigures({ actual, keysBefore: keys, rings: [beforeIds, without, afterIds], balanced: balancedMoves('restart', keys, n), keyNames: names, ...(vnodes && { vnodes }) });
  }
}

const s = (ms: number) => Math.round(ms) / 1000;

function mapValues<V, R>(m: Map<string, V>, f: (v: V) => R): Record<string, R> {
  return Object.fromEntries([...m].map(([k, v]) => [k, f(v)]));
}
