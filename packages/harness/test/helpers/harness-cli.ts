import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { defaultRegistryDir } from '../../src/hosts/run-registry';

export const REPO = resolve(__dirname, '..', '..', '..', '..');
export const CLI = join(REPO, 'packages', 'cli', 'bin', 'corral.js');

export interface CliRun {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a stderr line matches (the live display and its notes go there). */
  waitForStderr(re: RegExp, timeoutMs: number): Promise<string>;
}

/** Runs `corral …` (the built CLI, as an operator would) and collects its output. */
export function corral(args: string[], opts: { cwd?: string } = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let watchers: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => { stderr.push(l); for (const w of watchers) w(l); });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const waitForStderr = (re: RegExp, timeoutMs: number) => new Promise<string>((res, rej) => {
    const seen = stderr.find((l) => re.test(l));
    if (seen) return res(seen);
    const t = setTimeout(() => rej(new Error(`no stderr line matching ${re} within ${timeoutMs} ms:\n${stderr.join('\n')}`)), timeoutMs);
    const w = (l: string) => { if (re.test(l)) { clearTimeout(t); watchers = watchers.filter((x) => x !== w); res(l); } };
    watchers.push(w);
    void done.then(() => { clearTimeout(t); rej(new Error(`corral exited before a stderr line matched ${re}:\n${stderr.join('\n')}`)); });
  });
  return { child, stdout, stderr, done, waitForStderr };
}

/** Live processes started by the harness run whose process id was `harnessPid` (found by the run id in their environment). */
export function processesOfHarness(harnessPid: number): number[] {
  const marker = `CORRAL_HARNESS_RUN=hr-${harnessPid}-`;
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').some((e) => e.startsWith(marker))) out.push(Number(p));
    } catch { /* gone, or not ours to read */ }
  }
  return out;
}

/** Run records left in the registry by that harness. */
export function registryFilesOf(harnessPid: number): string[] {
  try {
    return readdirSync(defaultRegistryDir()).filter((f) => f.startsWith(`hr-${harnessPid}-`));
  } catch {
    return [];
  }
}
