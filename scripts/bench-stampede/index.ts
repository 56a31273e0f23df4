/**
 * `npm run bench:stampede`: one hot key whose loader takes --loader-ms, hit by --processes client
 * processes × --concurrency concurrent callers, across --expiries expiries, once per strategy:
 *   cache-aside    GET; on a miss load and SET (what the seed article starts from)
 *   coalescing     getOrSet, in-process single flight only (lease: false)
 *   leases         getOrSet with node leases (the default)
 *   leases+grace   + graceMs: stale served while one caller refreshes
 *   leases+xfetch  + XFetch early refresh (beta 1)
 * Prints loader calls per expiry (fleet-wide, from the loaders' shared counter file) and p99
 * latency of calls that started around an expiry vs the rest. Processes run from the sources
 * through ts-node, so no build is needed.
 *   npm run bench:stampede -- --processes 4 --concurrency 250 --expiries 20 --ttl 500
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';

interface Flags { processes: number; concurrency: number; expiries: number; ttl: number; loaderMs: number; think: number; modes: string }

const ROOT = resolve(__dirname, '..', '..');
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];
const env = { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.test.json'), TS_NODE_TRANSPILE_ONLY: 'true' };

function spawnTs(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [...TS_NODE, join(__dirname, script), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] });
}

function lines(child: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
}

async function startNode(): Promise<{ child: ChildProcess; seed: string }> {
  const child = spawnTs('node-entry.ts', []);
  const it = lines(child);
  for (;;) {
    const { value, done } = await it.next();
    if (done) throw new Error('the node exited before listening');
    if (!value.includes('node_listening')) continue;
    const rec = JSON.parse(value) as { host: string; port: number };
    return { child, seed: `${rec.host}:${rec.port}` };
  }
}

const pct = (sorted: Float64Array, p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
const fmt = (n: number) => (Number.isNaN(n) ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(2));

interface Row { mode: string; perExpiry: number[]; steadyP99: number; expiryP99: number; calls: number; errors: number }

async function runMode(mode: string, seed: string, f: Flags, dir: string): Promise<Row> {
  const key = `hot:${mode}:${Date.now()}`;
  const counter = join(dir, `${mode}.loads`);
  writeFileSync(counter, '');
  const workers = Array.from({ length: f.processes }, (_, i) => {
    const out = join(dir, `${mode}.${i}.bin`);
    const child = spawnTs('worker.ts', [seed, mode, key, String(f.ttl), String(f.loaderMs), String(f.concurrency), String(f.think), counter, out]);
    return { child, out, it: lines(child) };
  });
  for (const w of workers) if ((await w.it.next()).value !== 'ready') throw new Error(`a ${mode} worker did not start`);
  const startAt = Date.now() + 200;
  // A cycle is the TTL plus the load that starts it (the TTL runs from the write); one more for the cold fill.
  const endAt = startAt + (f.ttl + f.loaderMs) * (f.expiries + 1) + Math.round(f.ttl / 2);
  for (const w of workers) w.child.stdin!.write(`${startAt} ${endAt}\n`);
  let errors = 0;
  for (const w of workers) {
    const { value } = await w.it.next();
    errors += (JSON.parse(value ?? '{}') as { errors?: number }).errors ?? 0;
  }
  // Loader calls, grouped into reloads: calls that start within one loader duration of each other
  // race for the same expiry (a later one is the next reload). The first group is the cold fill.
  const loads = readFileSync(counter, 'utf8').split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
  const cycles: number[][] = [];
  for (const t of loads) {
    const last = cycles[cycles.length - 1];
    if (last && t - last[0]! < f.loaderMs) last.push(t);
    else cycles.push([t]);
  }
  const starts = cycles.map((c) => c[0]!);
  const samples = workers.flatMap((w) => {
    if (!existsSync(w.out)) return [];
    const b = readFileSync(w.out);
    return [new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8)];
  });
  const around: number[] = [], steady: number[] = [];
  const warm = (starts[0] ?? startAt) + f.loaderMs + 20; // the cold fill is neither steady state nor an expiry
  for (const s of samples) {
    for (let i = 0; i < s.length; i += 2) {
      const at = s[i]!, latency = s[i + 1]!;
      if (at < warm) continue;
      // A call "around an expiry" started between just before a reload began and the end of that load.
      const near = starts.slice(1).some((c) => at >= c - 20 && at <= c + f.loaderMs + 20);
      (near ? around : steady).push(latency);
    }
  }
  const sort = (a: number[]) => Float64Array.from(a).sort();
  return {
    mode, perExpiry: cycles.slice(1).map((c) => c.length), steadyP99: pct(sort(steady), 0.99), expiryP99: pct(sort(around), 0.99),
    calls: around.length + steady.length, errors,
  };
}

async function main(): Promise<void> {
  const f = new Command()
    .description('stampede benchmark: loader calls per expiry and p99 around expiry, per strategy')
    .option('--processes <n>', 'client processes', Number, 4)
    .option('--concurrency <n>', 'concurrent callers per process', Number, 250)
    .option('--expiries <n>', 'expiries per strategy', Number, 20)
    .option('--ttl <ms>', 'TTL of the hot key', Number, 500)
    .option('--loader-ms <ms>', 'how long the loader takes', Number, 100)
    .option('--think <ms>', 'pause between a caller\'s calls', Number, 50)
    .option('--modes <list>', 'strategies', 'cache-aside,coalescing,leases,leases+grace,leases+xfetch')
    .parse().opts<Flags>();
  const dir = mkdtempSync(join(tmpdir(), 'corral-stampede-'));
  const node = await startNode();
  const rows: Row[] = [];
  try {
    for (const mode of f.modes.split(',')) {
      process.stderr.write(`  ${mode}...\n`);
      rows.push(await runMode(mode, node.seed, f, dir));
    }
  } finally {
    node.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${f.processes} processes × ${f.concurrency} callers, one key, TTL ${f.ttl} ms, loader ${f.loaderMs} ms, think ${f.think} ms\n`);
  const header = ['strategy', 'reloads', 'loader calls/reload (mean)', 'max', 'p99 steady ms', 'p99 around expiry ms', 'ratio', 'calls', 'errors'];
  const body = rows.map((r) => {
    const mean = r.perExpiry.length ? r.perExpiry.reduce((a, b) => a + b, 0) / r.perExpiry.length : NaN;
    return [r.mode, String(r.perExpiry.length), fmt(mean), String(Math.max(0, ...r.perExpiry)), fmt(r.steadyP99), fmt(r.expiryP99),
      Number.isNaN(r.expiryP99) ? '–' : `${(r.expiryP99 / r.steadyP99).toFixed(1)}×`, String(r.calls), String(r.errors)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  for (const line of [header, widths.map((w) => '-'.repeat(w)), ...body]) console.log(line.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log('\nTargets: leases → exactly 1 loader call per expiry fleet-wide; leases+grace → p99 around expiry ≤ 2 × steady p99.');
  console.log('A reload is an expiry, or for leases+xfetch an early refresh (which usually comes before the expiry).');
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
