import { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { Corral, type WarmResult } from '@corral/client';
import { asDuration, asInt, envOption, parseAddress } from '../options';
import { loadLoaderModule, readKeysFile } from '../warm-input';

interface WarmFlags {
  keys?: string; fromSnapshot?: boolean; loader: string; seed: string[]; concurrency: number;
  ttl?: number; grace?: number; force?: boolean; timeout: number; loaderTimeout?: number; json?: boolean;
}

const asSeeds = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => { parseAddress(x); return x; });

/**
 * `corral warm`: load a list of hot keys from the origin into the cluster before users ask for them
 * (after a deploy, a flush, a keys-mode snapshot restart). Each key goes through getOrSet with a
 * lease, so a warm-up running beside live traffic never loads a key twice, and keys already cached
 * are skipped. Exit code 1 when any key failed to load.
 */
export function warmCommand(): Command {
  return new Command('warm')
    .description('load hot keys from your origin into the cache (progress on stderr, summary on stdout)')
    .addOption(envOption('--keys <file>', 'the keys: one per line (# comments allowed) or a JSON array, hottest first', 'CORRAL_WARM_KEYS'))
    .addOption(envOption('--from-snapshot', 'also warm the keys the nodes\' snapshots list (--snapshot-mode keys, or entries that expired while a node was down)', 'CORRAL_WARM_FROM_SNAPSHOT'))
    .addOption(envOption('--loader <module>', 'a JS module (CommonJS or ES) exporting `async function load(key, { signal })`, or that function as its default export', 'CORRAL_WARM_LOADER').makeOptionMandatory())
    .addOption(envOption('--seed <host:port>', 'a node of the cluster (comma-separated for several); the others are learned from it', 'CORRAL_SEED').argParser(asSeeds).default(['127.0.0.1:7070'], '127.0.0.1:7070'))
    .addOption(envOption('--concurrency <n>', 'loads at once: the warm-up is itself a load on your database', 'CORRAL_WARM_CONCURRENCY').argParser(asInt).default(8))
    .addOption(envOption('--ttl <duration>', 'TTL of the warmed entries (default: the client default, 60s); the loader may set its own', 'CORRAL_WARM_TTL').argParser(asDuration))
    .addOption(envOption('--grace <duration>', 'keep entries this long past expiry for stale-while-revalidate', 'CORRAL_WARM_GRACE').argParser(asDuration))
    .addOption(envOption('--loader-timeout <duration>', 'fail a key whose load takes longer than this', 'CORRAL_WARM_LOADER_TIMEOUT').argParser(asDuration))
    .option('--force', 'reload keys that are already cached')
    .option('--json', 'print the summary as JSON')
    .addOption(envOption('--timeout <duration>', 'per cache request', 'CORRAL_TIMEOUT').argParser(asDuration).default(2_000, '2s'))
    .action(async (f: WarmFlags) => {
      if (f.keys === undefined && !f.fromSnapshot) throw new Error('give --keys FILE, --from-snapshot, or both');
      if (f.concurrency < 1) throw new Error('--concurrency must be at least 1');
      const load = await loadLoaderModule(f.loader);
      const fromFile = f.keys === undefined ? [] : readKeysFile(f.keys);
      const cache = await Corral.connect({ seeds: f.seed, timeoutMs: f.timeout, name: 'corral-warm' });
      try {
        const keys = [...new Set([...fromFile, ...(f.fromSnapshot ? await cache.snapshotKeys() : [])])];
        const bar = new SingleBar({
          format: 'warming [{bar}] {percentage}% | {value}/{total} keys | loaded {loaded} skipped {skipped} failed {failed} | {eta_formatted}',
          hideCursor: true, etaBuffer: 50,
        }, Presets.shades_classic);
        bar.start(keys.length, 0, { loaded: 0, skipped: 0, failed: 0 });
        let result: WarmResult;
        try {
          result = await cache.warm(keys, (key, ctx) => load(key, ctx), {
            concurrency: f.concurrency, force: f.force === true,
            ...(f.ttl !== undefined && { ttlMs: f.ttl }), ...(f.grace !== undefined && { graceMs: f.grace }),
            ...(f.loaderTimeout !== undefined && { hardTimeoutMs: f.loaderTimeout }),
            onProgress: (p) => bar.update(p.done, { loaded: p.loaded, skipped: p.skipped, failed: p.failed }),
          });
        } finally {
          bar.stop();
        }
        report(result, f.json === true);
        if (result.failed > 0) process.exitCode = 1;
      } finally {
        await cache.close();
      }
    });
}

function report(r: WarmResult, json: boolean): void {
  if (json) {
    const errors = r.errors.map((e) => ({ key: e.key, error: describe(e.error) }));
    console.log(JSON.stringify({ total: r.total, loaded: r.loaded, skipped: r.skipped, failed: r.failed, elapsedMs: Math.round(r.elapsedMs), errors }));
    return;
  }
  console.log(`warmed ${r.total} keys in ${(r.elapsedMs / 1000).toFixed(2)} s: ${r.loaded} loaded, ${r.skipped} skipped (already cached), ${r.failed} failed`);
  for (const e of r.errors.slice(0, 10)) console.error(`  failed ${e.key}: ${describe(e.error)}`);
  if (r.failed > 10) console.error(`  ... and ${r.failed - 10} more`);
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const message = (e as Error)?.message ?? String(e);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
