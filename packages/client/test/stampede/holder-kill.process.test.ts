import { startTestNode, type TestNode } from '@corral/test-utils';
import { Corral } from '../../src';
import { spawnClientProcess, type ClientProcess } from '../helpers/client-process';

/**
 * A lease holder and a lock holder that die for real (SIGKILL on a separate client process): the
 * node cannot tell a dead holder from a slow one, so the TTL is what frees the key or the name.
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function setup(): Promise<{ t: TestNode; seed: string; cache: Corral }> {
  const t = await startTestNode();
  cleanup.push(() => t.stop(200));
  const seed = `${t.host}:${t.port}`;
  const cache = await Corral.connect({ seeds: [seed] });
  cleanup.push(() => cache.close());
  return { t, seed, cache };
}

function killLater(p: ClientProcess): void {
  cleanup.push(async () => { p.child.kill('SIGKILL'); await p.exited; });
}

test('a killed lease holder: its lease lapses, a parked caller takes over and loads once', async () => {
  const { seed, cache } = await setup();
  const holder = spawnClientProcess(seed, `
    const c = await Corral.connect({ seeds: [seed] });
    c.getOrSet('hot', () => { say({ loading: true }); return new Promise(() => {}); }, { leaseTtlMs: 400 });`);
  killLater(holder);
  expect(await holder.firstLine).toEqual({ loading: true }); // it holds the lease and is "loading"
  holder.child.kill('SIGKILL');
  await holder.exited;
  let calls = 0;
  const t0 = Date.now();
  const values = await Promise.all([1, 2, 3].map(() => cache.getOrSet('hot', async () => { calls++; return 'recovered'; }, { waitMs: 5_000 })));
  expect(values).toEqual(['recovered', 'recovered', 'recovered']);
  expect(calls).toBe(1);
  expect(Date.now() - t0).toBeLessThan(3_000); // freed by the 400 ms lease, not by the 5 s wait
  expect(cache.stampedeStats().leaseWaits).toBeGreaterThanOrEqual(1);
});

test('lock tokens strictly increase across lock-holder kills (TTL lapses)', async () => {
  const { seed, cache } = await setup();
  const tokens: number[] = [];
  for (let i = 0; i < 3; i++) {
    const holder = spawnClientProcess(seed, `
      const c = await Corral.connect({ seeds: [seed] });
      const lock = await c.lock('job', { ttlMs: 300 });
      say({ token: lock.token });`);
    killLater(holder);
    tokens.push((await holder.firstLine)['token'] as number);
    holder.child.kill('SIGKILL');
    await holder.exited;
    const lock = await cache.lock('job', { ttlMs: 1_000, waitMs: 5_000 }); // queued until the dead holder's TTL lapses
    tokens.push(lock.token);
    await lock.release();
  }
  for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
  expect(cache.stampedeStats().locks).toMatchObject({ acquired: 3, held: 0 });
  expect(cache.stampedeStats().locks.waitMsMax).toBeGreaterThan(100);
});
