import type { Report } from './report-types';
import { textTable } from './text-table';

const sec = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(2)}s`);
const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

/** What `corral harness run` prints at the end: the steps, the invariants, the lost keys if any. */
export function summaryText(r: Report, paths?: { json: string; html: string }): string {
  const steps = textTable(
    ['step', 'action', 'members', 'ring', 'handoff', 'moved', 'ideal', 'balanced', 'lost', 'missed', 'regress', 'stale', 'min hit', 'dip'],
    r.steps.map((s) => [
      `s${s.index}`, s.label, `${s.membersBefore.length}→${s.membersAfter.length}`,
      sec(s.convergence?.ringMs), sec(s.convergence?.handoffMs),
      s.moved ? String(s.moved.actual) : '—', s.moved ? String(s.moved.ringIdeal) : '—', s.moved ? String(s.moved.balanced) : '—',
      String(s.lost), String(s.unavailable), String(s.regressions.length), String(s.staleReads), pct(s.hitRatio.min), pct(s.hitRatio.dip),
    ]),
  );
  const inv = textTable(['result', 'invariant', 'step', 'expected', 'measured'],
    r.invariants.map((i) => [i.pass ? 'pass' : 'FAIL', i.name, i.step === null ? 'run' : `s${i.step}`, i.expected, i.actual]));
  const t = r.totals;
  const lines = [
    `${r.scenario.name}: ${r.passed ? 'PASSED' : 'FAILED'} in ${r.durationS.toFixed(1)} s (${r.hostMode} hosts; L1 ${r.l1.note})`,
    '',
    steps,
    '',
    `baseline hit ratio ${pct(r.baselineHitRatio)}; ${t.ops} ops (${t.reads} reads, ${t.writes} writes), ${t.originLoads} origin loads, ` +
      `${t.lost} keys lost, ${t.unavailable} missed but back later, ${t.staleReads} stale reads, errors ${Object.entries(t.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}` +
      `${t.evictions > 0 ? `, ${t.evictions} evictions (losses may include them)` : ''}`,
    '',
    inv,
  ];
  const failedLoss = r.steps.filter((s) => s.noLoss && s.lost > 0);
  if (failedLoss.length > 0) {
    const keys = r.lostKeys.filter((k) => !k.cameBack && failedLoss.some((s) => s.index === k.step));
    // The report lists the keys of no-loss steps first, so these were cut only if nothing else made the list.
    const cut = r.lostKeysOmitted > 0 && r.lostKeys.every((k) => r.steps.some((s) => s.noLoss && s.index === k.step));
    lines.push('', `Lost keys (${keys.length}${cut ? '+' : ''}; key, step, owner when written, found by):`);
    for (const k of keys.slice(0, 20)) lines.push(`  ${k.key}  s${k.step}  ${nameOf(r, k.ownerAtWrite)}  ${k.detectedBy}`);
    if (keys.length > 20) lines.push(`  … ${keys.length - 20} more in report.json`);
  }
  for (const s of r.steps) for (const n of s.notes) lines.push(`note s${s.index}: ${n}`);
  if (r.aborted) lines.push('', `stopped early: ${r.aborted}`);
  if (paths) lines.push('', `report: ${paths.html}`, `        ${paths.json}`);
  return lines.join('\n');
}

function nameOf(r: Report, id: string | undefined): string {
  const e = Object.entries(r.hosts).find(([, h]) => h.id === id);
  return e ? e[0] : id ?? '?';
}
