/**
 * One client process of the thundering-herd benchmark: `users` virtual users in a closed loop of
 * getOrSet over `keys` keys (Zipf, s = 1: a few hot keys, a long tail), against a fake database
 * that takes `originMs` per call and counts its calls. Counts go into 100 ms buckets (calls,
 * origin calls, errors, peak concurrent origin calls) and its cache breaker's state changes,
 * printed as one JSON line on "stop".
 *   argv: seeds keys users thinkMs originMs limiter prefill
 *     limiter: 0 = unlimited; N = N database calls at once per process while bypassing the cache;
 *              N:all = every load (origin.limitAllLoads). prefill: 1 = load every key first.
 *   stdin: "go <startAtWallMs>", later "stop"
 */
import { createInterface } from 'node:readline';
// The compiled client (node_modules/@corral/client → dist): ts-node then only compiles this file, so workers start fast.
import { Corral } from '@corral/client';

const [seeds, keysArg, usersArg, thinkArg, originArg, limiterArg, prefillArg] = process.argv.slice(2) as [string, string, string, string, string, string, string];
const keys = Number(keysArg), users = Number(usersArg), thinkMs = Number(thinkArg), originMs = Number(originArg);
const limiter = Number(limiterArg.split(':')[0]), limitAllLoads = limiterArg.endsWith(':all');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BUCKET_MS = 100;

/** Zipf(1) over `n` ranks: the CDF once, then a binary search per draw. */
function zipf(n: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) { sum += 1 / (i + 1); cdf[i] = sum; }
  return () => {
    const u = Math.random() * sum;
    let lo = 0, hi = n - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid]! < u) lo = mid + 1; else hi = mid; }
    return lo;
  };
}

async function main(): Promise<void> {
  const cache = await Corral.connect({
    seeds: seeds.split(','), timeoutMs: 300, connectTimeoutMs: 300, reconnect: { baseMs: 50, capMs: 500 },
    stampede: {
      // A shorter open period than the default 5 s keeps the benchmark short; the shape is the same.
      cacheBreaker: { openMs: 1_000 },
      origin: limiter > 0 ? { maxConcurrency: limiter, maxQueue: 200, queueTimeoutMs: 500, limitAllLoads } : { maxConcurrency: 1_000_000, maxQueue: 1_000_000 },
    },
  });
  const ttlMs = 300_000;
  // One worker fills the whole key space before the clock starts: the steady state is a fully warm cache.
  if (prefillArg === '1') {
    let todo = Array.from({ length: keys }, (_, i) => `item:${i}`);
    // The other workers are starting at the same time on a small box: a cache call may time out; try those keys again.
    // (a load whose store timed out still counts as loaded, so check what is in the cache).
    for (let round = 0; round < 10 && todo.length > 0; round++) {
      await cache.warm(todo, (key) => ({ key, row: 'x'.repeat(100) }), { concurrency: 16, ttlMs });
      const got = await cache.mget(todo).catch(() => todo.map(() => undefined));
      todo = todo.filter((_, i) => got[i] === undefined);
    }
    if (todo.length > 0) process.stderr.write(`prefill: ${todo.length} keys still missing\n`);
  }
  // Every state change of this client's cache breaker: while it is open, getOrSet goes to the database.: from then on its calls use the cache, not the database.
  const breaker: Array<[number, string]> = [];
  cache.on('cacheBreaker', (c) => { breaker.push([Date.now(), c.state]); });
  if (process.env['HERD_DEBUG'] === '1') {
    const t0 = Date.now();
    cache.on('cacheBreaker', (c) => process.stderr.write(`[w${process.pid}] +${Date.now() - t0} cache ${c.state} (${c.reason})\n`));
    cache.on('breaker', (c) => process.stderr.write(`[w${process.pid}] +${Date.now() - t0} node ${JSON.stringify(c)}\n`));
  }
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  process.stdout.write('ready\n');
  const go = (await lines.next()).value as string;
  const startAt = Number(go.split(' ')[1]);
  let stop = false;
  void lines.next().then(() => { stop = true; });
  const calls: number[] = [], origin: number[] = [], errors: number[] = [], peakConc: number[] = [];
  const bucket = () => Math.max(0, Math.floor((Date.now() - startAt) / BUCKET_MS));
  const inc = (a: number[], b: number) => { a[b] = (a[b] ?? 0) + 1; };
  let concurrent = 0;
  // The fake database: counts its calls and how many run at once.
  const load = async (key: string) => {
    const b = bucket();
    inc(origin, b);
    concurrent++;
    peakConc[b] = Math.max(peakConc[b] ?? 0, concurrent);
    try {
      await sleep(originMs);
      return { key, row: 'x'.repeat(100) };
    } finally {
      concurrent--;
    }
  };
  const draw = zipf(keys);
  await sleep(Math.max(0, startAt - Date.now()));
  const user = async () => {
    await sleep(Math.random() * thinkMs);
    while (!stop) {
      const key = `item:${draw()}`;
      const b = bucket();
      inc(calls, b);
      try {
        await cache.getOrSet(key, () => load(key), { ttlMs, beta: 0, hardTimeoutMs: 2_000 });
      } catch {
        inc(errors, b);
      }
      await sleep(thinkMs);
    }
  };
  await Promise.all(Array.from({ length: users }, user));
  const dense = (a: number[]) => Array.from({ length: a.length }, (_, i) => a[i] ?? 0);
  process.stdout.write(`${JSON.stringify({ calls: dense(calls), origin: dense(origin), errors: dense(errors), peakConc: dense(peakConc), breaker, stats: cache.stampedeStats() })}\n`);
  await cache.close();
  process.exit(0);
}

main().catch((e: unknown) => { process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`); process.exit(1); });
