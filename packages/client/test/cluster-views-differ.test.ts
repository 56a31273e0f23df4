import { Ops } from '@corral/protocol';
import { startTestCluster, type TestCluster } from '@corral/test-utils';
import { Corral, NodeConnection, parseAddress } from '../src';
import { eventually } from './helpers/util';

/**
 * Around a crash each node declares the dead member on its own suspicion timer, so for up to a
 * suspicion timeout the client may already route by a ring without it (pushed by a node that
 * declared it dead) while the key's new owner still holds it as a suspect, the owner of the key
 * in its view. Real in-process nodes on loopback; their member tables are set by hand, which is
 * what makes the two views differ deterministically (and lets the test say when they agree).
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function direct(id: string): Promise<NodeConnection> {
  const conn = new NodeConnection({ ...parseAddress(id), timeoutMs: 5_000 });
  await conn.connect();
  cleanup.push(() => conn.close());
  return conn;
}

describe('a node behind the client still holds as a suspect an owner the client\'s ring has dropped', () => {
  let cluster: TestCluster;
  beforeEach(async () => { cluster = await startTestCluster(3, { shutdownGraceMs: 200 }); });
  afterEach(async () => { await cluster?.stop(); });

  it('the call waits for that node to agree (up to the request timeout), then succeeds there as owner; past the timeout E_NOT_OWNER', async () => {
    const [n0, , n2] = cluster.seeds as [string, string, string];
    const cache = await Corral.connect({ seeds: [n0], timeoutMs: 1_000 });
    const impatient = await Corral.connect({ seeds: [n0], timeoutMs: 300 });
    cleanup.push(() => cache.close(), () => impatient.close());
    const alive = cluster.seeds.map((id) => ({ id, state: 'alive' as const, incarnation: 0 }));
    const withN2 = (state: 'suspect' | 'dead') => alive.map((m) => (m.id === n2 ? { ...m, state } : m));

    const candidates = Array.from({ length: 400 }, (_, i) => `crash:${i}`).filter((k) => cache.ownerOf(k) === n2);
    expect(candidates.length).toBeGreaterThan(50);

    // n2 crashes. n1's suspicion timer has run out (n2 dead: pushed to the clients, which drop n2
    // from their rings); n0's has not (n2 suspect: still in its ring, still owning its keys).
    cluster.nodes[0]!.node.setMembers(withN2('suspect'));
    cluster.nodes[1]!.node.setMembers(withN2('dead'));
    const epoch1 = cluster.nodes[1]!.node.cluster.epoch;
    await eventually(() => cache.topology().epoch === epoch1 && impatient.topology().epoch === epoch1, 5_000, 'the clients on n1\'s ring');
    await cluster.nodes[2]!.stop(200);

    const view0 = cluster.nodes[0]!.node.cluster;
    const moved = candidates.filter((k) => cache.ownerOf(k) === n0);
    expect(moved.length).toBeGreaterThan(10);
    for (const k of moved) expect(view0.ownerOf(k)).toBe(n2);
    const [k, k2, ...rest] = moved as [string, string, ...string[]];

    // n0 does not agree within the impatient client's 300 ms: the error reaches the caller, in bounded time.
    let t0 = performance.now();
    await expect(impatient.set(k2, 'never')).rejects.toMatchObject({ code: 'E_NOT_OWNER', details: { ownerState: 'suspect', owner: n2 } });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
    expect(performance.now() - t0).toBeLessThan(2_000);

    // n0 declares n2 dead 300 ms from now; calls made meanwhile wait for it and then succeed at n0.
    const agree = setTimeout(() => cluster.nodes[0]!.node.setMembers(withN2('dead')), 300);
    cleanup.push(async () => clearTimeout(agree));
    t0 = performance.now();
    const batch = rest.slice(0, 10);
    await Promise.all([cache.set(k, 'v1'), cache.mset(batch.map((x) => [x, `m:${x}`] as const))]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(view0.ownerOf(k)).toBe(n0);
    expect(await cache.get(k)).toBe('v1');
    expect(await cache.mget(batch)).toEqual(batch.map((x) => `m:${x}`));
    // Written as the owner, not as a gutter: no TTL cap.
    const c0 = await direct(n0);
    expect(await c0.request(Ops.TTL, [k])).toBe(-1);
  });
});
