import type { Sample, StepReport } from './report-types';

export interface ProgressContext { totalSteps: number; stepLabel: string; phase: string; missed: number; expectedMembers: number }

/**
 * The live view while a scenario runs. On a terminal, one status line redrawn at every sample
 * (elapsed time, step and phase, throughput, hit ratio, p99, members as each node sees them,
 * keys still moving) with a permanent line per finished step above it. Anything else (CI logs,
 * a pipe) gets a status line every few seconds and the step lines, no control codes.
 */
export class ProgressDisplay {
  private readonly tty: boolean;
  private lastPlain = 0;
  private drawn = false;

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, private readonly quiet = false) {
    this.tty = out.isTTY === true;
  }

  line(text: string): void {
    if (this.quiet) return;
    this.clear();
    this.out.write(`${text}\n`);
  }

  sample(s: Sample, ctx: ProgressContext): void {
    if (this.quiet) return;
    const text = statusLine(s, ctx);
    if (this.tty) {
      const width = Math.max(40, (this.out.columns ?? 120) - 1);
      this.out.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.drawn = true;
    } else if (s.t - this.lastPlain >= 5) {
      this.lastPlain = s.t;
      this.out.write(`${text}\n`);
    }
  }

  /** `missing`: acknowledged keys found missing during the step so far (the step's final figures come after the run). */
  stepDone(r: StepReport, missing: number): void {
    const c = r.convergence;
    const ok = !r.error && (!r.noLoss || missing === 0) && c?.handoffMs !== null;
    this.line(`${ok ? '✔' : '✘'} s${r.index} ${r.label}: ` + (r.error ? r.error : [
      c?.ringMs != null ? `ring ${(c.ringMs / 1000).toFixed(2)}s` : 'ring NOT converged',
      c?.handoffMs != null ? `handoff ${(c.handoffMs / 1000).toFixed(2)}s` : 'handoff not finished',
      r.moved ? `moved ${r.moved.actual} (ideal ${r.moved.ringIdeal})` : '',
      `acknowledged keys missed ${missing}`,
      r.regressions.length ? `regressions ${r.regressions.length}` : '',
    ].filter(Boolean).join(', ')));
  }

  clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}

function statusLine(s: Sample, ctx: ProgressContext): string {
  const views = Object.entries(s.nodes).map(([n, v]) => ('unreachable' in v ? `${n}:✗` : `${n}:${v.live}`)).join(' ');
  const moving = Object.values(s.nodes).reduce((k, v) => k + ('unreachable' in v ? 0 : v.handoffLeft), 0);
  const errs = Object.values(s.errors).reduce((a, b) => a + b, 0);
  return [
    `[${s.t.toFixed(1).padStart(6)}s]`,
    s.step < 0 ? 'warm-up' : `s${s.step} of ${ctx.totalSteps} ${ctx.stepLabel} (${ctx.phase})`,
    `${Math.round(s.opsPerSec)} ops/s`,
    `hit ${s.hitRatio === null ? '—' : `${(s.hitRatio * 100).toFixed(1)}%`}`,
    `p99 ${s.p99 === null ? '—' : `${s.p99.toFixed(1)}ms`}`,
    errs > 0 ? `errors ${errs}` : '',
    `views ${views} (want ${ctx.expectedMembers})`,
    moving > 0 ? `moving ${moving}` : '',
    ctx.missed > 0 ? `acked keys missed ${ctx.missed}` : '',
  ].filter(Boolean).join(' | ');
}
