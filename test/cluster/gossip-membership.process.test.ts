/**
 * Membership by gossip with real node processes (`corral node start`) on loopback aliases
 * 127.0.0.2…7 and real UDP, 200 ms protocol periods. One cluster of five goes through the whole
 * story in order: converge, a crash (SIGKILL), a freeze (SIGSTOP past the suspicion timeout, then
 * SIGCONT), a graceful leave, and a stranger with the wrong cluster key.
 */
import { Corral } from '@corral/client';
import { suspicionTimeoutMs } from '@corral/coordinator';
import { FAST_GOSSIP, ProcessReaper, askNode, loopbackHost, spawnGossipNode, waitUntil, type GossipNode } from '@corral/test-utils';

jest.setTimeout(60_000);

const KEY = 'gossip-test-key';
/** Process scheduling on a loaded 2-core box: several node processes, jest, and the polling. */
const SLACK_MS = 1500;
const T = FAST_GOSSIP;

interface Status { id: string; ring: { fingerprint: number; members: number }; gossip: { members: Array<{ id: string; state: string; incarnation: number }>; stats: Record<string, number> } }

const reaper = new ProcessReaper();
let nodes: GossipNode[] = [];
let client: Corral | undefined;

const status = (n: GossipNode) => askNode(n.id, 'CLUSTER_STATUS', [], { timeoutMs: 1000 }) as Promise<Status>;
const stateIn = (s: Status, id: string) => s.gossip.members.find((m) => m.id === id)?.state;
const statuses = (ns: GossipNode[]) => Promise.all(ns.map(status));

/** Worst case from a crash to every survivor marking it dead (the bound of docs/gossip.md). */
function crashBoundMs(n: number): number {
  const periods = 2 * (n - 1) + 1 + Math.ceil(Math.log2(n)) + 2;
  return periods * T.protocolPeriodMs + suspicionTimeoutMs(n, T);
}

beforeAll(async () => {
  const first = reaper.track(await spawnGossipNode(loopbackHost(0), [], ['--cluster-key', KEY]));
  const rest = await Promise.all([1, 2, 3, 4].map(async (i) => reaper.track(await spawnGossipNode(loopbackHost(i), [first.gossipAddr], ['--cluster-key', KEY]))));
  nodes = [first, ...rest];
});

afterAll(async () => {
  await client?.close();
  await reaper.killAll();
});

test('five nodes converge on one member list and one ring', async () => {
  const ids = nodes.map((n) => n.id).sort();
  const ms = await waitUntil(async () => {
    const all = await statuses(nodes);
    return all.every((s) => s.gossip.members.filter((m) => m.state === 'alive').map((m) => m.id).sort().join() === ids.join()
      && s.ring.fingerprint === all[0]!.ring.fingerprint && s.ring.members === 5);
  }, 10_000, 'five members everywhere');
  console.log(`converged: 5 members, one ring, ${Math.round(ms)} ms after the last node started`);
  client = await Corral.connect({ seeds: [nodes[0]!.id] });
  expect(client.topology().members.filter((m) => m.state === 'alive')).toHaveLength(5);
});

test('SIGKILL: every other node marks it dead within the bound, and clients stop routing to it', async () => {
  const victim = nodes[4]!;
  const survivors = nodes.slice(0, 4);
  const keys = Array.from({ length: 2000 }, (_x, i) => `k${i}`);
  expect(keys.some((k) => client!.ownerOf(k) === victim.id)).toBe(true);
  const bound = crashBoundMs(5);
  victim.proc.kill('SIGKILL');
  const ms = await waitUntil(async () => (await statuses(survivors)).every((s) => stateIn(s, victim.id) === 'dead'), bound + SLACK_MS, 'all survivors to mark the killed node dead');
  console.log(`SIGKILL: dead everywhere after ${Math.round(ms)} ms (bound ${bound} ms + ${SLACK_MS} ms slack; suspicion alone ${suspicionTimeoutMs(5, T)} ms)`);
  expect(ms).toBeLessThanOrEqual(bound + SLACK_MS);
  // The survivors pushed the new topology: the client routes nothing to the dead node, and its keys answer.
  await waitUntil(() => keys.every((k) => client!.ownerOf(k) !== victim.id), 2000, 'the client to drop the dead node');
  expect(client!.topology().members.find((m) => m.id === victim.id)?.state).toBe('dead');
  const values = await client!.mget(keys);
  expect(values).toHaveLength(keys.length);
});

