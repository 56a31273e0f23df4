import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export interface RenderedReport {
  pageErrors: string[];
  /** Every request that was not for the file itself: the page must make none. */
  requests: string[];
  /** Chart.js instances the page created. */
  charts: number;
  /** Canvases and whether each has any non-transparent pixel. */
  canvases: Array<{ id: string; painted: boolean; width: number; height: number }>;
  invariantRows: Array<{ name: string; step: number | null; pass: boolean; cells: string[] }>;
}

/** Debian's chromium, as scripts/ensure-test-deps.sh installs it. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Opens a report.html from disk in headless Chromium (fresh profile, no network features) and
 * reads back what a person would see: the charts drawn, the invariants table. Optionally saves a
 * screenshot of the whole page.
 */
export async function openReport(htmlFile: string, screenshot?: string): Promise<RenderedReport> {
  const profile = mkdtempSync(join(tmpdir(), 'corral-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  try {
    const page = ctx.pages()[0] ?? await ctx.newPage();
    const out: RenderedReport = { pageErrors: [], requests: [], charts: 0, canvases: [], invariantRows: [] };
    page.on('pageerror', (e) => out.pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') out.pageErrors.push(m.text()); });
    page.on('request', (r) => { if (r.url() !== `file://${htmlFile}`) out.requests.push(r.url()); });
    await page.goto(`file://${htmlFile}`, { waitUntil: 'load' });
    // Page-side code is passed as strings: the tests compile without the DOM typings.
    await page.waitForFunction('document.documentElement.hasAttribute("data-charts")', undefined, { timeout: 10_000 });
    out.charts = await page.evaluate('(window.__charts || []).length') as number;
    out.canvases = await page.evaluate(`Array.from(document.querySelectorAll('canvas')).map((c) => {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let painted = false;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) { painted = true; break; }
      return { id: c.id, painted, width: c.width, height: c.height };
    })`) as RenderedReport['canvases'];
    out.invariantRows = await page.evaluate(`Array.from(document.querySelectorAll('#invariants tbody tr')).map((tr) => ({
      name: tr.dataset.name || '',
      step: tr.dataset.step === '' ? null : Number(tr.dataset.step),
      pass: tr.dataset.pass === 'true',
      cells: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent || ''),
    }))`) as RenderedReport['invariantRows'];
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return out;
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
