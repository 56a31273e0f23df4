import { suspicionTimeoutMs, type Membership } from '../src';
import { Cluster, FAST, SLACK_MS, crashDetectionBoundMs, memberOf, stateOf, waitFor } from './cluster-harness';

const cluster = new Cluster();
afterEach(() => cluster.stopAll());

const IDS = ['node-2', 'node-3', 'node-4', 'node-5', 'node-6'];

/** Five members joined through node-2 only, converged (every node sees all five alive). */
async function fiveNodes(): Promise<Membership[]> {
  const seed = await cluster.start(2);
  const rest = await Promise.all([3, 4, 5, 6].map((i) => cluster.start(i, { seeds: [seed.gossipAddr] })));
  const nodes = [seed, ...rest];
  await waitFor(() => nodes.every((n) => sameIds(n.aliveMembers().map((m) => m.id), IDS)), 5000, 'five members to converge');
  return nodes;
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

test('five members converge on one member list through a single seed', async () => {
  const nodes = await fiveNodes();
  for (const n of nodes) {
    const members = n.members();
    expect(members.map((m) => m.id)).toEqual(IDS);
    expect(members.every((m) => m.state === 'alive')).toBe(true);
  }
  // Everyone agrees on each member's address too (taken from the member's own alive message).
  const addrs = nodes.map((n) => JSON.stringify(n.members().map((m) => m.gossipAddr)));
  expect(new Set(addrs).size).toBe(1);
  expect(nodes[0]?.members().map((m) => m.gossipAddr)).toEqual(nodes.map((n) => n.gossipAddr));
});

test('a crashed member is marked dead by every other member within the bound', async () => {
  const nodes = await fiveNodes();
  const crashed = nodes[4] as Membership;
  const survivors = nodes.slice(0, 4);
  const bound = crashDetectionBoundMs(5, FAST);
  await crashed.stop();
  const elapsed = await waitFor(
    () => survivors.every((n) => stateOf(n, 'node-6') === 'dead'),
    bound + SLACK_MS,
    'all survivors to mark node-6 dead',
  );
  expect(elapsed).toBeLessThanOrEqual(bound + SLACK_MS);
  // Nobody can have declared it dead before a full suspicion timeout.
  expect(elapsed).toBeGreaterThanOrEqual(suspicionTimeoutMs(5, FAST) - 50);
  for (const n of survivors) {
    expect(n.aliveMembers().map((m) => m.id)).toEqual(IDS.slice(0, 4));
  }
});

test('a crashed member that restarts under the same id rejoins with a higher incarnation', async () => {
  const nodes = await fiveNodes();
  const crashed = nodes[4] as Membership;
  const survivors = nodes.slice(0, 4);
  const oldAddr = crashed.gossipAddr;
  await crashed.stop();
  await waitFor(() => survivors.every((n) => stateOf(n, 'node-6') === 'dead'), crashDetectionBoundMs(5, FAST) + SLACK_MS, 'node-6 dead');
  const deadIncarnation = memberOf(survivors[0] as Membership, 'node-6')?.incarnation ?? 0;

  // A fresh process: incarnation 0 again, a new ephemeral port, joining through a non-seed member.
  const restarted = await cluster.start(6, { seeds: [(survivors[2] as Membership).gossipAddr], meta: { boot: 2 } });
  expect(restarted.gossipAddr).not.toBe(oldAddr);
  await waitFor(
    () => survivors.every((n) => stateOf(n, 'node-6') === 'alive' && memberOf(n, 'node-6')?.gossipAddr === restarted.gossipAddr),
    10 * FAST.protocolPeriodMs + SLACK_MS,
    'node-6 alive again at its new address',
  );
  expect(restarted.stats().refutes).toBeGreaterThanOrEqual(1);
  for (const n of survivors) {
    expect(memberOf(n, 'node-6')?.incarnation).toBeGreaterThan(deadIncarnation);
    expect(memberOf(n, 'node-6')?.meta).toEqual({ boot: 2 });
  }
});

test('setMeta spreads to every member with a new incarnation', async () => {
  const nodes = await fiveNodes();
  const changed = nodes[2] as Membership;
  const events: unknown[] = [];
  (nodes[0] as Membership).on('member', (m, prev) => {
    if (m.id === 'node-4') events.push([m.meta, prev]);
  });
  changed.setMeta({ dataPort: 7001 });
  await waitFor(
    () => nodes.every((n) => (memberOf(n, 'node-4')?.meta as { dataPort?: number }).dataPort === 7001),
    10 * FAST.protocolPeriodMs + SLACK_MS,
    'the new meta everywhere',
  );
  expect(events).toEqual([[{ dataPort: 7001 }, 'alive']]);
  expect(() => changed.setMeta({ blob: 'x'.repeat(2000) })).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }));
});

