import { ManualClock, startTestNode, type TestNode } from '@corral/test-utils';
import { Corral, CorralError, NodeConnection, SingleNodeRouter, type CorralOptions, type LoaderContext } from '../../src';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * getOrSet against real nodes (in-process, port 0). Entry TTLs, grace and leases run on the node's
 * ManualClock, so expiry is a clock step, not a sleep; loaders take real (short) time, as a
 * database would.
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function node(clock?: ManualClock): Promise<TestNode> {
  const t = await startTestNode(clock ? { clock } : {});
  cleanup.push(() => t.stop(200));
  return t;
}

async function client(t: TestNode, opts: Partial<CorralOptions> = {}): Promise<Corral> {
  const c = await Corral.connect({ seeds: [`${t.host}:${t.port}`], ...opts });
  cleanup.push(() => c.close());
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A one-shot signal: a loader fires it once it runs (which means it holds the lease). */
function signal(): { fire: () => void; fired: Promise<void> } {
  let fire!: () => void;
  const fired = new Promise<void>((r) => { fire = r; });
  return { fire, fired };
}

/** A loader that counts its calls and takes `ms`, like a database query. */
function countingLoader(ms = 50): { loader: (ctx: LoaderContext) => Promise<{ n: number }>; calls: () => number } {
  let calls = 0;
  return {
    loader: async () => { const n = ++calls; await sleep(ms); return { n }; },
    calls: () => calls,
  };
}

describe('single flight', () => {
  test('exactly one loader call per expiry across 4 clients × 50 concurrent calls (leases + coalescing)', async () => {
    const clock = new ManualClock();
    const t = await node(clock);
    const clients = await Promise.all([1, 2, 3, 4].map(() => client(t)));
    const { loader, calls } = countingLoader(60);
    for (let expiry = 1; expiry <= 5; expiry++) {
      const all = clients.flatMap((c) => Array.from({ length: 50 }, () => c.getOrSet('hot', loader, { ttlMs: 1_000 })));
      const values = await Promise.all(all);
      expect(calls()).toBe(expiry);
      expect(new Set(values.map((v) => v.n))).toEqual(new Set([expiry]));
      clock.advance(1_000); // the entry expires on the node
    }
    const stats = clients.map((c) => c.stampedeStats());
    expect(stats.reduce((s, x) => s + x.loaderCalls, 0)).toBe(5);
    expect(stats.reduce((s, x) => s + x.coalescedWaits, 0)).toBe(5 * (200 - 4));
    // The clients that lost the lease were parked (up to 3 per expiry; one that arrives after the set just hits).
    const waits = stats.reduce((s, x) => s + x.leaseWaits, 0);
    expect(waits).toBeGreaterThan(0);
    expect(waits).toBeLessThanOrEqual(5 * 3);
  });

  test('coalesce: false and lease: false opt out (each call loads)', async () => {
    const t = await node();
    const c = await client(t);
    const { loader, calls } = countingLoader(20);
    await Promise.all([1, 2, 3].map(() => c.getOrSet('k', loader, { coalesce: false, lease: false })));
    expect(calls()).toBe(3);
  });

  test('a waiter is woken when the holder\'s loader fails, and one of the woken loads', async () => {
    const t = await node();
    const [a, b] = [await client(t), await client(t)];
    let bCalls = 0;
    const started = signal();
    const failing = a.getOrSet('k', async () => { started.fire(); await sleep(80); throw new Error('db down'); });
    await started.fired; // a holds the lease now
    const waiting = b.getOrSet('k', async () => { bCalls++; return 'from b'; });
    await expect(failing).rejects.toThrow('db down');
    expect(await waiting).toBe('from b');
    expect(bCalls).toBe(1);
    expect(a.stampedeStats()).toMatchObject({ loaderErrors: 1, loaderCalls: 1 });
    expect(b.stampedeStats().leaseWaits).toBe(1);
  });
});

describe('timeouts and errors', () => {
  test('hard timeout: E_LOADER_TIMEOUT, the signal is aborted, the lease is given back, nothing is left pending', async () => {
    const t = await node();
    const c = await client(t);
    let signal: AbortSignal | undefined;
    const hung = c.getOrSet('k', (ctx) => { signal = ctx.signal; return new Promise(() => undefined); }, { hardTimeoutMs: 100 });
    const joined = c.getOrSet('k', async () => 'unused', { hardTimeoutMs: 100 });
    await expect(hung).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT' });
    await expect(joined).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT' });
    expect(signal?.aborted).toBe(true);
    expect(await c.getOrSet('k', async () => 'second try')).toBe('second try'); // not stuck behind the dead load
    expect(c.stampedeStats()).toMatchObject({ loaderTimeouts: 1, loaderCalls: 2, coalescedWaits: 1 });
    expect(await c.stats()).toMatchObject({ leases: 0, leasesDropped: 1 });
  });

  test('grace: the stale value is served at once, and one refresh runs in the background, fleet-wide', async () => {
    const clock = new ManualClock();
    const t = await node(clock);
    const clients = await Promise.all([1, 2, 3].map(() => client(t)));
    const { loader, calls } = countingLoader(400);
    const o = { ttlMs: 1_000, graceMs: 5_000 };
    await clients[0]!.getOrSet('k', loader, o);
    clock.advance(1_500);
    const t0 = Date.now();
    const values = await Promise.all(clients.flatMap((c) => [1, 2, 3].map(() => c.getOrSet('k', loader, o))));
    expect(Date.now() - t0).toBeLessThan(300); // nobody waited for the 400 ms load
    expect(values.every((v) => v.n === 1)).toBe(true);
    await Promise.all(clients.map((c) => idle(c)));
    expect(calls()).toBe(2);
    expect((await clients[1]!.getOrSet('k', loader, o)).n).toBe(2);
    expect(clients.reduce((s, c) => s + c.stampedeStats().staleServed, 0)).toBe(3); // one call per client; the rest coalesced
  });

  test('never beyond grace: past it the caller waits for a fresh value', async () => {
    const clock = new ManualClock();
    const t = await node(clock);
    const c = await client(t);
    const { loader } = countingLoader(10);
    await c.getOrSet('k', loader, { ttlMs: 1_000, graceMs: 500 });
    clock.advance(1_500);
    expect((await c.getOrSet('k', loader, { ttlMs: 1_000, graceMs: 500 })).n).toBe(2);
    expect(c.stampedeStats().staleServed).toBe(0);
  });

  test('soft timeout serves stale while the load goes on; staleIfError serves stale when it fails', async () => {
    const clock = new ManualClock();
    const t = await node(clock);
    const c = await client(t);
    await c.getOrSet('k', async () => 'v1', { ttlMs: 1_000, graceMs: 10_000 });
    clock.advance(1_000);
    const slow = async () => { await sleep(150); return 'v2'; };
    expect(await c.getOrSet('k', slow, { ttlMs: 1_000, graceMs: 10_000, softTimeoutMs: 30 })).toBe('v1');
    await idle(c);
    expect(await c.get('k')).toBe('v2');
    clock.advance(1_000);
    const failing = async (): Promise<string> => { throw new Error('db down'); };
    expect(await c.getOrSet('k', failing, { ttlMs: 1_000, graceMs: 10_000, softTimeoutMs: 500, staleIfError: true })).toBe('v2');
    await expect(c.getOrSet('k', failing, { ttlMs: 1_000, graceMs: 10_000, softTimeoutMs: 500 })).rejects.toThrow('db down');
    expect(c.stampedeStats()).toMatchObject({ softTimeouts: 1, staleServed: 2, loaderErrors: 2 });
  });

  test('a DEL while loading voids the lease: the loaded value goes to the caller but is not stored', async () => {
    const t = await node();
    const [a, b] = [await client(t), await client(t)];
    const started = signal();
    const loading = a.getOrSet('k', async () => { started.fire(); await sleep(80); return 'read before the delete'; });
    await started.fired;
    await b.del('k');
    expect(await loading).toBe('read before the delete');
    expect(await b.get('k')).toBeUndefined();
    expect(a.stampedeStats().leaseLost).toBe(1);
  });
});

describe('loader context and options', () => {
  test('setTtl (adaptive TTL), doNotCache, forceFresh, ttlJitter', async () => {
    const clock = new ManualClock();
    const t = await node(clock);
    const c = await client(t, { stampede: { random: () => 0.5 } });
    await c.getOrSet('adaptive', (ctx) => { ctx.setTtl(250); return 'x'; }, { ttlMs: 60_000 });
    expect(await c.ttl('adaptive')).toBe(250);
    expect(await c.getOrSet('uncached', (ctx) => { ctx.doNotCache(); return 'y'; })).toBe('y');
    expect(await c.exists('uncached')).toBe(false);
    expect(await c.stats()).toMatchObject({ leases: 0 }); // the declined lease was given back
    expect(await c.getOrSet('adaptive', async () => 'fresh', { forceFresh: true, ttlMs: 1_000 })).toBe('fresh');
    expect(await c.get('adaptive')).toBe('fresh');
    await c.getOrSet('jittered', async () => 'j', { ttlMs: 1_000, ttlJitter: 0.2 });
    expect(await c.ttl('jittered')).toBe(900); // 1000 − 1000·0.2·0.5
  });

  test('the caller\'s signal detaches that caller only', async () => {
    const t = await node();
    const c = await client(t);
    const ac = new AbortController();
    const loader = async () => { await sleep(50); return 'v'; };
    const a = c.getOrSet('k', loader, { signal: ac.signal });
    const b = c.getOrSet('k', loader);
    ac.abort();
    await expect(a).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(await b).toBe('v');
  });

  test('bad options are refused up front', async () => {
    const t = await node();
    const c = await client(t);
    await expect(c.getOrSet('k', () => 1, { ttlJitter: 1.5 })).rejects.toThrow(CorralError);
    await expect(c.getOrSet('k', () => 1, { waitMs: -1 })).rejects.toMatchObject({ code: 'E_BAD_ARGS', message: expect.stringMatching(/waitMs/) });
  });
});

describe('XFetch early refresh', () => {
  test('a hit close to expiry refreshes in the background; only one client wins the refresh lease', async () => {
    const clock = new ManualClock();
    const t = await node(clock);
    // random() → 1 − e⁻³: XFetch refreshes once the remaining TTL is within 3·delta·beta.
    const random = () => 1 - Math.exp(-3);
    const [a, b] = [await client(t, { stampede: { random } }), await client(t, { stampede: { random } })];
    let calls = 0;
    const loader = async () => { calls++; await sleep(40); return calls; };
    const o = { ttlMs: 100_000 };
    await a.getOrSet('k', loader, o); // delta ≥ 40 ms (the loader's sleep): refresh window ≥ 120 ms
    clock.advance(95_000);
    await Promise.all([a.getOrSet('k', loader, o), b.getOrSet('k', loader, o)]);
    expect(calls).toBe(1); // 5 s left: far outside 3·delta
    clock.advance(4_980);
    expect(await a.getOrSet('k', loader, o)).toBe(1); // 20 ms left: the hit is served; the refresh runs behind it
    expect(await b.getOrSet('k', loader, o)).toBe(1);
    await Promise.all([idle(a), idle(b)]);
    expect(calls).toBe(2);
    const [sa, sb] = [a.stampedeStats(), b.stampedeStats()];
    expect(sa.earlyRefreshTriggers + sb.earlyRefreshTriggers).toBe(2);
    expect(sa.earlyRefreshes + sb.earlyRefreshes).toBe(1);
    expect(await a.get('k')).toBe(2);
    expect(await a.getOrSet('k', loader, { ...o, beta: 0 })).toBe(2); // beta 0: never early
  });
});

describe('cache breaker and origin limiter', () => {
  test('a silent cache opens the breaker; getOrSet goes to the origin through the limiter; probes close it again', async () => {
    const t = await node();
    const proxy = await TcpProxy.start(t.address);
    cleanup.push(() => proxy.stop());
    const clock = new ManualClock();
    const conn = new NodeConnection({ host: '127.0.0.1', port: proxy.port, timeoutMs: 100 });
    await conn.connect();
    const c = new Corral(new SingleNodeRouter(conn), clock, {
      stampede: { cacheBreaker: { failureThreshold: 2, openMs: 5_000, closeAfterSuccesses: 1 }, origin: { maxConcurrency: 2, maxQueue: 100, queueTimeoutMs: 5_000 } },
    });
    cleanup.push(() => c.close());
    const changes: string[] = [];
    c.on('cacheBreaker', (ch) => changes.push(ch.state));

    proxy.holdReplies();
    let running = 0, peak = 0;
    const loader = async () => { running++; peak = Math.max(peak, running); await sleep(20); running--; return 'from db'; };
    expect(await c.getOrSet('a', loader, { waitMs: 0 })).toBe('from db'); // the LGET timed out: loaded anyway
    expect(await c.getOrSet('b', loader, { waitMs: 0 })).toBe('from db');
    expect(changes).toEqual(['open']);
    const herd = await Promise.all(Array.from({ length: 10 }, (_, i) => c.getOrSet(`k${i}`, loader)));
    expect(herd.every((v) => v === 'from db')).toBe(true);
    expect(peak).toBe(2); // the origin limiter kept the herd narrow
    // cacheErrors still 2: while open, no call paid a cache timeout.
    expect(c.stampedeStats()).toMatchObject({ cacheBreaker: 'open', originCalls: 12, cacheErrors: 2 });

    proxy.releaseReplies();
    clock.advance(5_000);
    expect(await c.getOrSet('c', loader)).toBe('from db'); // the probe goes through the cache and succeeds
    expect(changes).toEqual(['open', 'half-open', 'closed']);
    expect(await c.get('c')).toBe('from db');
  });
});

test('a dropped connection sends its in-flight calls to the loader but does not open the breaker', async () => {
  const t = await node();
  const proxy = await TcpProxy.start(t.address);
  cleanup.push(() => proxy.stop());
  const conn = new NodeConnection({ host: '127.0.0.1', port: proxy.port, timeoutMs: 2_000 });
  await conn.connect();
  const c = new Corral(new SingleNodeRouter(conn), undefined, { stampede: { cacheBreaker: { failureThreshold: 2 } } });
  cleanup.push(() => c.close());
  proxy.holdReplies();
  const calls = Array.from({ length: 5 }, (_, i) => c.getOrSet(`k${i}`, async () => `db ${i}`));
  while (conn.inFlight < 5) await new Promise((r) => setImmediate(r)); // all five LGETs are on the wire
  proxy.cutAll();
  expect(await Promise.all(calls)).toEqual(['db 0', 'db 1', 'db 2', 'db 3', 'db 4']);
  expect(c.stampedeStats()).toMatchObject({ cacheBreaker: 'closed', cacheErrors: 5, originCalls: 5 });
});

describe('warm', () => {
  test('loads missing keys with bounded concurrency, skips cached ones, reports progress and failures', async () => {
    const t = await node();
    const c = await client(t);
    await c.set('k0', 'already');
    let running = 0, peak = 0;
    const progress: number[] = [];
    const r = await c.warm(['k0', 'k1', 'k2', 'k3', 'k4', 'bad'], async (key) => {
      running++; peak = Math.max(peak, running);
      await sleep(10);
      running--;
      if (key === 'bad') throw new Error('no such row');
      return `v-${key}`;
    }, { concurrency: 2, ttlMs: 60_000, onProgress: (p) => progress.push(p.done) });
    expect(r).toMatchObject({ total: 6, loaded: 4, skipped: 1, failed: 1 });
    expect(r.errors.map((e) => e.key)).toEqual(['bad']);
    expect(peak).toBe(2);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await c.mget(['k0', 'k3'])).toEqual(['already', 'v-k3']);
  });
});

/** Waits for getOrSet's background refreshes (test-only window into the client). */
function idle(c: Corral): Promise<void> {
  return (c as unknown as { stampede: { getOrSet: { idle(): Promise<void> } } }).stampede.getOrSet.idle();
}
