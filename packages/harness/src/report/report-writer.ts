import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReportHtml } from './report-html';
import type { Report } from './report-types';

export interface WrittenReport { json: string; html: string }

/**
 * Writes report.json (everything measured, for tools and for diffing two runs) and report.html
 * (the same, for people). Written even for a failed or interrupted run: that is when it is read.
 */
export const ReportWriter = {
  write(report: Report, dir: string): WrittenReport {
    mkdirSync(dir, { recursive: true });
    const json = join(dir, 'report.json');
    const html = join(dir, 'report.html');
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(html, renderReportHtml(report));
    return { json, html };
  },
};
