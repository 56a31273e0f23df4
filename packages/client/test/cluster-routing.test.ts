import { once } from 'node:events';
import { CorralError, Ops, PushKind } from '@corral/protocol';
import { HashRing, loadRingHasher, hashKey } from '@corral/ring';
import { ClusterRouter, Corral, type CorralOptions } from '../src';
import { dispatchMany, dispatchOne } from '../src/keyed-dispatch';
import { chooseRoute } from '../src/route-choice';
import type { Route } from '../src/router';
import { NODE_BEHIND_RETRY_MS } from '../src/cluster-router';
import type { Topology } from '../src/topology';
import { FakeCluster } from './helpers/fake-cluster';
import { eventually, within } from './helpers/util';

/**
 * Routing decisions: the pure choice of node, the batching of multi-key calls, and the cluster
 * router against fake peers (ownership, E_NOT_OWNER, pushes, breakers). Real nodes are in
 * cluster-integration.test.ts.
 */

beforeAll(() => loadRingHasher());

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('chooseRoute', () => {
  const ring = () => new HashRing(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id })), { vnodes: 50 });

  it('sends a key to its owner while the owner is up', () => {
    const r = ring();
    for (const k of keys(200)) expect(chooseRoute(r, hashKey(k), () => true, 'fallback')).toEqual({ kind: 'owner', node: r.ownerOf(k) });
  });

  it('sends a down owner\'s key to the next member of its preference list that is up, skipping open ones', () => {
    const r = ring();
    for (const k of keys(200)) {
      const [owner, second, third] = r.preferenceList(k, 3) as [string, string, string];
      expect(chooseRoute(r, hashKey(k), (id) => id !== owner, 'fallback')).toEqual({ kind: 'fallback', node: second, owner });
      expect(chooseRoute(r, hashKey(k), (id) => id !== owner && id !== second, 'fallback')).toEqual({ kind: 'fallback', node: third, owner });
    }
  });

  it('keys of nodes that are up do not move when another node is down', () => {
    const r = ring();
    for (const k of keys(200)) {
      const owner = r.ownerOf(k);
      if (owner === 'c') continue;
      expect(chooseRoute(r, hashKey(k), (id) => id !== 'c', 'fallback')).toEqual({ kind: 'owner', node: owner });
    }
  });

  it('with every member down, the owner gets the call anyway (there is nowhere better)', () => {
    const r = ring();
    expect(chooseRoute(r, hashKey('x'), () => false, 'fallback')).toEqual({ kind: 'owner', node: r.ownerOf('x') });
    const single = new HashRing([{ id: 'only' }]);
    expect(chooseRoute(single, hashKey('x'), () => false, 'fallback')).toEqual({ kind: 'owner', node: 'only' });
  });

  it('fail-fast: a down owner is circuit-open, never a fallback', () => {
    const r = ring();
    const owner = r.ownerOf('x');
    expect(chooseRoute(r, hashKey('x'), (id) => id !== owner, 'fail-fast')).toEqual({ kind: 'circuit-open', node: owner });
  });
});

