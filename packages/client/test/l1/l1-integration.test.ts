import { Ops } from '@corral/protocol';
import { startTestCluster, startTestNode, type TestCluster, type TestNode } from '@corral/test-utils';
import { Corral, NodeConnection, parseAddress, type CorralOptions } from '../../src';
import { eventually } from '../helpers/util';

/**
 * The L1 against real nodes in this process: writes through one client reach another's L1,
 * lost pushes are found and replayed, a replay the log cannot serve flushes, a cut connection
 * flushes and resubscribes, the ring moving drops the moved ranges.
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function node(config: Parameters<typeof startTestNode>[0] = {}): Promise<TestNode> {
  const n = await startTestNode({ shutdownGraceMs: 100, invalidation: { testHooks: true }, ...config });
  cleanup.push(() => n.stop(100));
  return n;
}

async function client(seeds: string[], opts: Partial<CorralOptions> = {}): Promise<Corral> {
  const c = await Corral.connect({ seeds, timeoutMs: 5_000, ...opts });
  cleanup.push(() => c.close());
  return c;
}

async function admin(id: string): Promise<NodeConnection> {
  const conn = new NodeConnection({ ...parseAddress(id), timeoutMs: 5_000 });
  await conn.connect();
  cleanup.push(() => conn.close());
  return conn;
}

/** Waits until the client's L1 has a position on `nodes` nodes (its subscriptions answered). */
async function subscribed(c: Corral, nodes: number): Promise<void> {
  await eventually(() => Object.values(c.l1Stats()!.nodes).filter((n) => n.status === 'synced').length >= nodes, 5_000, 'L1 subscriptions');
}

describe.each(['tracking', 'broadcast'] as const)('L1 in %s mode, one node', (mode) => {
  it('a write by another client reaches this L1 within milliseconds; the writer reads its own write from its L1', async () => {
    const n = await node();
    const seeds = [`${n.host}:${n.port}`];
    const reader = await client(seeds, { l1: { mode } });
    const writer = await client(seeds, { l1: { mode } });
    await subscribed(reader, 1);
    await subscribed(writer, 1);
    await writer.set('k', 'v1');
    expect(await writer.get('k')).toBe('v1');
    expect(writer.l1Stats()!.hits).toBe(1); // its own write, kept at the version the node gave it
    expect(await reader.get('k')).toBe('v1');
    expect(await reader.get('k')).toBe('v1');
    expect(reader.l1Stats()).toMatchObject({ hits: 1, misses: 1, fills: 1 });
    const t0 = performance.now();
    await writer.set('k', 'v2');
    await eventually(async () => (await reader.get('k')) === 'v2', 2_000, 'the new value');
    expect(performance.now() - t0).toBeLessThan(500);
    await writer.del('k');
    await eventually(async () => (await reader.get('k')) === undefined, 2_000, 'the delete');
    expect(await writer.get('k')).toBeUndefined();
    expect(reader.l1Stats()!.invalidationsReceived).toBeGreaterThanOrEqual(2);
  });
});

describe('L1 in broadcast mode with prefixes', () => {
  it('keeps only keys under its prefixes: it hears of no others', async () => {
    const n = await node();
    const seeds = [`${n.host}:${n.port}`];
    const reader = await client(seeds, { l1: { mode: 'broadcast', prefixes: ['user:'] } });
    const writer = await client(seeds);
    await subscribed(reader, 1);
    await writer.mset([['user:1', 'a'], ['order:1', 'b']]);
    expect(await reader.mget(['user:1', 'order:1'])).toEqual(['a', 'b']);
    expect(reader.l1Stats()!.entries).toBe(1);
    await writer.mset([['user:1', 'a2'], ['order:1', 'b2']]);
    await eventually(async () => (await reader.get('user:1')) === 'a2', 2_000, 'user:1 invalidated');
    expect(await reader.get('order:1')).toBe('b2');
  });
});

