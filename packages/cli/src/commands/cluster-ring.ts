import { Command } from 'commander';
import { HashRing, loadRingHasher, ringBalance } from '@corral/ring';
import { AdminLinks, isLive } from '../cluster-admin';
import { snapshot } from '../cluster-table';
import { formatTable } from '../table';
import { adminOptions, clusterTokenOption, requestTimeoutOption, seedOption, type ClusterFlags } from './cluster-options';

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

export function clusterRingCommand(): Command {
  return new Command('ring')
    .description('show who owns which part of the hash ring, and whether every member routes by the same ring')
    .addOption(seedOption()).addOption(clusterTokenOption()).addOption(requestTimeoutOption())
    .option('--arcs', 'also list every arc (hash range) with its owner')
    .action(async (f: ClusterFlags & { arcs?: boolean }) => {
      await loadRingHasher();
      const links = new AdminLinks(adminOptions(f));
      try {
        const snap = await snapshot(links, f.seed);
        const live = snap.members.filter((m) => isLive(m.state));
        // The same inputs every node uses: live member ids and the vnode count.
        const ring = new HashRing(live.map((m) => ({ id: m.id })), { vnodes: snap.seed.ring.vnodes, epoch: snap.seed.epoch });
        const arcs = ring.arcs();
        const shares = ring.shares();
        const rows = ring.members().map((m) => {
          const mine = arcs.filter((a) => a.owner === m.id);
          const s = snap.members.find((x) => x.id === m.id)?.status;
          const fp = s === undefined || s instanceof Error ? '?' : s.ring.fingerprint === ring.fingerprint() ? 'same' : 'DIFFERENT';
          const keys = s === undefined || s instanceof Error ? '-' : String(s.store.keys);
          return [m.id, `${((shares.get(m.id) ?? 0) * 100).toFixed(2)}%`, String(mine.length), keys, fp];
        });
        console.log(formatTable(['member', 'share', 'arcs', 'keys', 'its ring'], rows));
        const b = ringBalance(ring);
        console.log(`\nepoch ${snap.seed.epoch}, ${ring.size} members x ${ring.vnodes} vnodes, fingerprint ${ring.fingerprint()}; ` +
          `largest share / mean ${b.maxOverMean.toFixed(3)}`);
        if (f.arcs) console.log(`\n${formatTable(['start', 'end', 'owner'], arcs.map((a) => [hex(a.start), hex(a.end), a.owner]))}`);
      } finally {
        await links.closeAll();
      }
    });
}
