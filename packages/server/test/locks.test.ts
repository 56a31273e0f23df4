import { ManualClock, RawConnection, startTestNode, type TestNode } from '@corral/test-utils';

/** Locks over TCP on a real node; lock TTLs on a ManualClock. */

const nodes: TestNode[] = [];
const conns: RawConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const t of nodes.splice(0)) await t.stop(200);
});

async function node(clock?: ManualClock): Promise<TestNode> {
  const t = await startTestNode(clock ? { clock } : {});
  nodes.push(t);
  return t;
}
async function connect(t: TestNode): Promise<RawConnection> {
  const c = await t.connect();
  conns.push(c);
  return c;
}
const lock = async (c: RawConnection, name: string, o: Record<string, unknown> = {}) =>
  (await c.call('LOCK', [name, { ttlMs: 1_000, ...o }])) as [number, number];

test('held → E_LOCK_HELD; released → the next caller gets a larger token; a stale token is refused', async () => {
  const t = await node();
  const [a, b] = [await connect(t), await connect(t)];
  const [t1, ttl] = await lock(a, 'job');
  expect(ttl).toBe(1_000);
  await expect(lock(b, 'job')).rejects.toMatchObject({ code: 'E_LOCK_HELD' });
  expect(await a.call('UNLOCK', ['job', t1])).toBe(true);
  const [t2] = await lock(b, 'job');
  expect(t2).toBeGreaterThan(t1);
  await expect(a.call('UNLOCK', ['job', t1])).rejects.toMatchObject({ code: 'E_LOCK_LOST' });
  await expect(a.call('LOCKEXTEND', ['job', t1, 5_000])).rejects.toMatchObject({ code: 'E_LOCK_LOST' });
  expect(await b.call('LOCKEXTEND', ['job', t2, 5_000])).toBe(5_000);
});

test('a queued caller gets the lock when it is released, and its wait is measured', async () => {
  const t = await node();
  const [a, b] = [await connect(t), await connect(t)];
  const [t1] = await lock(a, 'job');
  const queued = lock(b, 'job', { waitMs: 5_000 });
  for (let i = 0; i < 1_000 && t.node.locks.table.waiters === 0; i++) await new Promise((r) => setImmediate(r));
  await a.call('UNLOCK', ['job', t1]);
  const [t2] = await queued;
  expect(t2).toBeGreaterThan(t1);
  expect(await a.call('STATS')).toMatchObject({ locksAcquired: 2, lockWaiters: 0 });
  const metrics = await t.node.metrics.registry.getSingleMetricAsString('corral_lock_wait_seconds');
  expect(metrics).toMatch(/corral_lock_wait_seconds_count 2/);
});

test('fencing tokens strictly increase across holder crashes (TTL lapses) and node restarts', async () => {
  const clock = new ManualClock();
  const t = await node(clock);
  const tokens: number[] = [];
  for (let i = 0; i < 5; i++) {
    const c = await connect(t);
    tokens.push((await lock(c, 'job', { ttlMs: 500 }))[0]);
    c.close(); // the holder dies without releasing
    await expect(lock(await connect(t), 'job', { ttlMs: 500 })).rejects.toMatchObject({ code: 'E_LOCK_HELD' });
    clock.advance(500); // ... and its lock lapses
  }
  // A new owner for the name (a restarted node, or the next node on the ring): its clock is at or past ours.
  await t.stop(100);
  nodes.splice(0);
  clock.advance(1);
  const t2 = await node(clock);
  tokens.push((await lock(await connect(t2), 'job'))[0]);
  for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
});

test('a queued caller takes over when the holder\'s TTL lapses', async () => {
  const t = await node();
  const [a, b] = [await connect(t), await connect(t)];
  const [t1] = await lock(a, 'job', { ttlMs: 100 });
  const [t2] = await lock(b, 'job', { waitMs: 5_000 });
  expect(t2).toBeGreaterThan(t1);
  await expect(a.call('UNLOCK', ['job', t1])).rejects.toMatchObject({ code: 'E_LOCK_LOST' });
});

test('lock attempts are rate limited per connection', async () => {
  const clock = new ManualClock();
  const t = await node(clock);
  const [a, b] = [await connect(t), await connect(t)];
  const [held] = await lock(a, 'busy');
  let limited = 0;
  for (let i = 0; i < 60; i++) {
    try { await lock(b, 'busy'); } catch (e) { if ((e as { code: string }).code === 'E_RATE_LIMITED') limited++; }
  }
  expect(limited).toBe(60 - 50);
  expect(await a.call('UNLOCK', ['busy', held])).toBe(true); // another connection is unaffected
  clock.advance(1_000); // refills 20
  expect(await lock(b, 'busy')).toEqual([expect.any(Number), 1_000]);
});

test('ttlMs 0 is refused: a lock without a TTL outlives a crashed holder', async () => {
  const t = await node();
  const a = await connect(t);
  await expect(a.call('LOCK', ['x', { ttlMs: 0 }])).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
});
