import fc from 'fast-check';
import { ManualClock, RawConnection, startTestNode, type TestNode } from '@corral/test-utils';

/** Leases, grace and XFetch deltas on a real node over TCP; time is a ManualClock on the node. */

const nodes: TestNode[] = [];
const conns: RawConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const t of nodes.splice(0)) await t.stop(200);
});

async function setup(clock?: ManualClock): Promise<{ t: TestNode; a: RawConnection; b: RawConnection; c: RawConnection }> {
  const t = await startTestNode(clock ? { clock } : {});
  nodes.push(t);
  const [a, b, c] = await Promise.all([t.connect(), t.connect(), t.connect()]);
  conns.push(a, b, c);
  return { t, a, b, c };
}

const v = (s: string) => Buffer.from(s);
type Reply = { hit?: unknown[]; lease?: number; stale?: unknown[]; miss?: boolean };
const lget = async (c: RawConnection, key: string, o: Record<string, unknown> = {}) =>
  (await c.call('LGET', [key, { leaseTtlMs: 5_000, ...o }])) as Reply;

describe('leases', () => {
  test('a miss grants one lease; the others are parked and woken with the value the holder sets', async () => {
    const { a, b, c } = await setup();
    const first = await lget(a, 'k');
    expect(first).toEqual({ lease: expect.any(Number) });
    expect(await lget(b, 'k', { waitMs: 0 })).toEqual({ miss: true });

    const parkedB = lget(b, 'k', { waitMs: 3_000 });
    const parkedC = lget(c, 'k', { waitMs: 3_000 });
    await parkedOn(a, 2);
    expect(await a.call('STATS')).toMatchObject({ leaseWaiters: 2, leases: 1 });
    const version = await a.call('LSET', ['k', v('loaded'), first.lease, { ttlMs: 60_000, deltaMs: 42 }]);
    const [rb, rc] = await Promise.all([parkedB, parkedC]);
    for (const r of [rb, rc]) expect(r).toEqual({ hit: [v('loaded'), 0, version, expect.any(Number), 42], waited: true });
    expect(await a.call('STATS')).toMatchObject({ leaseWaiters: 0, leases: 0, leasesGrantedFill: 1, leaseParked: 2 });
  });

  test('a DEL voids the lease: the slow loader cannot store what it read before the delete', async () => {
    const { a, b } = await setup();
    const { lease } = await lget(a, 'k');
    const parked = lget(b, 'k', { waitMs: 3_000 });
    await parkedOn(a, 1);
    expect(await b.call('DEL', ['k'])).toBe(false); // nothing was there, the lease is voided all the same
    expect(await parked).toEqual({ miss: true, waited: true }); // woken to try again
    await expect(a.call('LSET', ['k', v('old'), lease, { ttlMs: 1000 }])).rejects.toMatchObject({ code: 'E_LEASE_INVALID' });
    expect(await a.call('GET', ['k'])).toBeNull();
    expect(await lget(b, 'k')).toEqual({ lease: expect.any(Number) }); // the next caller loads
  });

  test('a SET without the token voids it too, and wakes the parked callers with that value', async () => {
    const { a, b, c } = await setup();
    const { lease } = await lget(a, 'k');
    const parked = lget(b, 'k', { waitMs: 3_000 });
    await parkedOn(a, 1);
    const version = await c.call('SET', ['k', v('newer'), { ttlMs: 10_000 }]);
    expect(await parked).toEqual({ hit: [v('newer'), 0, version, expect.any(Number), 0], waited: true });
    await expect(a.call('LSET', ['k', v('older'), lease])).rejects.toMatchObject({ code: 'E_LEASE_INVALID' });
    expect(await a.call('GET', ['k'])).toEqual([v('newer'), 0]);
  });

  test('a holder that never comes back: its lease lapses at its TTL and the next caller gets one', async () => {
    const clock = new ManualClock();
    const { a, b } = await setup(clock);
    const { lease } = await lget(a, 'k', { leaseTtlMs: 1_000 });
    a.close(); // the holder is gone; the node cannot know whether it will come back
    clock.advance(999);
    expect(await lget(b, 'k', { leaseTtlMs: 1_000, waitMs: 0 })).toEqual({ miss: true });
    clock.advance(1);
    const second = await lget(b, 'k', { leaseTtlMs: 1_000 });
    expect(second.lease).toBeGreaterThan(lease!);
    await expect(b.call('LSET', ['k', v('x'), lease])).rejects.toMatchObject({ code: 'E_LEASE_INVALID' });
    expect(await b.call('LSET', ['k', v('y'), second.lease])).toEqual(expect.any(Number));
  });

  test('a parked caller is woken when the lease lapses, not only at the end of its wait', async () => {
    const { a, b } = await setup();
    await lget(a, 'k', { leaseTtlMs: 150 });
    const t0 = Date.now();
    expect(await lget(b, 'k', { leaseTtlMs: 150, waitMs: 5_000 })).toEqual({ miss: true, waited: true });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await lget(b, 'k')).toEqual({ lease: expect.any(Number) });
  });

  test('LDROP gives the lease back and wakes the parked callers to try again', async () => {
    const { a, b } = await setup();
    const { lease } = await lget(a, 'k');
    const parked = lget(b, 'k', { waitMs: 3_000 });
    await parkedOn(a, 1);
    expect(await a.call('LDROP', ['k', lease])).toBe(true);
    expect(await parked).toEqual({ miss: true, waited: true });
    expect(await a.call('LDROP', ['k', lease])).toBe(false);
  });

  test('leaseTtlMs 0 only looks; LSET without a token writes unconditionally', async () => {
    const { a } = await setup();
    expect(await a.call('LGET', ['k', {}])).toEqual({ miss: true });
    expect(await a.call('LGET', ['k'])).toEqual({ miss: true });
    const version = await a.call('LSET', ['k', v('x'), null, { ttlMs: 0, deltaMs: 7 }]);
    expect(await a.call('LGET', ['k'])).toEqual({ hit: [v('x'), 0, version, -1, 7] });
  });

  test('early: one refresh lease while the value is fresh; the others just get the hit', async () => {
    const { a, b } = await setup();
    await a.call('LSET', ['k', v('x'), null, { ttlMs: 60_000, deltaMs: 100 }]);
    const r1 = await lget(a, 'k', { early: true });
    expect(r1).toEqual({ hit: expect.any(Array), lease: expect.any(Number) });
    const r2 = await lget(b, 'k', { early: true });
    expect(r2).toEqual({ hit: expect.any(Array) });
    const seen = r1.hit![2] as number;
    const v2 = await a.call('LSET', ['k', v('y'), r1.lease, { ttlMs: 60_000, deltaMs: 90 }]);
    expect((await lget(b, 'k')).hit?.slice(0, 1)).toEqual([v('y')]);
    // b decided to refresh on the old version: too late, it was refreshed meanwhile.
    expect(await lget(b, 'k', { early: true, seenVersion: seen })).toEqual({ hit: expect.any(Array) });
    expect(await lget(b, 'k', { early: true, seenVersion: v2 })).toEqual({ hit: expect.any(Array), lease: expect.any(Number) });
  });
});

