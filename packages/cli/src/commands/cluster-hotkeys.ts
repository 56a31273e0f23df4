import { Command } from 'commander';
import { Ops } from '@corral/protocol';
import { AdminLinks, isLive } from '../cluster-admin';
import { formatTable } from '../table';
import { adminOptions, clusterTokenOption, requestTimeoutOption, seedOption, type ClusterFlags } from './cluster-options';

/** The HOTKEYS reply (packages/server/src/hotkeys/hot-key-service.ts). */
interface HotKeysReport {
  node: string;
  hot: Array<{ key: string; count: number; sinceMs: number; reads: number }>;
  copies: Array<{ key: string; owner: string; reads: number; version: number }>;
  top: Array<{ key: string; count: number }>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * `corral cluster hotkeys`: every member's hot keys (the ones it owns and copies to the others),
 * the copies it holds of other owners' hot keys, and with --top its busiest keys. Members come from
 * TOPOLOGY, so static (--peers) clusters are listed as well as gossip ones.
 */
export function clusterHotkeysCommand(): Command {
  return new Command('hotkeys')
    .description('list hot keys: which member owns each, how busy it is, and which members serve copies of it')
    .addOption(seedOption()).addOption(clusterTokenOption()).addOption(requestTimeoutOption())
    .option('--top', 'also list each member\'s busiest keys (hot or not)')
    .option('--json', 'print every member\'s HOTKEYS reply as JSON')
    .action(async (f: ClusterFlags & { top?: boolean }) => {
      const links = new AdminLinks(adminOptions(f));
      try {
        const topo = await links.request(f.seed, Ops.TOPOLOGY) as { members: Array<{ id: string; state: string }> };
        const ids = topo.members.filter((m) => isLive(m.state)).map((m) => m.id);
        const reports = await Promise.all(ids.map(async (id): Promise<[string, HotKeysReport | Error]> => {
          try { return [id, await links.request(id, Ops.HOTKEYS) as HotKeysReport]; } catch (e) { return [id, e as Error]; }
        }));
        if (f.json) { console.log(JSON.stringify(Object.fromEntries(reports.map(([id, r]) => [id, r instanceof Error ? { error: r.message } : r])), null, 2)); return; }
        const copiesOf = new Map<string, string[]>();
        for (const [id, r] of reports) if (!(r instanceof Error)) for (const c of r.copies) copiesOf.set(c.key, [...(copiesOf.get(c.key) ?? []), `${id} (${c.reads})`]);
        const rows: string[][] = [];
        for (const [id, r] of reports) {
          if (r instanceof Error) { rows.push(['-', id, '-', '-', '-', `unreachable: ${r.message}`]); continue; }
          for (const h of r.hot) rows.push([h.key, id, String(h.count), String(h.reads), seconds(h.sinceMs), (copiesOf.get(h.key) ?? []).join(', ') || '-']);
        }
        if (rows.length === 0) console.log('no hot keys');
        else console.log(formatTable(['key', 'owner', 'count', 'owner reads', 'hot for', 'copies (reads served)'], rows));
        if (f.top) {
          for (const [id, r] of reports) {
            if (r instanceof Error || r.top.length === 0) continue;
            console.log(`\n${id}: busiest keys (decayed read count)\n${formatTable(['key', 'count'], r.top.map((t) => [t.key, String(t.count)]))}`);
          }
        }
      } finally {
        await links.closeAll();
      }
    });
}