test('changes spread by the gossip fan-out too, not only on probes and push-pulls', async () => {
  const seed = await cluster.start(2, { pushPullIntervalMs: 600_000 });
  const rest = await Promise.all([3, 4, 5, 6].map((i) => cluster.start(i, { seeds: [seed.gossipAddr], pushPullIntervalMs: 600_000 })));
  const nodes = [seed, ...rest];
  await waitFor(() => nodes.every((n) => sameIds(n.aliveMembers().map((m) => m.id), IDS)), 5000, 'five members to converge');
  const changed = nodes[2] as Membership;
  const before = changed.stats().gossipSent;
  changed.setMeta({ dataPort: 7002 });
  // No push-pull runs in this window: the update travels on probes, acks and gossip messages.
  await waitFor(
    () => nodes.every((n) => (memberOf(n, 'node-4')?.meta as { dataPort?: number }).dataPort === 7002),
    4 * FAST.protocolPeriodMs + SLACK_MS,
    'the new meta everywhere',
  );
  expect(changed.stats().gossipSent).toBeGreaterThan(before);
});

test('a frozen member is declared dead, then refutes with a higher incarnation when it thaws', async () => {
  const nodes = await fiveNodes();
  const frozen = nodes[3] as Membership;
  const others = nodes.filter((n) => n !== frozen);
  const before = memberOf(others[0] as Membership, 'node-5')?.incarnation ?? 0;

  frozen._testFreeze(true);
  await waitFor(
    () => others.every((n) => stateOf(n, 'node-5') === 'dead'),
    crashDetectionBoundMs(5, FAST) + SLACK_MS,
    'node-5 to be declared dead while frozen',
  );
  // While frozen it heard nothing, so it still thinks everyone (itself included) is alive.
  expect(frozen.aliveMembers()).toHaveLength(5);

  frozen._testFreeze(false);
  await waitFor(
    () => others.every((n) => stateOf(n, 'node-5') === 'alive'),
    10 * FAST.protocolPeriodMs + SLACK_MS,
    'node-5 to be alive again everywhere',
  );
  expect(frozen.stats().refutes).toBeGreaterThanOrEqual(1);
  for (const n of others) {
    expect(memberOf(n, 'node-5')?.incarnation).toBeGreaterThan(before);
  }
  await waitFor(() => nodes.every((n) => n.aliveMembers().length === 5), 5000, 'full reconvergence');
});

test('a graceful leave is seen as left by everyone within one period and a round trip', async () => {
  const nodes = await fiveNodes();
  const leaver = nodes[1] as Membership;
  const others = nodes.filter((n) => n !== leaver);
  const seen: string[] = [];
  for (const n of others) {
    n.on('member', (m) => {
      if (m.id === 'node-3' && m.state === 'left') seen.push(m.id);
    });
  }
  const bound = FAST.protocolPeriodMs + 250; // one period + a generous loopback round trip
  const started = performance.now();
  const leaving = leaver.leave();
  const elapsed = await waitFor(() => others.every((n) => stateOf(n, 'node-3') === 'left'), bound, 'everyone to see node-3 left');
  await leaving;
  expect(elapsed).toBeLessThanOrEqual(bound);
  expect(performance.now() - started).toBeLessThanOrEqual(2 * FAST.protocolPeriodMs + 250);
  expect(seen).toHaveLength(4);
  expect(stateOf(leaver, 'node-3')).toBe('left');
  for (const n of others) expect(n.aliveMembers().map((m) => m.id)).not.toContain('node-3');
  await leaver.stop();
  // A left member is not suspected or declared dead afterwards.
  await new Promise((r) => setTimeout(r, suspicionTimeoutMs(5, FAST) + 3 * FAST.protocolPeriodMs));
  for (const n of others) expect(stateOf(n, 'node-3')).toBe('left');
});

