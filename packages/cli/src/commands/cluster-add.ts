import { Command, Option } from 'commander';
import { formatBytes, Ops } from '@corral/protocol';
import { AdminLinks, isLive, liveIds, settled, sleep, type NodeStatus } from '../cluster-admin';
import { asDuration } from '../options';
import { handoffBar } from '../progress';
import { adminOptions, clusterTokenOption, requestTimeoutOption, seedOption, type ClusterFlags } from './cluster-options';

interface AddFlags extends ClusterFlags { wait: number }

const POLL_MS = 200;

export function clusterAddCommand(): Command {
  return new Command('add')
    .argument('<node>', 'data address (host:port) of a running node that is alone: started without --seeds')
    .description('make a running, empty node join the cluster, and follow the handoff until it owns its share of the keys')
    .addOption(seedOption()).addOption(clusterTokenOption()).addOption(requestTimeoutOption())
    .addOption(new Option('--wait <duration>', 'stop following the handoff after this long (the node stays in the cluster)').argParser(asDuration).default(600_000, '10m'))
    .option('--json', 'print the summary as one JSON object')
    .action(async (node: string, f: AddFlags) => {
      const links = new AdminLinks(adminOptions(f));
      try {
        await addNode(links, node, f);
      } finally {
        await links.closeAll();
      }
    });
}

async function addNode(links: AdminLinks, node: string, f: AddFlags): Promise<void> {
  const seed = await links.status(f.seed);
  if (!seed.gossip) throw new Error(`${f.seed} does not gossip (static --peers or --no-gossip); restart the nodes with --seeds to grow the cluster`);
  const target = await links.status(node);
  if (!target.gossip) throw new Error(`${node} does not gossip; start it with \`corral node start\` without --peers or --no-gossip`);
  const already = liveIds(seed).includes(node);
  const senders = liveIds(seed).filter((id) => id !== node);
  const base = await links.statuses(senders);
  const sentTo = (s: NodeStatus) => s.handoff.sender.lifetime.byTarget[node] ?? 0;
  const baseSent = new Map([...base].map(([id, s]) => [id, s instanceof Error ? 0 : sentTo(s)]));
  const baseBytes = new Map([...base].map(([id, s]) => [id, s instanceof Error ? 0 : s.handoff.sender.lifetime.bytes]));

  const t0 = performance.now();
  if (!already) {
    const seeds = seed.gossip.members.filter((m) => isLive(m.state) && m.id !== node).map((m) => m.gossipAddr);
    await links.request(node, Ops.CLUSTER_JOIN, [seeds], 20_000);
  }
  const joinedMs = performance.now() - t0;
  const bar = handoffBar(`adding ${node}`);
  bar.start(1, 0, { phase: 'joining' });
  let last: Map<string, NodeStatus | Error> = new Map();
  let sent = 0;
  let done = false;
  for (const deadline = performance.now() + f.wait; performance.now() < deadline;) {
    const mine = await links.status(node).catch(() => undefined);
    const ids = mine ? liveIds(mine) : senders.concat(node);
    last = await links.statuses(ids);
    sent = 0;
    let remaining = 0;
    for (const [id, s] of last) {
      if (id === node || s instanceof Error) continue;
      sent += sentTo(s) - (baseSent.get(id) ?? 0);
      const p = s.handoff.sender.pass?.byTarget[node];
      if (p && s.handoff.sender.state !== 'idle') remaining += Math.max(0, p.planned - p.sent - p.failed);
    }
    const phase = [...last.values()].some((s) => !(s instanceof Error) && s.ring.members < ids.length) ? 'gossip spreading the join' : 'handing off';
    bar.setTotal(Math.max(1, sent + remaining));
    bar.update(sent, { phase });
    if (ids.includes(node) && ids.length > 1 && settled(last, ids.length)) { done = true; break; }
    await sleep(POLL_MS);
  }
  bar.update(sent, { phase: done ? 'done' : 'still moving' });
  bar.stop();
  const ms = Math.round(performance.now() - t0);
  const bySource: Record<string, number> = {};
  let bytes = 0;
  for (const [id, s] of last) {
    if (id === node || s instanceof Error) continue;
    const n = sentTo(s) - (baseSent.get(id) ?? 0);
    if (n > 0) bySource[id] = n;
    bytes += s.handoff.sender.lifetime.bytes - (baseBytes.get(id) ?? 0);
  }
  const mine = last.get(node);
  const share = mine && !(mine instanceof Error) ? mine.ring.share : 0;
  const keys = mine && !(mine instanceof Error) ? mine.store.keys : 0;
  const summary = { node, joined: !already, settled: done, ms, joinMs: Math.round(joinedMs), moved: { keys: sent, bytes, bySource }, share, keys, members: last.size };
  if (f.json) console.log(JSON.stringify(summary));
  else {
    console.log(`${node} ${already ? 'was already a member' : 'joined'}; ${done ? 'handoff finished' : 'handoff still running when --wait ran out'} after ${(ms / 1000).toFixed(2)} s`);
    console.log(`moved ${sent} keys (${formatBytes(bytes)}) to it: ${Object.entries(bySource).map(([k, v]) => `${v} from ${k}`).join(', ') || 'none'}`);
    console.log(`it owns ${(share * 100).toFixed(1)}% of the ring (${last.size} members) and holds ${keys} keys`);
  }
  if (!done) process.exitCode = 2;
}
