import { Command } from 'commander';
import { join } from 'node:path';
import { AdminLinks, liveIds, settled, sleep } from '../cluster-admin';
import { agreementLine, metricsLines, snapshot, statusTable } from '../cluster-table';
import { asInt, asPort } from '../options';
import { spawnLocalNode, stopLocalNodes, type LocalNode } from '../local-cluster';

interface DevFlags { nodes: number; host: string; basePort: number; metricsBasePort: number; dir: string; maxMemory: string }

/** How long the dev cluster may take to form by gossip before we print what we have. */
const FORM_TIMEOUT_MS = 10_000;

export function devCommand(): Command {
  return new Command('dev')
    .description('run a local cluster on loopback in the foreground, formed by gossip (what `npm start` does); Ctrl-C stops it')
    .option('--nodes <n>', 'number of nodes', asInt, 3)
    .option('--host <addr>', 'loopback address to bind', '127.0.0.1')
    .option('--base-port <port>', 'first node port; node i listens on base+i and gossips on base+i+876', asPort, 7070)
    .option('--metrics-base-port <port>', 'first metrics port; node i serves /metrics on base+i', asPort, 9470)
    .option('--max-memory <size>', 'max memory per node', '256mb')
    .option('--dir <path>', 'where node logs go', join(process.cwd(), '.corral', 'dev'))
    .action(async (f: DevFlags) => {
      const nodes: LocalNode[] = [];
      let stopping = false;
      const stop = async () => {
        stopping = true;
        process.stdout.write('\nstopping nodes… ');
        await stopLocalNodes(nodes);
        console.log('done');
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
      try {
        for (let i = 0; i < f.nodes; i++) {
          // The first node starts alone; the others join through it, as a real deployment would through its seeds.
          const seeds = nodes[0]?.gossipAddr ? ['--seeds', nodes[0].gossipAddr] : [];
          nodes.push(await spawnLocalNode({
            name: `node-${i + 1}`, host: f.host, port: f.basePort + i, metricsPort: f.metricsBasePort + i,
            logDir: f.dir, extraArgs: ['--max-memory', f.maxMemory, ...seeds],
          }));
        }
      } catch (e) {
        console.error(`corral dev: ${(e as Error).message}`);
        console.error(`If a port is taken, pick others: npm start -- --base-port 17070 --metrics-base-port 19470`);
        await stopLocalNodes(nodes);
        process.exit(1);
      }
      const seeds = nodes.map((n) => `${n.host}:${n.port}`);
      await printCluster(seeds[0]!, nodes.length);
      console.log(`\nNodes (logs in ${f.dir}):`);
      for (const n of nodes) console.log(`  ${n.name}  ${n.host}:${n.port}  gossip ${n.gossipAddr ?? '-'}  pid ${n.pid}  log ${n.logFile}`);
      console.log(`\nConnect from TypeScript (any one seed is enough; the client learns the rest):\n  const cache = await Corral.connect({ seeds: ${JSON.stringify(seeds)} });`);
      console.log(`Try it:\n  npx corral set hello world --node ${seeds[0]}\n  npx corral get hello --node ${seeds[0]}\n  npx corral cluster status --seed ${seeds[0]}`);
      console.log(`Grow it: start a node alone, then add it:\n  npx corral node start --port ${f.basePort + nodes.length}\n  npx corral cluster add ${f.host}:${f.basePort + nodes.length} --seed ${seeds[0]}`);
      console.log('\nPress Ctrl-C to stop.');
      // A node removed with `corral cluster remove` exits 0 and the rest carry on; a crash stops them all.
      let running = nodes.length;
      const crashed = await new Promise<{ n: LocalNode; code: number | null } | undefined>((resolve) => {
        for (const n of nodes) {
          void n.exited.then((code) => {
            running--;
            if (stopping) return;
            if (code === 0) console.log(`${n.name} (${n.host}:${n.port}) left the cluster and exited`);
            if (code !== 0) resolve({ n, code });
            else if (running === 0) resolve(undefined);
          });
        }
      });
      // Ctrl-C: the nodes are leaving on purpose, and a second SIGTERM would cut their leave short.
      if (stopping) return;
      if (crashed) console.error(`${crashed.n.name} exited (code ${crashed.code}); see ${crashed.n.logFile}. Stopping the others.`);
      await stopLocalNodes(nodes);
      process.exit(crashed ? 1 : 0);
    });
}

/** Waits (bounded) until every node sees all of them, then prints the status table and where the metrics are. */
async function printCluster(seed: string, n: number): Promise<void> {
  const links = new AdminLinks({ timeoutMs: 2000 });
  try {
    const deadline = Date.now() + FORM_TIMEOUT_MS;
    let snap = await snapshot(links, seed);
    const formed = () => liveIds(snap.seed).length === n && settled(new Map(snap.members.map((m) => [m.id, m.status ?? new Error('no status')])), n);
    while (Date.now() < deadline && !formed()) {
      await sleep(100);
      snap = await snapshot(links, seed);
    }
    console.log(`Corral is running: ${liveIds(snap.seed).length} node cluster formed by gossip\n`);
    console.log(statusTable(snap));
    console.log(`\n${agreementLine(snap)}`);
    const metrics = metricsLines(snap);
    if (metrics.length > 0) console.log(`\nPrometheus metrics:\n${metrics.join('\n')}`);
  } finally {
    await links.closeAll();
  }
}
