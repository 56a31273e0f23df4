import { once } from 'node:events';
import { Ops } from '@corral/protocol';
import {
  spawnProcessCluster, startTestCluster, type ProcessCluster, type TestCluster,
} from '@corral/test-utils';
import { ClusterRouter, Corral, NodeConnection, parseAddress, type BreakerStateChange, type CorralOptions } from '../src';
import { readValue } from '../src/replies';
import type { Topology } from '../src/topology';
import { within } from './helpers/util';

/**
 * Cluster routing against real nodes on loopback aliases (127.0.0.2…): in-process for the bulk
 * checks, real processes for SIGKILL. A node asked directly, with no routing hints, answers from
 * its own store: that is how these tests see where a key really lives.
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

const keys = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

async function client(seeds: string[], opts: Partial<CorralOptions> = {}): Promise<Corral> {
  const c = await Corral.connect({ seeds, ...opts });
  cleanup.push(() => c.close());
  return c;
}

/** Calls `fn` for every item, at most `wave` in flight at once; results in order. */
async function inWaves<T, R>(items: readonly T[], fn: (item: T, i: number) => Promise<R>, wave = 2_000): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += wave)
    out.push(...await Promise.all(items.slice(i, i + wave).map((x, j) => fn(x, i + j))));
  return out;
}

/** A plain connection to one node: requests carry no meta, so the node reads its own store. */
async function direct(id: string): Promise<NodeConnection> {
  const conn = new NodeConnection({ ...parseAddress(id), timeoutMs: 5_000 });
  await conn.connect();
  cleanup.push(() => conn.close());
  return conn;
}

/** What each node holds locally for `key`, by node id. */
async function localValues(conns: Map<string, NodeConnection>, key: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  await Promise.all([...conns].map(async ([id, c]) => { out[id] = readValue('GET', await c.request(Ops.GET, [key])) ?? null; }));
  return out;
}

describe('a three-node cluster (in-process nodes)', () => {
  let cluster: TestCluster;
  beforeAll(async () => { cluster = await startTestCluster(3, { shutdownGraceMs: 200 }); });
  afterAll(async () => { await cluster?.stop(); });

  it('10 000 keys: each lives only on its owner, reads come back, mget keeps the caller\'s order', async () => {
    // The nodes share this process's event loop with the client and jest: generous timeouts, and
    // the 10 000 calls go in waves of 2 000 so a busy CI box does not turn into E_TIMEOUTs.
    const cache = await client([cluster.seeds[0]!], { timeoutMs: 10_000 });
    expect(cache.topology().members.map((m) => m.id).sort()).toEqual([...cluster.seeds].sort());
    const ks = keys(10_000, 'bulk');
    await inWaves(ks, (k, i) => cache.set(k, i));
    expect(await inWaves(ks, (k) => cache.get(k))).toEqual(ks.map((_, i) => i));

    // The client's ring and each node's ring agree on every key.
    const view = cluster.nodes[0]!.node.cluster;
    for (const k of ks) expect(cache.ownerOf(k)).toBe(view.ownerOf(k));

    const conns = new Map<string, NodeConnection>();
    for (const id of cluster.seeds) conns.set(id, await direct(id));
    const perNode = new Map<string, number>(cluster.seeds.map((id) => [id, 0]));
    await inWaves(ks, async (k, i) => {
      const local = await localValues(conns, k);
      const owner = cache.ownerOf(k);
      perNode.set(owner, perNode.get(owner)! + 1);
      expect(local).toEqual(Object.fromEntries(cluster.seeds.map((id) => [id, id === owner ? i : null])));
    });
    for (const n of perNode.values()) expect(n).toBeGreaterThan(2_000); // each node got a real share

    const order = [...ks].reverse().filter((_, j) => j % 7 === 0);
    const wanted = [...order, 'bulk:missing', order[0]!];
    const expected = wanted.map((k) => (k === 'bulk:missing' ? undefined : ks.indexOf(k)));
    expect(await cache.mget(wanted)).toEqual(expected);
  });

  it('a client built with a stale topology gets E_NOT_OWNER, refreshes, and retries once, transparently', async () => {
    const [a, b, c] = cluster.seeds as [string, string, string];
    const real = cluster.nodes[0]!.node.cluster.topology();
    // The cluster as it was before c joined: an older epoch, two members.
    const stale: Topology = { epoch: real.epoch - 1, vnodes: real.vnodes, members: [a, b].map((id) => ({ id, state: 'alive', incarnation: 0 })) };
    const router = await ClusterRouter.create(stale, { connection: { timeoutMs: 5_000 } });
    const cache = new Corral(router);
    cleanup.push(() => cache.close());
    const epochs: number[] = [];
    cache.on('topology', (epoch) => epochs.push(epoch));

    const ks = keys(300, 'stale');
    const movedKey = ks.find((k) => cluster.nodes[0]!.node.cluster.ownerOf(k) === c)!;
    expect(cache.ownerOf(movedKey)).not.toBe(c); // the stale ring sends it elsewhere
    expect(await cache.set(movedKey, 'v')).toEqual(expect.any(Number)); // E_NOT_OWNER → refresh → retry, unseen
    expect(epochs).toEqual([real.epoch]);
    expect(cache.ownerOf(movedKey)).toBe(c);
    expect(await localValues(new Map([[c, await direct(c)]]), movedKey)).toEqual({ [c]: 'v' });

    await Promise.all(ks.map((k) => cache.set(k, k)));
    expect(await cache.mget(ks)).toEqual(ks);
    const conns = new Map<string, NodeConnection>();
    for (const id of cluster.seeds) conns.set(id, await direct(id));
    for (const k of ks) {
      const owner = cache.ownerOf(k);
      expect((await localValues(conns, k))[owner]).toBe(k);
    }
  });
});

