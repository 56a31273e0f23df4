import { Ops } from '@corral/protocol';
import { startTestCluster, type TestCluster } from '@corral/test-utils';
import { Corral, NodeConnection, parseAddress } from '../src';
import { eventually } from './helpers/util';

/**
 * Around a crash each node declares the dead member on its own suspicion timer, so for up to a
 * suspicion timeout the client may already route by a ring without it (pushed by a node that
 * declared it dead) while the key's new owner still holds it as a suspect, the owner of the key
 * in its view. Real in-process nodes on loopback; their member tables are set by hand, which is
 * what makes the two views differ deterministically.
 */

const GUTTER_TTL_MS = 5_000;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function direct(id: string): Promise<NodeConnection> {
  const conn = new NodeConnection({ ...parseAddress(id), timeoutMs: 5_000 });
  await conn.connect();
  cleanup.push(() => conn.close());
  return conn;
}

describe('a node behind the client names as owner a member the client\'s ring no longer has', () => {
  let cluster: TestCluster;
  beforeEach(async () => { cluster = await startTestCluster(3, { shutdownGraceMs: 200, gutterTtlMs: GUTTER_TTL_MS }); });
  afterEach(async () => { await cluster?.stop(); });

  it('the call is served at once by that node as the owner\'s gutter (short TTL), not failed with E_NOT_OWNER', async () => {
    const [n0, , n2] = cluster.seeds as [string, string, string];
    const cache = await Corral.connect({ seeds: [n0], timeoutMs: 5_000 });
    cleanup.push(() => cache.close());
    const alive = cluster.seeds.map((id) => ({ id, state: 'alive' as const, incarnation: 0 }));
    const withN2 = (state: 'suspect' | 'dead') => alive.map((m) => (m.id === n2 ? { ...m, state } : m));

    const candidates = Array.from({ length: 400 }, (_, i) => `crash:${i}`).filter((k) => cache.ownerOf(k) === n2);
    expect(candidates.length).toBeGreaterThan(50);

    // n2 crashes. n1's suspicion timer has run out (n2 dead: pushed to the client, which drops n2
    // from its ring); n0's has not (n2 suspect: still in its ring, still owning its keys).
    cluster.nodes[0]!.node.setMembers(withN2('suspect'));
    cluster.nodes[1]!.node.setMembers(withN2('dead'));
    await eventually(() => cache.topology().epoch === cluster.nodes[1]!.node.cluster.epoch, 5_000, 'the client on n1\'s ring');
    await cluster.nodes[2]!.stop(200);
    expect(cache.topology().members.find((m) => m.id === n2)?.state).toBe('dead');

    // The keys that moved from n2 to n0: n0 is behind the client and still says they are n2's.
    const view0 = cluster.nodes[0]!.node.cluster;
    const moved = candidates.filter((k) => cache.ownerOf(k) === n0);
    expect(moved.length).toBeGreaterThan(10);
    expect(view0.epoch).toBeLessThan(cache.topology().epoch);
    for (const k of moved) expect(view0.ownerOf(k)).toBe(n2);
    const [k, ...rest] = moved as [string, ...string[]];

    // One key (dispatchOne): written and read back, no E_NOT_OWNER, no 50 ms wait.
    const t0 = performance.now();
    await cache.set(k, 'v1');
    expect(await cache.get(k)).toBe('v1');
    expect(performance.now() - t0).toBeLessThan(2_000);
    // n0 took it as a gutter: the TTL is capped although the write asked for none.
    const c0 = await direct(n0);
    const ttl = await c0.request(Ops.TTL, [k]) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(GUTTER_TTL_MS);

    // Many keys (dispatchMany), mixed with keys n0 owns in both views: one group, one retry.
    const own = Array.from({ length: 400 }, (_, i) => `own:${i}`).filter((x) => cache.ownerOf(x) === n0 && view0.ownerOf(x) === n0).slice(0, 5);
    const batch = [...rest.slice(0, 10), ...own];
    await cache.mset(batch.map((x) => [x, `m:${x}`] as const));
    expect(await cache.mget(batch)).toEqual(batch.map((x) => `m:${x}`));

    // n0 catches up (n2 dead): it owns the gutter copies now and serves them as they are; nothing
    // older comes back (n2's copies died with it), and they still expire at the gutter TTL.
    cluster.nodes[0]!.node.setMembers(withN2('dead'));
    expect(view0.epoch).toBe(cache.topology().epoch);
    expect(await cache.get(k)).toBe('v1');
    expect(await cache.mget(rest.slice(0, 10))).toEqual(rest.slice(0, 10).map((x) => `m:${x}`));
    expect(await c0.request(Ops.TTL, [k])).toBeLessThanOrEqual(GUTTER_TTL_MS);
  });
});