test('both sides of a healed partition find each other again (push-pull with dead members)', async () => {
  const t = { ...FAST, pushPullIntervalMs: 400 };
  const seed = await cluster.start(2, t);
  const rest = await Promise.all([3, 4].map((i) => cluster.start(i, { ...t, seeds: [seed.gossipAddr] })));
  const nodes = [seed, ...rest];
  await waitFor(() => nodes.every((n) => n.aliveMembers().length === 3), 5000, 'three members to converge');
  const cut = nodes[2] as Membership;
  const majority = nodes.slice(0, 2);

  cut._testIsolate(true);
  const bound = crashDetectionBoundMs(3, t) + SLACK_MS;
  await waitFor(() => majority.every((n) => stateOf(n, 'node-4') === 'dead'), bound, 'the majority to declare node-4 dead');
  await waitFor(() => stateOf(cut, 'node-2') === 'dead' && stateOf(cut, 'node-3') === 'dead', bound, 'node-4 to declare the others dead');

  cut._testIsolate(false);
  // No probe ever goes to a dead member; only the periodic push-pull with a dead member heals it.
  await waitFor(() => nodes.every((n) => n.aliveMembers().length === 3), 4 * t.pushPullIntervalMs + SLACK_MS, 'the healed partition to reconverge');
  expect(nodes.some((n) => n.stats().reconnects > 0)).toBe(true);
});

test('after a partition heals, the cut-off member neither kills members of the majority nor passes through partial views', async () => {
  // While cut off, node-5 declares everyone dead; those verdicts sit in its gossip queue (it had
  // nobody to send them to) and leave with its first packets after the heal. Applied as-is, they
  // would drop healthy members from the majority's rings before those members could refute. And
  // node-5 itself would see the others come back one refutation at a time.
  const t = { ...FAST, pushPullIntervalMs: 400 };
  const seed = await cluster.start(2, t);
  const rest = await Promise.all([3, 4, 5].map((i) => cluster.start(i, { ...t, seeds: [seed.gossipAddr] })));
  const nodes = [seed, ...rest];
  await waitFor(() => nodes.every((n) => n.aliveMembers().length === 4), 5000, 'four members to converge');
  const cut = nodes[3] as Membership;
  const majority = nodes.slice(0, 3);
  const majorityIds = ['node-2', 'node-3', 'node-4'];

  cut._testIsolate(true);
  const bound = crashDetectionBoundMs(4, t) + SLACK_MS;
  await waitFor(() => majority.every((n) => stateOf(n, 'node-5') === 'dead'), bound, 'the majority to declare node-5 dead');
  await waitFor(() => majorityIds.every((id) => stateOf(cut, id) === 'dead'), bound, 'node-5 to declare the others dead');

  const deaths: string[] = [];
  const cutViews: string[][] = [];
  cut.on('change', (ms) => cutViews.push(ms.filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.id)));
  majority.forEach((n, i) => {
    n.on('member', (m) => { if (m.state === 'dead' && majorityIds.includes(m.id)) deaths.push(`${majorityIds[i]} declared ${m.id} dead`); });
  });
  cut._testIsolate(false);
  await waitFor(() => nodes.every((n) => n.aliveMembers().length === 4), 4 * t.pushPullIntervalMs + SLACK_MS, 'the healed partition to reconverge');
  // Long enough for any suspicion the heal caused to have run out (or been refuted).
  await new Promise((r) => setTimeout(r, suspicionTimeoutMs(4, t) + 4 * t.protocolPeriodMs));
  expect(deaths).toEqual([]);
  for (const n of nodes) expect(n.aliveMembers().map((m) => m.id)).toEqual([...majorityIds, 'node-5']);
  // From alone straight back to all four: its own death verdicts became suspicions on contact.
  expect(cutViews.filter((v) => v.length !== 1 && v.length !== 4)).toEqual([]);
});
