/**
 * One client process of the stampede benchmark: `concurrency` virtual users calling the hot key in
 * a closed loop (with think time) until the deadline, through one strategy. The loader appends a
 * timestamp to a shared file (loader calls fleet-wide) and takes `loaderMs`. Samples (wall start
 * ms, latency ms) go to a binary file for the parent.
 *   argv: seed mode key ttlMs loaderMs concurrency thinkMs counterFile outFile
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Corral } from '../../packages/client/src';

const [seed, mode, key, ttlArg, loaderArg, concArg, thinkArg, counterFile, outFile] = process.argv.slice(2) as string[] & { length: 9 };
const ttlMs = Number(ttlArg), loaderMs = Number(loaderArg), concurrency = Number(concArg), thinkMs = Number(thinkArg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const cache = await Corral.connect({ seeds: [seed!], timeoutMs: 10_000 });
  const loader = async () => {
    appendFileSync(counterFile!, `${Date.now()}\n`);
    await sleep(loaderMs);
    return { at: Date.now(), body: 'x'.repeat(200) };
  };
  const strategies: Record<string, () => Promise<unknown>> = {
    'cache-aside': async () => {
      const v = await cache.get(key!);
      if (v !== undefined) return v;
      const x = await loader();
      await cache.set(key!, x, { ttlMs });
      return x;
    },
    coalescing: () => cache.getOrSet(key!, loader, { ttlMs, lease: false, beta: 0 }),
    leases: () => cache.getOrSet(key!, loader, { ttlMs, beta: 0 }),
    'leases+grace': () => cache.getOrSet(key!, loader, { ttlMs, graceMs: ttlMs * 4, beta: 0 }),
    'leases+xfetch': () => cache.getOrSet(key!, loader, { ttlMs, beta: 1 }),
  };
  const call = strategies[mode!];
  if (!call) throw new Error(`unknown mode ${mode}`);
  process.stdout.write('ready\n');
  const go = await new Promise<string>((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
  const [startAt, endAt] = go.split(' ').map(Number) as [number, number];
  await sleep(Math.max(0, startAt - Date.now()));
  const samples: number[] = [];
  let errors = 0;
  const user = async (): Promise<void> => {
    await sleep(Math.random() * thinkMs); // spread the users over the think time
    while (Date.now() < endAt) {
      const wall = Date.now();
      const t0 = performance.now();
      try { await call(); } catch { errors++; }
      samples.push(wall, performance.now() - t0);
      await sleep(thinkMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, user));
  writeFileSync(outFile!, Buffer.from(new Float64Array(samples).buffer));
  process.stdout.write(`${JSON.stringify({ errors, stats: cache.stampedeStats() })}\n`);
  await cache.close();
  process.exit(0);
}

main().catch((e: unknown) => { process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`); process.exit(1); });
