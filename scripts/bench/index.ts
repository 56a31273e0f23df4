/**
 * `npm run bench`: side by side, in one run, with the same concurrency, pipeline depth, value size
 * and key space:
 *   - Corral's client against one Corral node (native protocol),
 *   - redis-benchmark against that node's RESP door,
 *   - the same redis-benchmark against a local redis-server (started here on a spare port),
 *   - ioredis (auto-pipelining on, like Corral's client) against that redis-server,
 * then bytes per entry for 1M keys. Tables print medians of --runs runs and Corral/Redis ratios.
 *   npm run bench -- --runs 3 --connections 50 --value-size 100 --keys 100000 --depths 1,16
 */
import { Command } from 'commander';
import Redis from 'ioredis';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Corral } from '@corral/client';
import { formatTable, spawnLocalNode, stopLocalNodes } from '@corral/cli';
import { runLoad, type LoadResult } from './load';
import { measureBytesPerEntry } from './memory';
import { ensureRedisTools, medianOf, redisBenchmark, startRedisServer } from './redis';

interface Flags { runs: number; duration: number; connections: number; valueSize: number; keys: number; depths: string; memKeys: number; skipMemory?: boolean; skipRedis?: boolean; requests: number }

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ms = (us: number) => `${fmt(us / 1000, 2)} ms`;
const ratio = (a: LoadResult | undefined, b: LoadResult | undefined) => (a && b ? `${(a.opsPerSec / b.opsPerSec).toFixed(2)}×` : '–');