describe('dispatchMany / dispatchOne', () => {
  /** Routes as a router hands them out: one object per (node, fallback). */
  function routes() {
    const sent: Array<{ node: string; fallback: boolean; items: string[] }> = [];
    const make = (node: string, fallback: boolean): Route => ({
      node, fallback, conn: undefined as never, request: async () => undefined,
    });
    const table = new Map<string, Route>();
    const get = (node: string, fallback = false) => {
      const k = `${node}/${fallback}`;
      if (!table.has(k)) table.set(k, make(node, fallback));
      return table.get(k)!;
    };
    return { sent, get };
  }

  it('one request per route, in parallel, results back in the caller\'s order (repeats included)', async () => {
    const { sent, get } = routes();
    // a owns a*, b owns b*; c* belongs to a down node whose fallback is b: a separate group on b.
    const routeOf = (k: string) => (k[0] === 'a' ? get('a') : k[0] === 'b' ? get('b') : get('b', true));
    const items = ['b1', 'a1', 'c1', 'a2', 'b2', 'c2', 'a1'];
    const out = await dispatchMany(items, (k) => k, routeOf, async () => false, async (route, mine) => {
      sent.push({ node: route.node, fallback: route.fallback ?? false, items: mine });
      return mine.map((k) => `v(${k})`);
    });
    expect(out).toEqual(items.map((k) => `v(${k})`));
    expect(sent).toEqual([
      { node: 'b', fallback: false, items: ['b1', 'b2'] },
      { node: 'a', fallback: false, items: ['a1', 'a2', 'a1'] },
      { node: 'b', fallback: true, items: ['c1', 'c2'] },
    ]);
  });

  it('sends every group in the caller\'s tick (so a node gets them in one write)', () => {
    const { get } = routes();
    let sends = 0;
    void dispatchMany(['a1', 'b1', 'a2'], (k) => k, (k) => get(k[0]!), async () => false, async (_r, mine) => { sends++; return mine; });
    expect(sends).toBe(2);
  });

  it('a group that fails retryably is routed again under the new map, once; other groups are kept', async () => {
    const { get } = routes();
    let moved = false;
    const routeOf = (k: string) => (k === 'a2' && moved ? get('c') : get(k[0]!));
    const calls: string[] = [];
    const out = await dispatchMany(['a1', 'b1', 'a2'], (k) => k, routeOf, async () => { moved = true; return true; }, async (route, mine) => {
      calls.push(`${route.node}:${mine.join(',')}`);
      if (route.node === 'a' && mine.includes('a2')) throw new CorralError('E_NOT_OWNER');
      return mine.map((k) => k.toUpperCase());
    });
    expect(out).toEqual(['A1', 'B1', 'A2']);
    expect(calls).toEqual(['a:a1,a2', 'b:b1', 'a:a1', 'c:a2']);
  });

  it('a second retryable failure is surfaced, not retried again', async () => {
    const { get } = routes();
    const retry = jest.fn(async () => true);
    await expect(dispatchMany(['a1'], (k) => k, () => get('a'), retry, async () => { throw new CorralError('E_NOT_OWNER'); }))
      .rejects.toMatchObject({ code: 'E_NOT_OWNER' });
    expect(retry).toHaveBeenCalledTimes(1);
    await expect(dispatchOne('a1', () => get('a'), retry, async () => { throw new CorralError('E_NOT_OWNER'); }))
      .rejects.toMatchObject({ code: 'E_NOT_OWNER' });
    expect(retry).toHaveBeenCalledTimes(2);
  });
});

