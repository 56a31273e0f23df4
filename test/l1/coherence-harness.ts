import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { transformFileSync } from '@swc/core';
import { assertPackagesBuilt, REPO_ROOT } from '@corral/test-utils';

/** One row of a worker's output file: key, value number, wall ms (ack time, or read start). */
export interface Sample { key: number; n: number; at: number }

export interface WorkerResult { name: string; count: number; errors: number; l1: Record<string, unknown> | null; samples: Sample[] }

/** The client build is what the workers run: it must be newer than its sources. */
export function assertClientBuilt(): void {
  assertPackagesBuilt(['client', 'protocol', 'ring']);
}

let compiled: string | undefined;

/** Runs coherence-worker.ts (compiled here by swc: no ts-node start-up per process) and collects its output. */
export function runWorker(args: { role: 'writer' | 'reader'; seeds: string[]; name: string; keys: number; durationMs: number }): { done: Promise<WorkerResult> } {
  compiled ??= transformFileSync(join(__dirname, 'coherence-worker.ts'), {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
  }).code;
  const dir = mkdtempSync(join(tmpdir(), 'corral-l1-'));
  const out = join(dir, `${args.name}.bin`);
  const child = spawn(process.execPath, ['-e', compiled, JSON.stringify({ ...args, out })], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<WorkerResult>((resolve, reject) => {
    let last = '';
    createInterface({ input: child.stdout! }).on('line', (l) => { last = l; });
    // 'close', not 'exit': only then has every line of its stdout been read.
    child.once('close', (code) => {
      try {
        if (code !== 0) throw new Error(`${args.name} exited ${code}: ${last}`);
        const res = JSON.parse(last) as Omit<WorkerResult, 'samples'>;
        const buf = readFileSync(out);
        const samples: Sample[] = [];
        for (let o = 0; o + 16 <= buf.length; o += 16) samples.push({ key: buf.readInt32LE(o), n: buf.readInt32LE(o + 4), at: buf.readDoubleLE(o + 8) });
        resolve({ ...res, samples });
      } catch (e) {
        reject(e as Error);
      }
    });
  });
  return { done };
}

export interface Staleness { reads: number; stale: number; p50: number; p99: number; max: number; staleP50: number; staleP99: number }

/** The staleness of each read, in read order (see `staleness`). */
export function stalenessOfEach(acks: Sample[], reads: Sample[]): Float64Array {
  const byKey = new Map<number, Sample[]>();
  for (const a of acks) { let l = byKey.get(a.key); if (!l) byKey.set(a.key, (l = [])); l.push(a); }
  for (const l of byKey.values()) l.sort((x, y) => x.n - y.n);
  const out = new Float64Array(reads.length);
  reads.forEach((r, i) => {
    const l = byKey.get(r.key) ?? [];
    let lo = 0;
    let hi = l.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (l[mid]!.n <= r.n) lo = mid + 1; else hi = mid; }
    const newer = l[lo];
    out[i] = newer !== undefined && newer.at < r.at ? r.at - newer.at : 0;
  });
  return out;
}

/**
 * How stale each read was: the time since the first write newer than the value it returned was
 * acknowledged, when that happened before the read started (0 otherwise).
 */
export function staleness(acks: Sample[], reads: Sample[]): Staleness {
  const all = stalenessOfEach(acks, reads);
  const stale = all.filter((s) => s > 0);
  all.sort();
  stale.sort();
  const pct = (xs: ArrayLike<number>, p: number) => (xs.length === 0 ? 0 : xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!);
  return { reads: reads.length, stale: stale.length, p50: pct(all, 0.5), p99: pct(all, 0.99), max: pct(all, 1), staleP50: pct(stale, 0.5), staleP99: pct(stale, 0.99) };
}

export const fmtMs = (x: number) => `${x.toFixed(3)} ms`;