async function main(): Promise<void> {
  const f = new Command()
    .description('Corral vs Redis throughput/latency, and Corral memory per entry')
    .option('--runs <n>', 'runs per cell (the median is printed)', Number, 3)
    .option('--duration <ms>', 'time bound per run for the Node load generators', Number, 3000)
    .option('--requests <n>', 'requests per redis-benchmark run at depth 1 (× depth/4 at higher depths)', Number, 100_000)
    .option('--connections <n>', 'client connections', Number, 50)
    .option('--value-size <bytes>', 'value size', Number, 100)
    .option('--keys <n>', 'key space', Number, 100_000)
    .option('--depths <list>', 'pipeline depths (requests in flight per connection)', '1,16')
    .option('--mem-keys <n>', 'entries for the bytes-per-entry measurement', Number, 1_000_000)
    .option('--skip-memory', 'skip the bytes-per-entry measurement')
    .option('--skip-redis', 'only Corral (no redis-server / redis-benchmark / ioredis)')
    .parse().opts<Flags>();
  const depths = f.depths.split(',').map(Number);
  if (!f.skipRedis) ensureRedisTools();
  const node = await spawnLocalNode({ name: 'bench-node', host: '127.0.0.1', port: 0, logDir: join(tmpdir(), 'corral-bench'), extraArgs: ['--max-memory', '2gb', '--resp-port', '0'] });
  const redis = f.skipRedis ? undefined : await startRedisServer(node.port + 1);
  const value = Buffer.alloc(f.valueSize, 120);
  const results = new Map<string, LoadResult>();
  const cell = (system: string, op: string, depth: number) => `${system}|${op}|${depth}`;
  try {
    const corral = await Promise.all(Array.from({ length: f.connections }, () => Corral.connect({ seeds: [`${node.host}:${node.port}`], timeoutMs: 10_000 })));
    const ioredis = redis ? Array.from({ length: f.connections }, () => new Redis({ port: redis.port, host: '127.0.0.1', enableAutoPipelining: true })) : [];
    for (let i = 0; i < f.keys; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, f.keys - i) }, (_x, j) => [`key:${i + j}`, value] as [string, Buffer]);
      await corral[0]!.mset(batch);
      if (ioredis[0]) await ioredis[0].mset(...batch.flat());
    }
    for (const depth of depths) {
      for (const op of ['SET', 'GET'] as const) {
        const key = (i: number) => `key:${i % f.keys}`;
        const log = (name: string, r: LoadResult) => process.stderr.write(`  ${name} ${op} depth ${depth}: ${fmt(r.opsPerSec)} ops/s\n`);
        const native = await medianOf(f.runs, () => runLoad(corral.map((c) => ({
          op: op === 'GET' ? (i: number) => c.get(key(i)) : (i: number) => c.set(key(i), value),
        })), depth, f.duration, 10_000_000));
        results.set(cell('native', op, depth), native); log('corral client → corral node', native);
        const requests = Math.round(f.requests * Math.max(1, depth / 4));
        const rb = (port: number) => medianOf(f.runs, () => redisBenchmark({ host: '127.0.0.1', port, test: op === 'GET' ? 'get' : 'set', clients: f.connections, requests, pipeline: depth, valueSize: f.valueSize, keys: f.keys }));
        const door = await rb(node.respPort!);
        results.set(cell('door', op, depth), door); log('redis-benchmark → corral RESP door', door);
        if (redis) {
          const rr = await rb(redis.port);
          results.set(cell('redis', op, depth), rr); log('redis-benchmark → redis-server', rr);
          const io = await medianOf(f.runs, () => runLoad(ioredis.map((c) => ({
            op: op === 'GET' ? (i: number) => c.getBuffer(key(i)) : (i: number) => c.set(key(i), value),
          })), depth, f.duration, 10_000_000));
          results.set(cell('ioredis', op, depth), io); log('ioredis → redis-server', io);
        }
      }
    }
    await Promise.all(corral.map((c) => c.close()));
    for (const c of ioredis) c.disconnect();
  } finally {
    await stopLocalNodes([node]);
    await redis?.stop();
  }
  const systems: Array<[string, string]> = [
    ['native', 'corral client → corral node'], ['ioredis', 'ioredis → redis-server'],
    ['door', 'redis-benchmark → corral RESP door'], ['redis', 'redis-benchmark → redis-server'],
  ];
  const rows: string[][] = [];
  for (const depth of depths) for (const op of ['SET', 'GET']) for (const [id, label] of systems) {
    const r = results.get(cell(id, op, depth));
    if (r) rows.push([label, op, String(depth), fmt(r.opsPerSec), ms(r.p50Us), ms(r.p99Us)]);
  }
  console.log(`\nThroughput and latency: ${f.connections} connections, ${f.valueSize}-byte values, ${fmt(f.keys)} keys, median of ${f.runs} runs\n`);
  console.log(formatTable(['system', 'op', 'depth', 'ops/s', 'p50', 'p99'], rows));
  if (!f.skipRedis) {
    const rrows: string[][] = [];
    for (const depth of depths) for (const op of ['SET', 'GET']) {
      const g = (id: string) => results.get(cell(id, op, depth));
      rrows.push([op, String(depth), ratio(g('door'), g('redis')), ratio(g('native'), g('ioredis'))]);
    }
    console.log('\nCorral / Redis throughput (same machine, same run)\n');
    console.log(formatTable(['op', 'depth', 'RESP door / redis-server (redis-benchmark)', 'corral client / ioredis'], rrows));
  }
  if (!f.skipMemory) {
    const m = await measureBytesPerEntry(f.memKeys, f.valueSize);
    console.log(`\nMemory: ${fmt(f.memKeys)} entries of ${f.valueSize}-byte values, keys like "key:123456"\n`);
    console.log(formatTable(['measure', 'total', 'per entry'], [
      ['accounted by the store (bounded by --max-memory)', `${fmt(m.accountedBytes / 2 ** 20, 1)} MiB`, `${fmt(m.accountedBytes / f.memKeys)} B`],
      ['RSS growth of the node process', `${fmt(m.rssGrowthBytes / 2 ** 20, 1)} MiB`, `${fmt(m.rssGrowthBytes / f.memKeys)} B`],
      ['raw key + value bytes', `${fmt(m.rawBytes / 2 ** 20, 1)} MiB`, `${fmt(m.rawBytes / f.memKeys)} B`],
    ]));
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
