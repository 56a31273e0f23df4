import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Report, StepReport } from './report-types';
import { REPORT_SCRIPT } from './report-script';

/**
 * report.html: one self-contained file. Chart.js and the annotation plugin are read from
 * node_modules and inlined, the report is embedded as JSON, and the tables are rendered here,
 * server side, so the verdict is readable even with scripts off. No request leaves the page: it
 * opens from disk, from an artifact store, or attached to a ticket.
 */
export function renderReportHtml(report: Report): string {
  const verdict = report.passed ? 'PASSED' : 'FAILED';
  const sc = report.scenario;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(sc.name)} — Corral harness ${verdict}</title>
<style>${CSS}</style>
</head><body>
<header class="${report.passed ? 'pass' : 'fail'}">
  <h1>${esc(sc.name)} <span class="verdict">${verdict}</span></h1>
  <p>${esc(sc.description)}</p>
  <p class="meta">${esc(report.startedAt)} · ${report.durationS.toFixed(1)} s · ${esc(report.hostMode)} hosts · ${sc.cluster.nodes} nodes at start ·
  ${sc.data.keys} keys · ${sc.workload.rate} ops/s, ${Math.round(sc.workload.readRatio * 100)}% reads, ${esc(sc.workload.distribution.kind)} ·
  L1: ${esc(report.l1.note)} · scenario <code>${esc(report.scenarioFile)}</code></p>
  ${report.aborted ? `<p class="abort">Stopped early: ${esc(report.aborted)}</p>` : ''}
</header>
<main>
<section><h2>Invariants</h2>${invariantsTable(report)}</section>
<section><h2>Over time</h2><p class="hint">Shaded bands are the steps (s0, s1, …, listed below). Hover for values.</p>
<div class="grid">
  ${chartBox('chart-hit', 'Hit ratio')}
  ${chartBox('chart-throughput', 'Throughput and origin loads')}
  ${chartBox('chart-latency', 'Latency p50 / p99 / max')}
  ${chartBox('chart-errors', 'Errors by code, acknowledged keys missed, stale reads')}
  ${chartBox('chart-keys', 'Keys per node')}
  ${chartBox('chart-members', 'Membership as each node sees it')}
  ${chartBox('chart-handoff', 'Handoff progress')}
</div></section>
<section><h2>Steps</h2>${stepsTable(report.steps, report)}</section>
<section><h2>Keys per node, before and after each step</h2><div class="grid small">
${report.steps.map((s) => chartBox(`chart-step-keys-${s.index}`, '')).join('\n')}
</div></section>
${report.steps.some((s) => s.moved) ? `<section><h2>Keys moved against the ideal</h2>
<p class="hint">Ideal for this ring: the keys whose owner differs between the rings the step went through (what a handoff must move, no more, no less); the invariant compares with it.
Balanced ring: what a perfectly balanced ring would move (K/(n+1) per node added one at a time, K/n to remove one of n, twice that for a drained restart); the gap between the two is the ring's vnode imbalance.</p>
<div class="grid">${chartBox('chart-moved', '')}</div></section>` : ''}
<section><h2>Lost keys</h2>${lostTable(report)}</section>
<section><h2>Hosts</h2>${hostsTable(report)}</section>
</main>
<script type="application/json" id="report-data">${json(report)}</script>
<script>${inline(vendor('chart.js', 'chart.umd.min.js'))}</script>
<script>${inline(vendor('chartjs-plugin-annotation', 'chartjs-plugin-annotation.min.js'))}</script>
<script>${inline(REPORT_SCRIPT)}</script>
</body></html>
`;
}

function invariantsTable(r: Report): string {
  const rows = r.invariants.map((i) => `<tr class="${i.pass ? 'pass' : 'fail'}" data-name="${esc(i.name)}" data-step="${i.step ?? ''}" data-pass="${i.pass}">
<td>${i.pass ? '✔ pass' : '✘ FAIL'}</td><td>${esc(i.name)}</td><td>${i.step === null ? 'whole run' : `s${i.step} ${esc(i.stepLabel ?? '')}`}</td><td>${esc(i.expected)}</td><td>${esc(i.actual)}</td></tr>`);
  return `<table id="invariants"><thead><tr><th>result</th><th>invariant</th><th>step</th><th>expected</th><th>measured</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function stepsTable(steps: StepReport[], r: Report): string {
  const sec = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  const rows = steps.map((s) => `<tr${s.error ? ' class="fail"' : ''}><td>s${s.index}</td><td>${esc(s.label)}${s.noLoss ? ' <span class="tag">no-loss</span>' : ''}</td>
<td>${s.startedAt.toFixed(1)}–${s.endedAt.toFixed(1)} s</td><td>${s.membersBefore.length} → ${s.membersAfter.length}</td>
<td>${sec(s.convergence?.ringMs)}</td><td>${sec(s.convergence?.handoffMs)}</td>
<td>${s.moved ? `${s.moved.actual} / ${s.moved.ringIdeal} (balanced ${s.moved.balanced})` : '—'}</td><td>${s.lost}</td><td>${s.unavailable}</td>
<td>${s.regressions.length}</td><td>${s.staleReads}</td><td>${pct(s.hitRatio.min)}</td>
<td>${[...s.notes, ...(s.error ? [s.error] : []), ...s.commands.map((c) => `${c.argv.join(' ')} → exit ${c.exitCode} in ${c.ms} ms`)].map((n) => `<div>${esc(n)}</div>`).join('')}</td></tr>`);
  return `<table id="steps"><thead><tr><th>#</th><th>step</th><th>when</th><th>members</th><th>ring converged</th><th>handoff done</th>
<th>moved / ideal</th><th>keys lost</th><th>missed, back later</th><th>regressions</th><th>stale reads</th><th>lowest hit ratio</th><th>notes</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="hint">Warm-up baseline hit ratio: ${pct(r.baselineHitRatio)}. Times are from the start of each step.</p>`;
}

