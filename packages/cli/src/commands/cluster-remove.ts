import { Command, Option } from 'commander';
import { formatBytes, Ops } from '@corral/protocol';
import { AdminLinks, liveIds, settled, sleep } from '../cluster-admin';
import { asDuration } from '../options';
import { handoffBar } from '../progress';
import { adminOptions, clusterTokenOption, requestTimeoutOption, seedOption, type ClusterFlags } from './cluster-options';

interface RemoveFlags extends ClusterFlags { wait: number; keepRunning?: boolean }

interface DrainReply { state: string; moved: { keys: number; bytes: number; byTarget: Record<string, number> }; stranded: number; ms: number }

const POLL_MS = 200;

export function clusterRemoveCommand(): Command {
  return new Command('remove')
    .argument('<node>', 'data address (host:port) of the member to remove')
    .description('drain a member: it leaves the cluster, hands every key to its new owner, then exits (code 0)')
    .addOption(seedOption()).addOption(clusterTokenOption()).addOption(requestTimeoutOption())
    .option('--keep-running', 'leave the node running, alone, once drained (it can be added again later)')
    .addOption(new Option('--wait <duration>', 'give up waiting for the drain after this long').argParser(asDuration).default(600_000, '10m'))
    .option('--json', 'print the summary as one JSON object')
    .action(async (node: string, f: RemoveFlags) => {
      const links = new AdminLinks(adminOptions(f));
      try {
        await removeNode(links, node, f);
      } finally {
        await links.closeAll();
      }
    });
}

async function removeNode(links: AdminLinks, node: string, f: RemoveFlags): Promise<void> {
  const seed = await links.status(f.seed);
  if (!liveIds(seed).includes(node)) throw new Error(`${node} is not a live member of the cluster ${f.seed} belongs to`);
  const before = await links.status(node);
  const others = liveIds(before).filter((id) => id !== node);
  if (others.length === 0) throw new Error(`${node} is the only member: its keys would have nowhere to go`);
  const keys0 = before.store.keys;
  const base = before.handoff.sender.lifetime.keys;

  const t0 = performance.now();
  // The drain reply comes when it is over; progress is polled on another connection meanwhile.
  const drainConn = await links.open(node);
  let reply: DrainReply | undefined;
  let failure: Error | undefined;
  void drainConn.request(Ops.CLUSTER_DRAIN, [{ exit: !f.keepRunning, wait: true }], { timeoutMs: f.wait })
    .then((r) => { reply = r as DrainReply; }, (e: Error) => { failure = e; });
  const bar = handoffBar(`removing ${node}`);
  bar.start(Math.max(1, keys0), 0, { phase: 'leaving' });
  for (const deadline = performance.now() + f.wait; !reply && !failure && performance.now() < deadline;) {
    const s = await links.status(node).catch(() => undefined);
    if (s) bar.update(Math.min(keys0, s.handoff.sender.lifetime.keys - base), { phase: s.handoff.sender.state === 'idle' ? 'leaving' : 'handing off' });
    await sleep(POLL_MS);
  }
  await drainConn.close();
  await links.drop(node);
  if (!reply) {
    bar.stop();
    throw failure ?? new Error(`${node} did not finish draining within ${f.wait} ms`);
  }
  bar.update(Math.min(keys0, reply.moved.keys), { phase: 'waiting for the others to settle' });
  // Done when the rest route alike without the node and nobody waits for its keys any more.
  let agreed = false;
  for (const deadline = performance.now() + 30_000; performance.now() < deadline;) {
    if (settled(await links.statuses(others), others.length)) { agreed = true; break; }
    await sleep(POLL_MS);
  }
  bar.stop();
  const ms = Math.round(performance.now() - t0);
  const summary = { node, exited: !f.keepRunning, settled: agreed, ms, drainMs: reply.ms, moved: reply.moved, stranded: reply.stranded, keysBefore: keys0, members: others.length };
  if (f.json) console.log(JSON.stringify(summary));
  else {
    console.log(`${node} drained and left in ${(ms / 1000).toFixed(2)} s${f.keepRunning ? '; it keeps running, alone' : '; its process exits'}`);
    console.log(`moved ${reply.moved.keys} keys (${formatBytes(reply.moved.bytes)}): ${Object.entries(reply.moved.byTarget).map(([k, v]) => `${v} to ${k}`).join(', ') || 'none'}`);
    if (reply.stranded > 0) console.log(`WARNING: ${reply.stranded} keys could not be handed over (no member took them)`);
    console.log(agreed ? `the other ${others.length} members agree on the new ring` : 'the other members did not settle on one ring within 30 s; check `corral cluster status`');
  }
  if (!agreed || reply.stranded > 0) process.exitCode = 2;
}
