/**
 * `npm run bench:herd`: the thundering herd of a whole-cluster restart. Three node processes
 * (static membership), --processes client processes × --users virtual users calling getOrSet over
 * --keys keys (Zipf), each miss loaded from a fake database (--origin-ms per call) that counts its
 * calls. The key space is loaded first, so before the restart every call is a hit. After --warm-ms
 * every node gets SIGTERM at once and is started again on the same port; the load runs on for
 * --observe-ms after the cluster is back. Once per variant:
 *   cold              no snapshot, no origin limiter: the tier comes back empty
 *   cold+limiter      origin limiter (--limit concurrent database calls per process while the cache is bypassed)
 *   cold+limiter-all  the limiter on every load, lease fills included (origin.limitAllLoads)
 *   snapshot          nodes write a snapshot on SIGTERM (--snapshot-file, entries) and load it on start
 *   snapshot+limiter  both
 * Prints peak database calls per second and concurrency while the clients bypass the cache and once
 * they are back on it, database calls caused by the restart, and how long until the hit ratio is
 * back. Nodes and clients run the compiled packages (`npm run build` first), so a restart costs what
 * a real one does rather than a TypeScript compile. HERD_DEBUG=1 prints the bucket timeline.
 *   npm run bench:herd -- --processes 3 --users 30 --keys 2000 --origin-ms 50 --limit 4
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { assertBuilt, freePort, startCluster, startWorker } from './processes';
import { summarize, type Row, type WorkerResult } from './summary';

interface Flags {
  processes: number; users: number; keys: number; think: number; originMs: number; limit: number;
  warmMs: number; observeMs: number; variants: string; shutdownGrace: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const debug = process.env['HERD_DEBUG'] === '1';

async function runVariant(variant: string, f: Flags): Promise<Row> {
  const snapshotDir = variant.startsWith('snapshot') ? mkdtempSync(join(tmpdir(), 'corral-herd-')) : undefined;
  const limiter = variant.endsWith('+limiter-all') ? `${f.limit}:all` : variant.endsWith('+limiter') ? String(f.limit) : '0';
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  let cluster = await startCluster(ports, snapshotDir, f.shutdownGrace);
  const seeds = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const workers = Array.from({ length: f.processes }, (_, i) => startWorker(
    [seeds, String(f.keys), String(f.users), String(f.think), String(f.originMs), limiter, i === 0 ? '1' : '0']));
  try {
    await Promise.all(workers.map((w) => w.waitFor((l) => l === 'ready', 60_000)));
    const startAt = Date.now() + 300;
    for (const w of workers) w.child.stdin!.write(`go ${startAt}\n`);
    await sleep(startAt + f.warmMs - Date.now());

    const tStop = Date.now();
    for (const n of cluster.nodes) n.child.kill('SIGTERM');
    await Promise.all(cluster.nodes.map((n) => n.exited));
    const tExit = Date.now();
    cluster = await startCluster(ports, snapshotDir, f.shutdownGrace);
    const tUp = Date.now();
    if (debug) process.stderr.write(`  nodes exited ${tExit - tStop} ms after SIGTERM, listening again ${tUp - tExit} ms later\n`);
    await sleep(f.observeMs);

    for (const w of workers) w.child.stdin!.write('stop\n');
    const results = await Promise.all(workers.map(async (w) => JSON.parse(await w.waitFor((l) => l.startsWith('{'), 15_000)) as WorkerResult));
    return summarize(variant, cluster.restored, results, { startAt, tStop, tUp }, debug);
  } finally {
    for (const p of [...cluster.nodes, ...workers]) p.child.kill('SIGKILL');
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  }
}

function printTable(rows: Row[], f: Flags): void {
  const n = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  const s = (ms: number | undefined) => (ms === undefined ? '–' : (ms / 1000).toFixed(1));
  const header = ['variant', 'restored', 'down s', 'bypass s', 'bypass: peak origin/s', 'bypass: peak concurrent',
    'cache back: peak origin/s', 'cache back: peak concurrent', 'origin calls from restart', 'hit ratio back (s after up)', 'errors'];
  const body = rows.map((r) => [r.variant, n(r.restored), s(r.downMs), s(r.bypassMs), n(r.bypassPeak), n(r.bypassConc),
    n(r.backPeak), n(r.backConc), n(r.restartOrigin), r.recoverMs === undefined ? `> ${s(f.observeMs)}` : s(r.recoverMs), n(r.errors)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((x) => x[i]!.length)));
  for (const line of [header, widths.map((w) => '-'.repeat(w)), ...body]) console.log(line.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log(`\nbefore the restart: ${rows.map((r) => `${r.variant} ${(r.steadyHit * 100).toFixed(1)}% hits, ${n(r.steadyPeak)} origin/s`).join('; ')}`);
  console.log('down: SIGTERM → all three listening again. bypass: SIGTERM → every client\'s cache breaker closed again, cluster up;');
  console.log('  meanwhile getOrSet goes straight to the database (through the limiter, when on). cache back: from then to the end.');
  console.log('hit ratio back: the first 500 ms window after the cluster is up with a hit ratio >= 0.9 × before.');
  console.log('origin calls from restart: database calls from SIGTERM to the end. errors: failed calls (limiter refusals).');
}

async function main(): Promise<void> {
  const f = new Command()
    .description('thundering herd of a whole-cluster restart: database calls per second with/without snapshots and the origin limiter')
    .option('--processes <n>', 'client processes', Number, 3)
    .option('--users <n>', 'virtual users per process', Number, 30)
    .option('--keys <n>', 'key space (Zipf, s = 1)', Number, 2000)
    .option('--think <ms>', 'pause between a user\'s calls', Number, 10)
    .option('--origin-ms <ms>', 'how long a database call takes', Number, 50)
    .option('--limit <n>', 'origin limiter: concurrent database calls per process (the +limiter variants)', Number, 4)
    .option('--warm-ms <ms>', 'load before the restart', Number, 6_000)
    .option('--observe-ms <ms>', 'load after the cluster is back', Number, 8_000)
    // Under load a node's drain lasts its whole grace (clients keep the connection busy), so this is part of every restart.
    .option('--shutdown-grace <ms>', 'the nodes\' --shutdown-grace', Number, 1_000)
    .option('--variants <list>', 'variants', 'cold,cold+limiter,cold+limiter-all,snapshot,snapshot+limiter')
    .parse().opts<Flags>();
  assertBuilt();
  const rows: Row[] = [];
  for (const v of f.variants.split(',')) {
    process.stderr.write(`  ${v}...\n`);
    rows.push(await runVariant(v, f));
  }
  console.log(`\n3 nodes restarted at once under ${f.processes} processes × ${f.users} users, ${f.keys} keys (Zipf, all loaded before), ` +
    `think ${f.think} ms, database ${f.originMs} ms/call, limiter ${f.limit}/process\n`);
  printTable(rows, f);
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