function lostTable(r: Report): string {
  if (r.lostKeys.length === 0) return '<p>None: every read of an acknowledged key found it.</p>';
  const shown = r.lostKeys.slice(0, LOST_SHOWN);
  const more = r.lostKeys.length - shown.length + r.lostKeysOmitted;
  const rows = shown.map((k) => `<tr><td><code>${esc(k.key)}</code></td><td>s${k.step}</td><td>${(k.atMs / 1000).toFixed(2)} s</td><td>${esc(k.detectedBy)}</td>
<td>${k.lastAckedSeq}</td><td>${k.lastAckedVersion}</td><td>${esc(hostName(r, k.ownerAtWrite))}</td><td>${k.cameBack ? 'yes: only unavailable' : 'no: lost'}</td></tr>`);
  return `<p>A key is lost when its last write was acknowledged, it was not evicted, had not expired and was not overwritten, and it could not be read any more.
Keys a read missed but that turned up again later (the same write) were only unavailable for a while; they are listed too, and do not count as lost.</p>
<table id="lost"><thead><tr><th>key</th><th>step</th><th>found at</th><th>found by</th><th>write #</th><th>version</th><th>owner when written</th><th>outcome</th></tr></thead>
<tbody>${rows.join('')}</tbody></table>${more > 0 ? `<p>… and ${more} more: report.json lists up to 500, and counts them all.</p>` : ''}`;
}

/** The page lists the first few; a crash loses hundreds, and report.json has them. */
const LOST_SHOWN = 40;

function hostsTable(r: Report): string {
  const rows = Object.entries(r.hosts).map(([name, h]) => `<tr><td>${esc(name)}</td><td><code>${esc(h.id)}</code></td><td><code>${esc(h.logFile)}</code></td></tr>`);
  return `<table><thead><tr><th>host</th><th>member id</th><th>log</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function hostName(r: Report, id: string | undefined): string {
  if (id === undefined) return '?';
  const e = Object.entries(r.hosts).find(([, h]) => h.id === id);
  return e ? `${e[0]} (${id})` : id;
}

function chartBox(id: string, title: string): string {
  return `<figure>${title ? `<figcaption>${esc(title)}</figcaption>` : ''}<div class="chart"><canvas id="${id}"></canvas></div></figure>`;
}

/** The UMD build of a package, found next to its main entry (the packages do not export these paths). */
function vendor(pkg: string, file: string): string {
  return readFileSync(join(dirname(require.resolve(pkg)), file), 'utf8');
}

/** A script body must not contain "</script" (it would end the element early). */
function inline(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}

/** JSON inside a script element: escaping "<" keeps any "</script>" in a string from closing it. */
function json(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #0f172a; background: #f8fafc; }
header { padding: 16px 28px; border-bottom: 4px solid; background: #fff; }
header.pass { border-color: #16a34a; } header.fail { border-color: #dc2626; }
h1 { margin: 0 0 4px; font-size: 22px; } h2 { font-size: 17px; margin: 0 0 8px; }
.verdict { font-size: 14px; padding: 2px 8px; border-radius: 4px; color: #fff; vertical-align: middle; }
.pass .verdict { background: #16a34a; } .fail .verdict { background: #dc2626; }
.meta, .hint { color: #475569; font-size: 12.5px; } .abort { color: #b91c1c; font-weight: 600; }
main { padding: 8px 28px 40px; } section { margin: 18px 0 26px; }
table { border-collapse: collapse; background: #fff; font-size: 13px; width: 100%; }
th, td { border: 1px solid #e2e8f0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
tr.fail td { background: #fef2f2; } tr.fail td:first-child { color: #b91c1c; font-weight: 700; }
tr.pass td:first-child { color: #15803d; font-weight: 600; }
.tag { font-size: 11px; background: #e0e7ff; color: #3730a3; padding: 0 5px; border-radius: 3px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; }
.grid.small { grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
figure { margin: 0; background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px 10px; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.chart { position: relative; height: 240px; } .grid.small .chart { height: 200px; }
code { font-size: 12px; }
`;