describe('L1 coherence under faults, one node', () => {
  it('tracking mode pushes only the keys a client read or wrote', async () => {
    const n = await node();
    const seeds = [`${n.host}:${n.port}`];
    const reader = await client(seeds, { l1: true });
    const writer = await client(seeds);
    await subscribed(reader, 1);
    await writer.mset(Array.from({ length: 50 }, (_x, i) => [`k${i}`, i] as [string, number]));
    await reader.get('k1');
    for (let i = 0; i < 50; i++) await writer.set(`k${i}`, i + 100);
    await eventually(async () => (await reader.get('k1')) === 101, 2_000, 'k1 invalidated');
    const st = await reader.stats();
    expect(st['invalidationKeysPushed']).toBe(1);
  });

  it('dropped pushes are found (gaps) and replayed from the log: no stale value survives', async () => {
    const n = await node();
    const seeds = [`${n.host}:${n.port}`];
    const reader = await client(seeds, { l1: { mode: 'broadcast' } });
    const writer = await client(seeds);
    await subscribed(reader, 1);
    const conn = await admin(seeds[0]!);
    await conn.request(Ops.INVALIDATION_FAULTS, [{ dropPerMille: 500 }]);
    const keys = Array.from({ length: 20 }, (_x, i) => `g${i}`);
    for (let round = 0; round < 30; round++) {
      await Promise.all(keys.map((k) => writer.set(k, round)));
      await Promise.all(keys.map((k) => reader.get(k)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await conn.request(Ops.INVALIDATION_FAULTS, [{ dropPerMille: 0 }]);
    await eventually(async () => (await reader.mget(keys)).every((v) => v === 29), 3_000, 'every key at its last value');
    const s = reader.l1Stats()!;
    expect(s.gapsDetected).toBeGreaterThan(0);
    expect(s.rangesReplayed).toBe(s.gapsDetected);
    expect(s.replaysLost + s.replaysFailed).toBe(0);
    expect(s.flushes.replay).toBe(0);
  });

  it('a gap the log no longer covers flushes that node\'s entries', async () => {
    const n = await node({ invalidation: { testHooks: true, logMaxEntries: 8 } });
    const seeds = [`${n.host}:${n.port}`];
    const reader = await client(seeds, { l1: { mode: 'broadcast' } });
    const writer = await client(seeds);
    await subscribed(reader, 1);
    await writer.set('keep', 1);
    expect(await reader.get('keep')).toBe(1);
    const conn = await admin(seeds[0]!);
    await conn.request(Ops.INVALIDATION_FAULTS, [{ dropPerMille: 1000 }]);
    for (let i = 0; i < 50; i++) await writer.set(`x${i}`, i);
    await conn.request(Ops.INVALIDATION_FAULTS, [{ dropPerMille: 0 }]);
    await eventually(() => reader.l1Stats()!.replaysLost > 0, 3_000, 'a lost replay');
    const s = reader.l1Stats()!;
    expect(s.flushes.replay).toBeGreaterThan(0);
    expect(s.entriesDroppedByFlush).toBeGreaterThan(0);
    expect(await reader.get('keep')).toBe(1); // read again from the node
  });

  it('a cut connection drops the node\'s entries; the client resubscribes on reconnect and caches again', async () => {
    const n = await node();
    const seeds = [`${n.host}:${n.port}`];
    const reader = await client(seeds, { l1: true, name: 'reader-1', reconnect: { baseMs: 5, capMs: 20 } });
    await subscribed(reader, 1);
    await reader.set('k', 'v');
    expect(await reader.get('k')).toBe('v');
    const conn = await admin(seeds[0]!);
    expect(await conn.request(Ops.INVALIDATION_FAULTS, [{ cut: 'reader-' }])).toMatchObject({ cut: 1 });
    await eventually(() => reader.l1Stats()!.flushes.connection > 0, 2_000, 'the flush');
    expect(reader.l1Stats()!.entries).toBe(0);
    await subscribed(reader, 1);
    expect(await reader.get('k')).toBe('v');
    expect(await reader.get('k')).toBe('v');
    expect(reader.l1Stats()!.entries).toBe(1);
  });

  it('INVALIDATION_FAULTS is refused without the test-hook flag', async () => {
    const n = await startTestNode({ shutdownGraceMs: 100 });
    cleanup.push(() => n.stop(100));
    const conn = await admin(`${n.host}:${n.port}`);
    await expect(conn.request(Ops.INVALIDATION_FAULTS, [{ dropPerMille: 10 }])).rejects.toMatchObject({ code: 'E_UNKNOWN_OP' });
  });
});

describe('L1 in a three-node cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => { cluster = await startTestCluster(3, { shutdownGraceMs: 100, hotKeys: { threshold: 200, halfLifeMs: 500 } }); });
  afterAll(async () => { await cluster?.stop(); });

  it('entries are tagged with their owner; a ring change drops the ranges that moved', async () => {
    const reader = await client([cluster.seeds[0]!], { l1: true });
    await subscribed(reader, 3);
    const keys = Array.from({ length: 300 }, (_x, i) => `ring:${i}`);
    await reader.mset(keys.map((k) => [k, k] as [string, string]));
    await reader.mget(keys);
    expect(reader.l1Stats()!.entries).toBe(300);
    const owners = new Map(keys.map((k) => [k, reader.ownerOf(k)]));
    const gone = cluster.nodes[2]!;
    const members = cluster.nodes.filter((t) => t !== gone).map((t) => ({ id: `${t.host}:${t.port}`, state: 'alive' as const, incarnation: 0 }));
    const left = { id: `${gone.host}:${gone.port}`, state: 'left' as const, incarnation: 1 };
    for (const t of cluster.nodes) t.node.setMembers([...members, left]);
    await eventually(() => reader.topology().members.some((m) => m.state === 'left'), 3_000, 'the topology push');
    const movedAway = keys.filter((k) => owners.get(k) === left.id);
    await eventually(() => reader.l1Stats()!.entries === 300 - movedAway.length, 2_000, 'the moved entries dropped');
    expect(reader.l1Stats()!.dropped.topology + reader.l1Stats()!.entriesDroppedByFlush).toBe(movedAway.length);
    const all = [...members, { ...left, state: 'alive' as const, incarnation: 2 }];
    for (const t of cluster.nodes) t.node.setMembers(all);
    await eventually(() => reader.topology().members.every((m) => m.state === 'alive'), 3_000, 'the node back');
  });

  it('a hot key is read from every node; a write still reaches every copy and every L1', async () => {
    const writer = await client([cluster.seeds[0]!]);
    const readers = await Promise.all([0, 1, 2].map(() => client([cluster.seeds[0]!], { hotKeys: true })));
    for (const r of readers) await subscribed(r, 3);
    await writer.set('hot', 'v1');
    for (let i = 0; i < 2_000 && readers.some((r) => !r.l1Stats()!.hotKeys); i++) await Promise.all(readers.map((r) => r.get('hot')));
    await eventually(() => readers.every((r) => r.l1Stats()!.hotKeys === 1), 3_000, 'the hot key announced');
    for (let i = 0; i < 300; i++) await Promise.all(readers.map((r) => r.get('hot')));
    const by = readers.map((r) => r.l1Stats()!.readsByNode);
    const nodesUsed = new Set(by.flatMap((b) => Object.keys(b)));
    expect(nodesUsed.size).toBe(3);
    await writer.set('hot', 'v2');
    await eventually(async () => (await Promise.all(readers.map((r) => r.get('hot')))).every((v) => v === 'v2'), 2_000, 'every reader sees v2');
    for (let i = 0; i < 50; i++) expect(await readers[i % 3]!.get('hot')).toBe('v2');
  });
});
