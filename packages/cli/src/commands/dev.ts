import { Command } from 'commander';
import { join } from 'node:path';
import { asInt, asPort } from '../options';
import { spawnLocalNode, stopLocalNodes, type LocalNode } from '../local-cluster';

interface DevFlags { nodes: number; host: string; basePort: number; metricsBasePort: number; dir: string; maxMemory: string }

export function devCommand(): Command {
  return new Command('dev')
    .description('run a local cluster on loopback in the foreground (what `npm start` does); Ctrl-C stops it')
    .option('--nodes <n>', 'number of nodes', asInt, 1)
    .option('--host <addr>', 'loopback address to bind', '127.0.0.1')
    .option('--base-port <port>', 'first node port; node i listens on base+i', asPort, 7070)
    .option('--metrics-base-port <port>', 'first metrics port; node i serves /metrics on base+i', asPort, 9470)
    .option('--max-memory <size>', 'max memory per node', '256mb')
    .option('--dir <path>', 'where node logs go', join(process.cwd(), '.corral', 'dev'))
    .action(async (f: DevFlags) => {
      const nodes: LocalNode[] = [];
      const stop = async () => {
        process.stdout.write('\nstopping nodes… ');
        await stopLocalNodes(nodes);
        console.log('done');
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
      try {
        for (let i = 0; i < f.nodes; i++) {
          nodes.push(await spawnLocalNode({
            name: `node-${i + 1}`, host: f.host, port: f.basePort + i, metricsPort: f.metricsBasePort + i,
            logDir: f.dir, extraArgs: ['--max-memory', f.maxMemory],
          }));
        }
      } catch (e) {
        console.error(`corral dev: ${(e as Error).message}`);
        console.error(`If the port is taken, pick others: npm start -- --base-port 17070 --metrics-base-port 19470`);
        await stopLocalNodes(nodes);
        process.exit(1);
      }
      const seeds = nodes.map((n) => `${n.host}:${n.port}`);
      console.log(`Corral is running: ${nodes.length} node${nodes.length > 1 ? 's' : ''} on ${f.host}\n`);
      for (const n of nodes) console.log(`  ${n.name}  ${n.host}:${n.port}  pid ${n.pid}  metrics http://${n.host}:${n.metricsPort}/metrics  log ${n.logFile}`);
      console.log(`\nConnect from TypeScript:\n  const cache = await Corral.connect({ seeds: ${JSON.stringify(seeds)} });`);
      console.log(`Try it:\n  npx corral set hello world --node ${seeds[0]}\n  npx corral get hello --node ${seeds[0]}\n  npx corral stats --node ${seeds[0]}`);
      console.log('\nPress Ctrl-C to stop.');
      const first = await Promise.race(nodes.map((n) => n.exited.then((code) => ({ n, code }))));
      console.error(`${first.n.name} exited (code ${first.code}); see ${first.n.logFile}. Stopping the others.`);
      await stopLocalNodes(nodes);
      process.exit(1);
    });
}
