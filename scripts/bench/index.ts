/**
 * `npm run bench`: GET and SET throughput and latency through the Corral client against one real
 * node process, then bytes per entry for 1M keys. Prints tables (median of --runs runs).
 *   npm run bench -- --runs 3 --duration 3000 --connections 50 --value-size 100 --keys 100000
 */
import { Command } from 'commander';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Corral } from '@corral/client';
import { formatTable, spawnLocalNode, stopLocalNodes } from '@corral/cli';
import { runLoad, medianResult, type LoadResult } from './load';
import { measureBytesPerEntry } from './memory';

interface Flags { runs: number; duration: number; connections: number; valueSize: number; keys: number; depths: string; memKeys: number; skipMemory?: boolean }

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const us = (n: number) => `${fmt(n / 1000, 2)} ms`;

export function resultRow(label: string, op: string, depth: number, r: LoadResult, extra: string[] = []): string[] {
  return [label, op, String(depth), fmt(r.opsPerSec), us(r.p50Us), us(r.p99Us), fmt(r.errors), ...extra];
}

async function main(): Promise<void> {
  const f = new Command()
    .option('--runs <n>', 'runs per cell (the median is printed)', Number, 3)
    .option('--duration <ms>', 'time bound per run', Number, 3000)
    .option('--connections <n>', 'client connections', Number, 50)
    .option('--value-size <bytes>', 'value size', Number, 100)
    .option('--keys <n>', 'key space', Number, 100_000)
    .option('--depths <list>', 'pipeline depths (requests in flight per connection)', '1,16')
    .option('--mem-keys <n>', 'entries for the bytes-per-entry measurement', Number, 1_000_000)
    .option('--skip-memory', 'skip the bytes-per-entry measurement')
    .parse().opts<Flags>();
  const depths = f.depths.split(',').map(Number);
  const node = await spawnLocalNode({ name: 'bench-node', host: '127.0.0.1', port: 0, logDir: join(tmpdir(), 'corral-bench'), extraArgs: ['--max-memory', '2gb'] });
  const seed = `${node.host}:${node.port}`;
  const rows: string[][] = [];
  try {
    const clients = await Promise.all(Array.from({ length: f.connections }, () => Corral.connect({ seeds: [seed], timeoutMs: 10_000 })));
    const value = Buffer.alloc(f.valueSize, 120);
    // Preload so GETs hit.
    for (let i = 0; i < f.keys; i += 1000)
      await clients[0]!.mset(Array.from({ length: Math.min(1000, f.keys - i) }, (_x, j) => [`key:${i + j}`, value] as [string, Buffer]));
    for (const depth of depths) {
      for (const op of ['SET', 'GET'] as const) {
        const runs: LoadResult[] = [];
        for (let r = 0; r < f.runs; r++) {
          const targets = clients.map((c) => ({
            op: op === 'GET' ? (i: number) => c.get(`key:${i % f.keys}`) : (i: number) => c.set(`key:${i % f.keys}`, value),
          }));
          runs.push(await runLoad(targets, depth, f.duration, 5_000_000));
        }
        const m = medianResult(runs);
        rows.push(resultRow('corral client → corral node', op, depth, m));
        process.stderr.write(`  ${op} depth ${depth}: ${fmt(m.opsPerSec)} ops/s\n`);
      }
    }
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    await stopLocalNodes([node]);
  }
  console.log(`\nThroughput and latency: ${f.connections} connections, ${f.valueSize}-byte values, ${fmt(f.keys)} keys, median of ${f.runs} runs of ${f.duration} ms\n`);
  console.log(formatTable(['system', 'op', 'depth', 'ops/s', 'p50', 'p99', 'errors'], rows));
  if (!f.skipMemory) {
    const m = await measureBytesPerEntry(f.memKeys, f.valueSize);
    console.log(`\nMemory: ${fmt(f.memKeys)} entries of ${f.valueSize}-byte values, keys like "key:123456"\n`);
    console.log(formatTable(['measure', 'total', 'per entry'], [
      ['accounted by the store (bounded by --max-memory)', `${fmt(m.accountedBytes / 2 ** 20, 1)} MiB`, `${fmt(m.accountedBytes / f.memKeys)} B`],
      ['RSS growth of the node process', `${fmt(m.rssGrowthBytes / 2 ** 20, 1)} MiB`, `${fmt(m.rssGrowthBytes / f.memKeys)} B`],
      ['raw key + value bytes', `${fmt(m.rawBytes / 2 ** 20, 1)} MiB`, `${fmt(m.rawBytes / f.memKeys)} B`],
    ]));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
