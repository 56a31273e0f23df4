/**
 * `npm run bench:l1`: a read-heavy Zipf(0.99) workload (95 % GET, 5 % SET) over 100 000 keys from
 * one process, in one run, against:
 *   - Corral with the L1 on (tracking mode, then broadcast mode),
 *   - Corral with the L1 off,
 *   - ioredis (auto-pipelining) against a local redis-server started here on a spare port,
 *   - a plain Map behind the same async get/set (the issue's "as fast as a local Map", and the
 *     ceiling of this loop: what is left when the cache costs nothing but a lookup).
 * Every system gets the same op sequence (over its own copy of the keys) and the same closed loop,
 * runs interleaved across systems, at each of `--concurrency`'s
 * levels of ops in flight (1: a caller awaiting each call, as a request handler does; 256: a
 * pipelined batch job), and prints ops/s, p50, p99 and the ratio to ioredis at the same level.
 * Then the cost of each invalidation mode on the node (bench-l1/invalidation-cost.ts).
 * Processes: one Corral node, one redis-server, this one.
 *   npm run bench:l1 -- --duration 3000 --concurrency 1,16,256 --keys 100000 --runs 3
 */
import { Command } from 'commander';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import { Corral, type L1Stats } from '@corral/client';
import { spawnNodeProcess } from '../packages/test-utils/src/node-process';
import { medianResult, type LoadResult } from './bench/load';
import { closedLoop } from './bench-l1/closed-loop';
import { ensureRedisTools, startRedisServer } from './bench/redis';
import { measureInvalidationCost } from './bench-l1/invalidation-cost';
import { seeded, writeMask, zipfSamples } from './bench-l1/zipf';

interface Flags { duration: number; concurrency: number[]; keys: number; valueSize: number; runs: number; zipf: number; writes: number; l1Entries: number; skipRedis?: boolean; skipCost?: boolean; only?: string }

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ms = (us: number) => `${fmt(us / 1000, 3)} ms`;
const SAMPLES = 1 << 21;

/** A port nothing listens on right now (node.port + 1 may be some client socket's ephemeral port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

/** Reads every key once, so the L1 starts the measured runs warm (a long-running process's steady state). */
async function warmL1(c: Corral, names: readonly string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 1000) await c.mget(names.slice(i, i + 1000));
}