describe('ClusterRouter against fake peers', () => {
  async function cluster(n = 3): Promise<FakeCluster> {
    const fc = await FakeCluster.start(n);
    cleanup.push(() => fc.stop());
    return fc;
  }

  const fast: Partial<CorralOptions> = { reconnect: { baseMs: 5, capMs: 20 }, breaker: { failureThreshold: 3, openMs: 100 }, timeoutMs: 3000 };

  async function client(fc: FakeCluster, opts: Partial<CorralOptions> = {}): Promise<Corral> {
    const c = await Corral.connect({ seeds: [fc.ids[0]!], ...fast, ...opts });
    cleanup.push(() => c.close());
    return c;
  }

  /** A client whose ring comes from `t` rather than from the cluster (a stale client). */
  async function clientWith(t: Topology, opts: Partial<CorralOptions> = {}): Promise<Corral> {
    const { seeds: _s, clock: _c, breaker, onNodeDown, ...conn } = { seeds: [], ...fast, ...opts };
    const router = await ClusterRouter.create(t, { connection: conn, ...(breaker && { breaker }), ...(onNodeDown && { onNodeDown }) });
    const c = new Corral(router);
    cleanup.push(() => c.close());
    return c;
  }

  it('learns the members from one seed and sends each key to its owner, with the ring epoch', async () => {
    const fc = await cluster();
    const cache = await client(fc);
    expect(cache.topology()).toMatchObject({ epoch: 1, members: fc.ids.map((id) => ({ id, state: 'alive', breaker: 'closed' })) });
    const ks = keys(300);
    await Promise.all(ks.map((k) => cache.set(k, k)));
    expect(await Promise.all(ks.map((k) => cache.get(k)))).toEqual(ks);
    const ring = fc.ring();
    for (const s of fc.seen) {
      // Writes also carry the caller's deadline (wall clock ms); reads only the epoch.
      if (s.op === 'SET') expect(s.meta).toEqual({ epoch: 1, deadline: expect.any(Number) });
      else expect(s.meta).toEqual({ epoch: 1 });
      for (const k of s.keys) expect(s.peer).toBe(ring.ownerOf(k));
    }
    for (const k of ks) expect(cache.ownerOf(k)).toBe(ring.ownerOf(k));
    // every peer got its share, and only its share
    for (const id of fc.ids) expect([...fc.store(id).keys()].every((k) => ring.ownerOf(k) === id)).toBe(true);
    expect(fc.ids.every((id) => fc.store(id).size > 0)).toBe(true);
  });

  it('a single node that calls itself something other than its address (--node-id) keeps working on the seed connection', async () => {
    const fc = await cluster(1);
    fc.peers[0]!.nodeId = 'cache-a';
    fc.topology = { ...fc.topology, members: [{ id: 'cache-a', state: 'alive', incarnation: 0 }] };
    const cache = await client(fc);
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(cache.ownerOf('k')).toBe('cache-a');
    expect(fc.peers[0]!.connections).toBe(1);
  });

  it('keeps the seed connection for the seed member (one connection per member)', async () => {
    const fc = await cluster();
    await client(fc);
    expect(fc.peers.map((p) => p.connections)).toEqual([1, 1, 1]);
  });

  it('batches a tick\'s calls per node: 300 gets reach each peer in a handful of writes', async () => {
    const fc = await cluster();
    const cache = await client(fc);
    const before = fc.peers.map((p) => p.chunks);
    await Promise.all(keys(300).map((k) => cache.get(k)));
    fc.peers.forEach((p, i) => expect(p.chunks - before[i]!).toBeLessThanOrEqual(3));
  });

  it('mget and mset split by owner and answer in the caller\'s order', async () => {
    const fc = await cluster();
    const cache = await client(fc);
    const ks = keys(100, 'm');
    await cache.mset(ks.map((k, i) => [k, i] as const));
    const wanted = [...ks].reverse().concat(['missing', ks[3]!]);
    expect(await cache.mget(wanted)).toEqual([...ks.map((_, i) => i)].reverse().concat([undefined as never, 3]));
    const mgets = fc.seen.filter((s) => s.op === 'MGET');
    expect(new Set(mgets.map((s) => s.peer)).size).toBe(3);
    expect(mgets).toHaveLength(3);
  });

  it('a stale client gets E_NOT_OWNER, refreshes once from the node that said so, and retries transparently', async () => {
    const fc = await cluster();
    const [a, b] = fc.ids as [string, string];
    const stale: Topology = { epoch: 0, vnodes: fc.topology.vnodes, members: [a, b].map((id) => ({ id, state: 'alive', incarnation: 0 })) };
    const cache = await clientWith(stale);
    const topologies: number[] = [];
    cache.on('topology', (epoch) => topologies.push(epoch));
    const ks = keys(200, 's');
    await Promise.all(ks.map((k) => cache.set(k, k)));
    expect(await cache.mget(ks)).toEqual(ks);
    expect(topologies).toEqual([1]);
    expect(cache.topology().epoch).toBe(1);
    // 200 calls failed under the old ring together; one TOPOLOGY served them all
    const asked = fc.peers.flatMap((p) => p.requests).filter((r) => r.op === Ops.TOPOLOGY.code);
    expect(asked).toHaveLength(1);
    const ring = fc.ring();
    for (const id of fc.ids) expect([...fc.store(id).keys()].every((k) => ring.ownerOf(k) === id)).toBe(true);
    const rejected = fc.seen.filter((s) => s.meta?.epoch === 0 && s.keys.some((k) => ring.ownerOf(k) !== s.peer));
    expect(rejected.length).toBeGreaterThan(0);
  });

  it('surfaces E_NOT_OWNER from a node at the same epoch as the client (they disagree)', async () => {
    const fc = await cluster();
    const cache = await client(fc);
    const k = keys(50).find((x) => fc.ring().ownerOf(x) === fc.ids[1])!;
    fc.failWith.set(fc.ids[1]!, new CorralError('E_NOT_OWNER', 'no', { epoch: 1, owner: fc.ids[2] }));
    await expect(cache.get(k)).rejects.toMatchObject({ code: 'E_NOT_OWNER' });
    expect(fc.seen.filter((s) => s.op === 'GET')).toHaveLength(1);
  });

  it('asks a node that is behind the client again after a moment (it catches up by gossip), once', async () => {
    const fc = await cluster();
    const cache = await client(fc);
    const [k, k2] = keys(80).filter((x) => fc.ring().ownerOf(x) === fc.ids[1]) as [string, string];
    await cache.set(k, 'v');
    fc.failWith.set(fc.ids[1]!, new CorralError('E_NOT_OWNER', 'behind', { epoch: 0, owner: fc.ids[2] }));
    setTimeout(() => fc.failWith.delete(fc.ids[1]!), NODE_BEHIND_RETRY_MS / 2); // it caught up
    const t0 = performance.now();
    expect(await cache.get(k)).toBe('v');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(NODE_BEHIND_RETRY_MS - 5);
    expect(fc.seen.filter((s) => s.op === 'GET' && s.keys.includes(k))).toHaveLength(2);
    // Still behind after the wait: the second refusal reaches the caller.
    fc.failWith.set(fc.ids[1]!, new CorralError('E_NOT_OWNER', 'behind', { epoch: 0, owner: fc.ids[2] }));
    await expect(cache.get(k2)).rejects.toMatchObject({ code: 'E_NOT_OWNER' });
    expect(fc.seen.filter((s) => s.op === 'GET' && s.keys.includes(k2))).toHaveLength(2);
  });

  it('retries only once when the refreshed ring still sends the key to a node that refuses it', async () => {
    const fc = await cluster();
    const cache = await client(fc);
    const k = keys(50).find((x) => fc.ring().ownerOf(x) === fc.ids[1])!;
    fc.failWith.set(fc.ids[1]!, new CorralError('E_NOT_OWNER', 'no', { epoch: 2, owner: fc.ids[2] }));
    fc.topology = { ...fc.topology, epoch: 2 }; // same members: the key still maps to ids[1]
    await expect(cache.get(k)).rejects.toMatchObject({ code: 'E_NOT_OWNER' });
    expect(fc.seen.filter((s) => s.op === 'GET')).toHaveLength(2);
    expect(cache.topology().epoch).toBe(2);
  });

  it('applies a newer topology push (and ignores an older one): new members are dialled, departed ones closed', async () => {
    const fc = await cluster(4);
    const [a, b, c, d] = fc.ids as [string, string, string, string];
    fc.topology = { ...fc.topology, members: fc.topology.members.filter((m) => m.id !== d) };
    const cache = await client(fc);
    expect(fc.peer(d).connections).toBe(0);
    const seen: Array<[number, string[]]> = [];
    cache.on('topology', (epoch, members) => seen.push([epoch, members.map((m) => m.id)]));

    fc.topology = { epoch: 5, vnodes: fc.topology.vnodes, members: [
      { id: a, state: 'alive', incarnation: 0 }, { id: b, state: 'alive', incarnation: 0 },
      { id: c, state: 'left', incarnation: 1 }, { id: d, state: 'alive', incarnation: 0 },
    ] };
    const changed = once(cache, 'topology');
    fc.pushTopology();
    await within(changed, 2000, 'the topology event');
    expect(seen).toEqual([[5, [a, b, c, d]]]);
    await eventually(() => fc.peer(c).sockets.every((s) => s.destroyed || s.readableEnded), 2000, 'the departed member\'s connection to close');
    expect(fc.peer(d).connections).toBe(1);

    const ks = keys(200, 'p');
    await Promise.all(ks.map((k) => cache.set(k, 1)));
    const ring = fc.ring();
    expect(fc.store(c).size).toBe(0);
    for (const id of [a, b, d]) expect([...fc.store(id).keys()].every((k) => ring.ownerOf(k) === id)).toBe(true);

    // older epochs never win, however they arrive
    fc.pushTopology({ ...fc.topology, epoch: 4, members: fc.topology.members.slice(0, 1) });
    await cache.ping().catch(() => undefined); // a round trip on every connection: the push is in
    expect(cache.topology().epoch).toBe(5);
    expect(seen).toHaveLength(1);
  });

  it('a bad topology push does not crash anything, and reaches an error listener when there is one', async () => {
    const fc = await cluster(2);
    const cache = await client(fc);
    for (const s of fc.peers[0]!.sockets) fc.peers[0]!.push(s, PushKind.Topology, { epoch: 'soon' });
    await cache.ping();
    const errors: Error[] = [];
    cache.on('error', (e) => errors.push(e));
    for (const s of fc.peers[0]!.sockets) fc.peers[0]!.push(s, PushKind.Topology, { members: [] });
    await cache.ping();
    expect(errors).toEqual([expect.objectContaining({ code: 'E_INTERNAL' })]);
    expect(cache.topology().epoch).toBe(1);
  });

  it('a down node: breaker opens (node:down), its keys go to the fallback with meta.fallback, others stay; back up: node:up and home again', async () => {
    const fc = await cluster();
    const cache = await client(fc);
    const [, down] = fc.ids as [string, string];
    const ring = fc.ring();
    const ks = keys(150, 'd');
    const mine = ks.filter((k) => ring.ownerOf(k) === down);
    const others = ks.filter((k) => ring.ownerOf(k) !== down);
    await cache.mset(ks.map((k) => [k, k] as const));
    const events: string[] = [];
    cache.on('node:down', (id) => events.push(`down ${id}`));
    cache.on('node:up', (id) => events.push(`up ${id}`));

    const wentDown = once(cache, 'node:down');
    await fc.peer(down).stop();
    await within(wentDown, 3000, 'node:down');
    expect(cache.topology().members.find((m) => m.id === down)!.breaker).toBe('open');

    fc.seen.length = 0;
    const values = await cache.mget(ks);
    expect(values).toEqual(ks.map((k) => (ring.ownerOf(k) === down ? undefined : k)));
    for (const k of mine) expect(await cache.get(k)).toBeUndefined();
    for (const s of fc.seen) {
      const fallback = s.keys.some((k) => mine.includes(k));
      if (fallback) {
        expect(s.meta).toEqual({ fallback: true });
        for (const k of s.keys) expect(s.peer).toBe(ring.preferenceList(k, 2)[1]);
      } else {
        expect(s.meta).toEqual({ epoch: 1 });
      }
    }
    for (const k of others) expect(await cache.get(k)).toBe(k);

    const cameBack = once(cache, 'node:up');
    await fc.peer(down).restart(); // same port; the fake keeps its store across the restart
    await within(cameBack, 5000, 'node:up');
    expect(events).toEqual([`down ${down}`, `up ${down}`]);
    fc.seen.length = 0;
    expect(await cache.get(mine[0]!)).toBe(mine[0]);
    expect(fc.seen).toEqual([{ peer: down, op: 'GET', keys: [mine[0]], meta: { epoch: 1 } }]);
  });

  it('calls already waiting for a node when its breaker opens go to the fallback then, not at their timeout', async () => {
    const fc = await cluster();
    const down = fc.ids[1]!;
    const router = await ClusterRouter.create(fc.topology, {
      connection: { reconnect: { baseMs: 20, capMs: 50 }, timeoutMs: 20_000 },
      breaker: { failureThreshold: 4, openMs: 60_000 },
    });
    const cache = new Corral(router);
    cleanup.push(() => cache.close());
    const theirs = keys(200, 'q').filter((k) => cache.ownerOf(k) === down);
    await cache.mset(theirs.map((k) => [k, k] as const));
    const conn = router.memberConnections().find(([id]) => id === down)![1];
    await fc.peer(down).stop();
    await eventually(() => conn.state !== 'ready', 2000, 'the client to see the drop');

    const t0 = performance.now();
    const reads = Promise.all(theirs.map((k) => cache.get(k)));
    const batch = cache.mget(theirs);
    expect(conn.queued).toBe(theirs.length + 1);
    await within(once(cache, 'node:down'), 5000, 'node:down');
    expect(await within(reads, 5000, 'the queued reads')).toEqual(theirs.map(() => undefined));
    expect(await within(batch, 5000, 'the queued mget')).toEqual(theirs.map(() => undefined));
    expect(performance.now() - t0).toBeLessThan(10_000); // far from their 20 s timeout
    expect(fc.seen.filter((s) => s.meta?.fallback).length).toBeGreaterThan(0);
  });

  it('fail-fast: a down node\'s keys fail with E_CIRCUIT_OPEN at once', async () => {
    const fc = await cluster();
    const cache = await client(fc, { onNodeDown: 'fail-fast' });
    const down = fc.ids[2]!;
    const k = keys(100).find((x) => fc.ring().ownerOf(x) === down)!;
    const other = keys(100).find((x) => fc.ring().ownerOf(x) !== down)!;
    const wentDown = once(cache, 'node:down');
    await fc.peer(down).stop();
    await within(wentDown, 3000, 'node:down');
    await expect(cache.get(k)).rejects.toMatchObject({ code: 'E_CIRCUIT_OPEN', details: { node: down } });
    await expect(cache.get(other)).resolves.toBeUndefined();
  });

  it('statsByNode answers per node, and names a node that does not answer instead of failing', async () => {
    const fc = await cluster();
    const cache = await client(fc, { timeoutMs: 200 });
    await cache.set('x', 1);
    fc.peers[2]!.onRequest = () => undefined; // silent
    const stats = await cache.statsByNode();
    expect(Object.keys(stats).sort()).toEqual([...fc.ids].sort());
    expect(stats[fc.ids[2]!]).toEqual({ error: { code: 'E_TIMEOUT', message: expect.any(String) } });
    expect(Object.values(stats).filter((s) => 'keys' in s).length).toBe(2);
  });
});