describe('grace (stale-while-revalidate)', () => {
  test('GET treats an expired entry as gone; LGET serves it stale within its grace, with the refresh lease to one caller', async () => {
    const clock = new ManualClock();
    const { a, b } = await setup(clock);
    const version = await a.call('LSET', ['k', v('old'), null, { ttlMs: 1_000, graceMs: 500, deltaMs: 5 }]);
    clock.advance(1_000);
    expect(await a.call('GET', ['k'])).toBeNull();
    expect(await a.call('EXISTS', ['k'])).toBe(false);
    const r1 = await lget(a, 'k', { graceMs: 10_000 });
    expect(r1).toEqual({ stale: [v('old'), 0, version, 5], lease: expect.any(Number) });
    expect(await lget(b, 'k', { graceMs: 10_000 })).toEqual({ stale: [v('old'), 0, version, 5] });
    expect(await lget(b, 'k', { graceMs: 0, waitMs: 0 })).toEqual({ miss: true }); // this caller accepts no staleness
    clock.advance(500);
    expect(await lget(b, 'k', { graceMs: 10_000, waitMs: 0 })).toEqual({ miss: true }); // the lease is still a's
  });

  test('a DEL removes the stale copy too', async () => {
    const clock = new ManualClock();
    const { a } = await setup(clock);
    await a.call('LSET', ['k', v('old'), null, { ttlMs: 1_000, graceMs: 5_000 }]);
    clock.advance(1_500);
    expect(await a.call('DEL', ['k'])).toBe(false);
    expect(await lget(a, 'k', { graceMs: 10_000, leaseTtlMs: 0 })).toEqual({ miss: true });
  });

  test('stale is served exactly while staleFor < min(entry grace, caller grace), never beyond (property)', async () => {
    const clock = new ManualClock();
    const { a } = await setup(clock);
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 5_000 }),
      fc.integer({ min: 0, max: 12_000 }),
      async (ttlMs, graceMs, callerGraceMs, elapsed) => {
        const key = `p${n++}`;
        await a.call('LSET', [key, v('x'), null, { ttlMs, graceMs }]);
        clock.advance(elapsed);
        const r = (await a.call('LGET', [key, { graceMs: callerGraceMs }])) as Reply;
        const staleFor = elapsed - ttlMs;
        if (staleFor < 0) expect(r.hit).toBeDefined();
        else if (staleFor < Math.min(graceMs, callerGraceMs)) expect(r.stale).toBeDefined();
        else expect(r).toEqual({ miss: true });
        expect(await a.call('GET', [key])).toEqual(staleFor < 0 ? [v('x'), 0] : null);
      }), { numRuns: 150 });
  });

  test('active expiry keeps a stale entry until its grace ends, then removes it', async () => {
    const clock = new ManualClock();
    const { t, a } = await setup(clock);
    await a.call('LSET', ['k', v('x'), null, { ttlMs: 100, graceMs: 1_000 }]);
    clock.advance(500);
    t.node.store.expireCycle();
    expect(t.node.store.size).toBe(1);
    clock.advance(600);
    t.node.store.expireCycle();
    expect(t.node.store.size).toBe(0);
  });
});

describe('SETIFNEWER', () => {
  test('writes only a newer source version; a plain write forgets the source version', async () => {
    const { a } = await setup();
    const v1 = await a.call('SETIFNEWER', ['k', v('v5'), 5]);
    expect(v1).toEqual(expect.any(Number));
    expect(await a.call('SETIFNEWER', ['k', v('v4'), 4])).toBeNull();
    expect(await a.call('SETIFNEWER', ['k', v('v5b'), 5])).toBeNull();
    expect(await a.call('GET', ['k'])).toEqual([v('v5'), 0]);
    expect(await a.call('SETIFNEWER', ['k', v('v6'), 6, { ttlMs: 10_000 }])).toEqual(expect.any(Number));
    expect(await a.call('GET', ['k'])).toEqual([v('v6'), 0]);
  });
});

/** Waits (without sleeping) until the node reports `n` parked LGETs. */
async function parkedOn(c: RawConnection, n: number): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (((await c.call('STATS')) as { leaseWaiters: number }).leaseWaiters === n) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never saw ${n} parked callers`);
}