describe('a node is SIGKILLed and comes back (real processes)', () => {
  let cluster: ProcessCluster;
  beforeAll(async () => { cluster = await spawnProcessCluster(3, ['--gutter-ttl', '5s']); }, 30_000);
  afterAll(async () => { await cluster?.stop(); }, 15_000);

  it('breaker opens, its keys become misses at the fallback, others are unaffected; back on the same address, it gets its keys again', async () => {
    const cache = await client([cluster.seeds[0]!], {
      reconnect: { baseMs: 20, capMs: 100 },
      breaker: { failureThreshold: 3, openMs: 300 },
      timeoutMs: 2_000,
    });
    const changes: BreakerStateChange[] = [];
    cache.on('breaker', (c) => changes.push(c));
    const victim = cluster.seeds[1]!;
    const ks = keys(600, 'kill');
    await cache.mset(ks.map((k) => [k, k] as const));
    const theirs = ks.filter((k) => cache.ownerOf(k) === victim);
    const ours = ks.filter((k) => cache.ownerOf(k) !== victim);
    expect(theirs.length).toBeGreaterThan(50);

    const down = once(cache, 'node:down');
    cluster.nodes[1]!.kill('SIGKILL');
    expect(await within(down, 10_000, 'node:down')).toEqual([victim]);
    expect(cache.topology().members.find((m) => m.id === victim)!.breaker).toBe('open');

    // Its keys: misses at the fallback, not errors. Everyone else's: untouched.
    expect(await Promise.all(theirs.map((k) => cache.get(k)))).toEqual(theirs.map(() => undefined));
    expect(await cache.mget(ks)).toEqual(ks.map((k) => (theirs.includes(k) ? undefined : k)));
    expect(await Promise.all(ours.map((k) => cache.get(k)))).toEqual(ours);

    // A write of a down node's key lands on its fallback as a gutter copy, with a capped TTL.
    const gutterKey = theirs[0]!;
    await cache.set(gutterKey, 'gutter');
    expect(await cache.get(gutterKey)).toBe('gutter');
    const others = cluster.seeds.filter((id) => id !== victim);
    const ttls = await Promise.all(others.map(async (id) => (await direct(id)).request(Ops.TTL, [gutterKey])));
    const gutterTtl = ttls.find((t) => t !== -2) as number;
    expect(gutterTtl).toBeGreaterThan(0);
    expect(gutterTtl).toBeLessThanOrEqual(5_000);

    const up = once(cache, 'node:up');
    await cluster.restart(1);
    expect(await within(up, 15_000, 'node:up')).toEqual([victim]);
    expect(changes.filter((c) => c.node === victim).map((c) => c.state)).toEqual(expect.arrayContaining(['open', 'half-open', 'closed']));
    expect(changes.at(-1)).toEqual({ node: victim, previous: 'half-open', state: 'closed' });

    // Home again: its keys go to it (a new process: an empty store), and writes land there.
    expect(await cache.get(theirs[1]!)).toBeUndefined();
    await cache.set(theirs[1]!, 'back');
    expect((await localValues(new Map([[victim, await direct(victim)]]), theirs[1]!))[victim]).toBe('back');
    expect(await Promise.all(ours.map((k) => cache.get(k)))).toEqual(ours);
  }, 60_000);
});
