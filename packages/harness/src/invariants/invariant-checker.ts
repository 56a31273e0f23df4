import type { InvariantResult, StepReport } from '../report/report-types';
import type { Scenario } from '../scenario/scenario-types';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Turns the measurements into pass/fail lines, one per (invariant, step), so a reader sees which
 * step broke which promise:
 *
 * - no key lost, for steps that must not lose any (add, graceful remove, drained restart, heal,
 *   or any step marked `expect: no-loss`);
 * - keys moved within the tolerance of the ring's ideal (the keys whose owner changed), for add,
 *   remove and drained restart; the balanced-ring figure is shown beside it;
 * - the hit ratio's dip below its level just before the step within the bound, every step;
 * - membership converged (and the handoff finished) within the bound, every step;
 * - over the run: no version regression, stale reads within the bound.
 */
export class InvariantChecker {
  constructor(private readonly scenario: Scenario) {}

  check(steps: readonly StepReport[], run: { regressions: number; staleReads: number; l1: string; aborted?: string }): InvariantResult[] {
    const out: InvariantResult[] = [];
    const b = this.scenario.bounds;
    const stepsByIndex = new Map(this.scenario.timeline.map((s) => [s.index, s]));
    for (const r of steps) {
      const spec = stepsByIndex.get(r.index);
      const line = (name: string, pass: boolean, expected: string, actual: string) =>
        out.push({ name, step: r.index, stepLabel: r.label, pass, expected, actual });
      if (r.error) line('step carried out', false, 'the action succeeds', r.error);
      if (r.noLoss)
        line('no key lost', r.lost === 0, '0 acknowledged keys gone',
          `${r.lost}${r.unavailable > 0 ? ` (and ${r.unavailable} missed but readable again later)` : ''}`);
      if (r.moved)
        line(`keys moved within ${pct(b.movedTolerance)} of ideal`, r.moved.deviation <= b.movedTolerance,
          `${r.moved.ringIdeal} ± ${Math.round(r.moved.ringIdeal * b.movedTolerance)}`,
          `${r.moved.actual} (${r.moved.actual >= r.moved.ringIdeal ? '+' : '−'}${pct(r.moved.deviation)}; ` +
          `a balanced ring would move ${r.moved.balanced}, this one ${r.moved.ringImbalance >= 0 ? '+' : '−'}${pct(Math.abs(r.moved.ringImbalance))})`);
      const dipBound = spec?.hitRatioDip ?? b.hitRatioDip;
      const dip = r.hitRatio.dip;
      line('hit ratio dip within bound', dip === null || dip <= dipBound, `≤ ${pct(dipBound)} below ${r.hitRatio.before === null ? 'the ratio before' : pct(r.hitRatio.before)}`,
        dip === null ? 'no reads to judge' : `${pct(dip)} (lowest ${pct(r.hitRatio.min!)})`);
      const bound = spec?.convergeMs ?? b.convergeMs;
      const c = r.convergence;
      line('membership converged within bound', c !== null && c.ringMs !== null && c.handoffMs !== null && c.handoffMs <= bound, `ring and handoff ≤ ${sec(bound)}`,
        c === null ? 'not measured' : c.ringMs === null ? `ring not converged: ${c.lastDisagreement ?? '?'}` :
          c.handoffMs === null ? `ring ${sec(c.ringMs)}, handoff not finished` : `ring ${sec(c.ringMs)}, handoff ${sec(c.handoffMs)}`);
    }
    const whole = (name: string, pass: boolean, expected: string, actual: string) => out.push({ name, step: null, stepLabel: null, pass, expected, actual });
    whole('no version regression', run.regressions === 0, '0 keys settled on an older value than acknowledged', String(run.regressions));
    whole('stale reads within bound', run.staleReads <= b.staleReads, `≤ ${b.staleReads} (L1 ${run.l1})`, String(run.staleReads));
    if (run.aborted) whole('run completed', false, 'every step ran', run.aborted);
    return out;
  }
}
