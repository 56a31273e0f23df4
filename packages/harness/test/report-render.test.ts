import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportWriter, summaryText, type Report } from '../src';
import { openReport } from './helpers/report-browser';
import { sampleReport } from './helpers/sample-report';

/**
 * report.html opened from disk in headless Chromium: every chart draws, nothing is fetched, and
 * the invariants table says exactly what report.json says.
 */

jest.setTimeout(60_000);

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'corral-report-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('draws every chart, fetches nothing, and its invariants table matches report.json', async () => {
  const paths = ReportWriter.write(sampleReport(), dir);
  const report = JSON.parse(readFileSync(paths.json, 'utf8')) as Report;
  const page = await openReport(paths.html);
  expect(page.pageErrors).toEqual([]);
  expect(page.requests).toEqual([]);
  // 7 charts over time, one keys-per-node chart per step, one moved-vs-ideal chart.
  expect(page.charts).toBe(7 + report.steps.length + 1);
  expect(page.canvases).toHaveLength(page.charts);
  for (const c of page.canvases) expect(c).toMatchObject({ painted: true });
  expect(page.invariantRows.map(({ name, step, pass }) => ({ name, step, pass })))
    .toEqual(report.invariants.map(({ name, step, pass }) => ({ name, step, pass })));
  expect(page.invariantRows[2]!.cells[0]).toContain('FAIL');
});

it('is self-contained: chart.js and the annotation plugin are inlined, the page escapes what it embeds', () => {
  const html = readFileSync(ReportWriter.write(sampleReport(), dir).html, 'utf8');
  expect(html).toMatch(/Chart\.js v4/);
  expect(html).toMatch(/chartjs-plugin-annotation v3/);
  expect(html).not.toMatch(/<script[^>]+src=/);
  expect(html).not.toMatch(/<link[^>]+href=/);
  expect(html).toContain('a note with &lt;markup&gt; that must be escaped');
});

it('the terminal summary lists the steps and the failing invariant', () => {
  const text = summaryText(sampleReport());
  expect(text).toMatch(/^sample: FAILED in 20\.0 s/);
  expect(text).toMatch(/s0\s+add n4\s+3→4/);
  expect(text).toMatch(/FAIL\s+membership converged within bound\s+s1/);
});
