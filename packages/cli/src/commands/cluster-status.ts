import { Command } from 'commander';
import { AdminLinks } from '../cluster-admin';
import { agreementLine, metricsLines, snapshot, statusTable } from '../cluster-table';
import { adminOptions, clusterTokenOption, requestTimeoutOption, seedOption, type ClusterFlags } from './cluster-options';

export function clusterStatusCommand(): Command {
  return new Command('status')
    .description('print every member: address, state, incarnation, share of the ring, keys, memory, hit ratio, ops/s')
    .addOption(seedOption()).addOption(clusterTokenOption()).addOption(requestTimeoutOption())
    .option('--json', 'print every member\'s CLUSTER_STATUS reply as JSON instead of a table')
    .action(async (f: ClusterFlags) => {
      const links = new AdminLinks(adminOptions(f));
      try {
        const snap = await snapshot(links, f.seed);
        if (f.json) {
          console.log(JSON.stringify(snap.members.map((m) => ({ ...m, status: m.status instanceof Error ? { error: m.status.message } : m.status })), null, 2));
          return;
        }
        console.log(statusTable(snap));
        console.log(`\n${agreementLine(snap)}`);
        const metrics = metricsLines(snap);
        if (metrics.length > 0) console.log(`metrics:\n${metrics.join('\n')}`);
      } finally {
        await links.closeAll();
      }
    });
}