test('SIGSTOP past the suspicion timeout: dead; SIGCONT: it refutes and rejoins', async () => {
  const frozen = nodes[3]!;
  const others = nodes.slice(0, 3);
  const bound = crashBoundMs(4);
  frozen.proc.kill('SIGSTOP');
  const deadMs = await waitUntil(async () => (await statuses(others)).every((s) => stateIn(s, frozen.id) === 'dead'), bound + SLACK_MS, 'the frozen node to be declared dead');
  const deadInc = (await status(others[0]!)).gossip.members.find((m) => m.id === frozen.id)!.incarnation;
  frozen.proc.kill('SIGCONT');
  const backMs = await waitUntil(async () => {
    const all = await statuses([...others, frozen]);
    return all.every((s) => stateIn(s, frozen.id) === 'alive' && s.ring.members === 4);
  }, 20 * T.protocolPeriodMs + SLACK_MS, 'the thawed node to be alive everywhere again');
  const after = await statuses([...others, frozen]);
  for (const s of after) expect(s.gossip.members.find((m) => m.id === frozen.id)!.incarnation).toBeGreaterThan(deadInc);
  expect(after.find((s) => s.id === frozen.id)!.gossip.stats['refutes']).toBeGreaterThanOrEqual(1);
  console.log(`SIGSTOP: dead after ${Math.round(deadMs)} ms (bound ${bound} ms); SIGCONT: alive again everywhere after ${Math.round(backMs)} ms, incarnation ${deadInc} -> higher`);
});

test('a graceful leave is seen by all within one gossip round trip', async () => {
  const leaver = nodes[2]!;
  const others = [nodes[0]!, nodes[1]!, nodes[3]!];
  const conns = others; // polled back to back; each poll is a fresh loopback connection (~1 ms)
  const t0 = performance.now();
  leaver.proc.kill('SIGTERM');
  const ms = await waitUntil(async () => (await statuses(conns)).every((s) => stateIn(s, leaver.id) === 'left'), 5000, 'all to see the leave', 5);
  const code = (await leaver.proc.exited).code;
  console.log(`graceful leave (SIGTERM): seen as left by all ${others.length} after ${Math.round(ms)} ms (protocol period ${T.protocolPeriodMs} ms); exit code ${code}`);
  // Announced directly to every member: no probe, no suspicion. One period is the budget; SLACK covers a busy box.
  expect(performance.now() - t0).toBeLessThanOrEqual(T.protocolPeriodMs + SLACK_MS);
  expect(ms).toBeLessThan(suspicionTimeoutMs(4, T));
  expect(code).toBe(0);
});

test('a node with the wrong cluster key cannot join', async () => {
  const members = [nodes[0]!, nodes[1]!, nodes[3]!];
  const before = (await status(nodes[0]!)).gossip.stats['authFailures'] ?? 0;
  const stranger = reaper.track(await spawnGossipNode(loopbackHost(5), [nodes[0]!.gossipAddr], ['--cluster-key', 'not-the-key']));
  // Ten periods: long past what a join takes with the right key.
  await waitUntil(async () => ((await status(nodes[0]!)).gossip.stats['authFailures'] ?? 0) > before, 10 * T.protocolPeriodMs + SLACK_MS, 'the seed to drop the stranger\'s join');
  await new Promise((r) => setTimeout(r, 10 * T.protocolPeriodMs));
  for (const s of await statuses(members)) expect(s.gossip.members.map((m) => m.id)).not.toContain(stranger.id);
  const own = await status(stranger);
  expect(own.gossip.members.map((m) => m.id)).toEqual([stranger.id]);
  const failures = (await status(nodes[0]!)).gossip.stats['authFailures'] ?? 0;
  console.log(`wrong key: still alone after ${10 * T.protocolPeriodMs} ms; the seed dropped ${failures - before} unauthenticated packets/frames`);
});
