import { ManualClock, startTestNode, type TestNode } from '@corral/test-utils';
import { Corral } from '../../src';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function node(clock?: ManualClock): Promise<TestNode> {
  const t = await startTestNode(clock ? { clock } : {});
  cleanup.push(() => t.stop(200));
  return t;
}
async function client(t: TestNode): Promise<Corral> {
  const c = await Corral.connect({ seeds: [`${t.host}:${t.port}`] });
  cleanup.push(() => c.close());
  return c;
}

test('lock, extend, release; a stale token is refused with E_LOCK_LOST', async () => {
  const clock = new ManualClock();
  const t = await node(clock);
  const [a, b] = [await client(t), await client(t)];
  const l1 = await a.lock('job', { ttlMs: 1_000 });
  await expect(b.lock('job')).rejects.toMatchObject({ code: 'E_LOCK_HELD' });
  await l1.extend(5_000);
  clock.advance(4_999);
  await expect(b.lock('job')).rejects.toMatchObject({ code: 'E_LOCK_HELD' });
  clock.advance(1); // lapsed: the holder paused past its TTL
  const l2 = await b.lock('job', { ttlMs: 1_000 });
  expect(l2.token).toBeGreaterThan(l1.token);
  await expect(l1.release()).rejects.toMatchObject({ code: 'E_LOCK_LOST' });
  await expect(l1.extend(1_000)).rejects.toMatchObject({ code: 'E_LOCK_LOST' });
  await l2.release();
  expect(a.stampedeStats().locks).toMatchObject({ acquired: 1, lost: 2 });
  expect(b.stampedeStats().locks).toMatchObject({ acquired: 1, held: 2 });
});

test('a queued caller gets the lock on release; its wait is counted', async () => {
  const t = await node();
  const [a, b] = [await client(t), await client(t)];
  const l1 = await a.lock('job');
  const queued = b.lock('job', { waitMs: 5_000 });
  setTimeout(() => void l1.release(), 50);
  const l2 = await queued;
  expect(l2.token).toBeGreaterThan(l1.token);
  expect(b.stampedeStats().locks.waitMsMax).toBeGreaterThanOrEqual(40);
});

test('tokens keep increasing when the name moves to another node (owner change)', async () => {
  const [n1, n2] = [await node(), await node()];
  const [a, b] = [await client(n1), await client(n2)];
  const l1 = await a.lock('job');
  await new Promise((r) => setTimeout(r, 2)); // the next owner issues at a later wall-clock millisecond
  const l2 = await b.lock('job');
  expect(l2.token).toBeGreaterThan(l1.token);
});

test('too many attempts on one connection: E_RATE_LIMITED', async () => {
  const t = await node();
  const [a, b] = [await client(t), await client(t)];
  await a.lock('busy');
  const results = await Promise.allSettled(Array.from({ length: 60 }, () => b.lock('busy')));
  const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'));
  expect(codes.filter((c) => c === 'E_RATE_LIMITED').length).toBeGreaterThan(0);
  expect(b.stampedeStats().locks.rateLimited).toBeGreaterThan(0);
});