async function main(): Promise<void> {
  const f = new Command()
    .description('L1 on/off vs ioredis + redis-server: Zipf read-heavy workload from one process')
    .option('--duration <ms>', 'time per run', Number, 4000)
    .option('--concurrency <list>', 'ops in flight: comma-separated levels, each measured for every system', (v: string) => v.split(',').map(Number), [1, 16, 256])
    .option('--keys <n>', 'key space', Number, 100_000)
    .option('--value-size <bytes>', 'value size', Number, 100)
    .option('--runs <n>', 'runs per system (median printed)', Number, 3)
    .option('--zipf <s>', 'Zipf exponent', Number, 0.99)
    .option('--writes <share>', 'share of SETs', Number, 0.05)
    .option('--l1-entries <n>', 'L1 maxEntries', Number, 100_000)
    .option('--skip-redis', 'no redis-server / ioredis')
    .option('--skip-cost', 'skip the tracking vs broadcast cost table')
    .option('--only <text>', 'run only the Corral systems whose label contains this (e.g. tracking, off)')
    .parse().opts<Flags>();
  if (!f.skipRedis) ensureRedisTools();
  const random = seeded(42);
  const keys = zipfSamples(f.keys, f.zipf, SAMPLES, random);
  const writes = writeMask(SAMPLES, f.writes, random);
  const value = 'x'.repeat(f.valueSize);
  // Each system gets its own copy of the key space (a prefix), so one system's writes never
  // invalidate another's L1. Names are built once: the loop measures the clients, not string
  // concatenation (the same for every system).
  const namesFor = (prefix: string) => Array.from({ length: f.keys }, (_x, i) => `${prefix}key:${i}`);

  const node = await spawnNodeProcess(['--max-memory', '1gb']);
  const seed = `${node.host}:${node.port}`;
  const redis = f.skipRedis ? undefined : await startRedisServer(await freePort());
  const results: Array<[string, number, LoadResult, string]> = [];
  interface System { label: string; op: (i: number) => unknown; stats?: () => L1Stats | undefined; close: () => Promise<unknown> }
  const systems: System[] = [];
  try {
    const loader = await Corral.connect({ seeds: [seed], timeoutMs: 30_000 });
    const corral = async (label: string, prefix: string, l1: false | 'tracking' | 'broadcast') => {
      if (f.only !== undefined && !label.includes(f.only)) return;
      const names = namesFor(prefix);
      for (let i = 0; i < f.keys; i += 1000)
        await loader.mset(names.slice(i, i + 1000).map((k) => [k, value] as [string, string]));
      const c = await Corral.connect({ seeds: [seed], timeoutMs: 30_000, ...(l1 && { l1: { mode: l1, maxEntries: f.l1Entries, maxBytes: 512 * 1024 * 1024 } }) });
      if (l1) await warmL1(c, names);
      const key = (i: number) => names[keys[i & (SAMPLES - 1)]!]!;
      systems.push({ label, op: (i) => (writes[i & (SAMPLES - 1)] ? c.set(key(i), value) : c.get(key(i))), stats: () => c.l1Stats(), close: () => c.close() });
    };
    await corral('corral, L1 on (tracking)', 't:', 'tracking');
    await corral('corral, L1 on (broadcast)', 'b:', 'broadcast');
    await corral('corral, L1 off', 'o:', false);
    await loader.close();
    if (redis) {
      const io = new Redis({ port: redis.port, host: '127.0.0.1', enableAutoPipelining: true });
      const names = namesFor('');
      for (let i = 0; i < f.keys; i += 1000) await io.mset(...names.slice(i, i + 1000).flatMap((k) => [k, value]));
      const key = (i: number) => names[keys[i & (SAMPLES - 1)]!]!;
      systems.push({ label: 'ioredis → redis-server', op: (i) => (writes[i & (SAMPLES - 1)] ? io.set(key(i), value) : io.get(key(i))), close: async () => io.disconnect() });
    }
    if (f.only === undefined || 'local Map'.includes(f.only)) {
      const names = namesFor('m:');
      const map = new Map<string, string>(names.map((k) => [k, value]));
      const get = async (k: string) => map.get(k);
      const set = async (k: string, v: string) => { map.set(k, v); };
      const key = (i: number) => names[keys[i & (SAMPLES - 1)]!]!;
      systems.push({ label: 'local Map (async get/set)', op: (i) => (writes[i & (SAMPLES - 1)] ? set(key(i), value) : get(key(i))), close: async () => map.clear() });
    }
    // Runs are interleaved (run 1 of every system, then run 2, ...): this machine's speed drifts
    // by tens of percent over minutes, and a drift must not land on one system only.
    for (const n of f.concurrency) {
      for (const sys of systems) await closedLoop(sys.op, n, Math.min(1000, f.duration)); // warm-up (JIT, connections)
      const runs = new Map<System, LoadResult[]>(systems.map((x) => [x, []]));
      const before = new Map(systems.map((x) => [x, x.stats?.()]));
      for (let r = 0; r < f.runs; r++) for (const sys of systems) runs.get(sys)!.push(await closedLoop(sys.op, n, f.duration));
      for (const sys of systems) {
        const res = medianResult(runs.get(sys)!);
        const b = before.get(sys);
        const s = sys.stats?.();
        const hitRatio = s && b ? (s.hits - b.hits) / Math.max(1, s.hits - b.hits + s.misses - b.misses) : 0;
        const note = s && b ? `L1 hit ratio ${(hitRatio * 100).toFixed(1)} %, fills refused ${fmt(s.fillsRefused - b.fillsRefused)}, gaps ${s.gapsDetected}` : '';
        results.push([sys.label, n, res, note]);
        process.stderr.write(`  ${sys.label} @${n}: ${fmt(res.opsPerSec)} ops/s, p99 ${ms(res.p99Us)} ${note}\n`);
      }
    }
    for (const sys of systems) await sys.close();
  } finally {
    node.kill('SIGTERM');
    await node.exited;
    await redis?.stop();
  }
  console.log(`\nZipf(${f.zipf}) over ${fmt(f.keys)} keys, ${Math.round((1 - f.writes) * 100)} % GET / ${Math.round(f.writes * 100)} % SET, ${f.valueSize}-byte values, ` +
    `closed loop from one process, ${f.duration} ms per run, median of ${f.runs}; × ioredis and % of Map are at the same ops in flight; ` +
    `cpu/op is this process's CPU per op (the client's cost; redis-server's and the node's are their own)\n`);
  const w = Math.max(...results.map(([l]) => l.length));
  console.log(`${'system'.padEnd(w)}  ${'in flight'.padStart(9)}  ${'ops/s'.padStart(12)}  ${'p50'.padStart(10)}  ${'p99'.padStart(10)}  ${'× ioredis'.padStart(9)}  ${'% of Map'.padStart(8)}  ${'cpu/op'.padStart(9)}  notes`);
  for (const n of f.concurrency) {
    const base = results.find(([l, c]) => l.startsWith('ioredis') && c === n)?.[2];
    const map = results.find(([l, c]) => l.startsWith('local Map') && c === n)?.[2];
    for (const [label, c, r, note] of results.filter(([, c]) => c === n))
      console.log(`${label.padEnd(w)}  ${String(c).padStart(9)}  ${fmt(r.opsPerSec).padStart(12)}  ${ms(r.p50Us).padStart(10)}  ${ms(r.p99Us).padStart(10)}  ${(base ? `${(r.opsPerSec / base.opsPerSec).toFixed(1)}×` : '–').padStart(9)}  ${(map ? `${Math.round((100 * r.opsPerSec) / map.opsPerSec)} %` : '–').padStart(8)}  ${`${fmt(r.cpuUsPerOp ?? 0, 2)} µs`.padStart(9)}  ${note}`);
  }
  if (!f.skipCost) await measureInvalidationCost();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
