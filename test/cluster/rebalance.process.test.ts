/**
 * Live rebalancing with real node processes and the real CLI: 50 000 keys in three nodes, a fourth
 * added with `corral cluster add`, then one removed with `corral cluster remove`, under a constant
 * read load. Checks what moved, that nothing was lost or went back in version, and the hit ratio.
 *
 * `--vnodes 2000` on every node: one member's share of the ring spreads by about 1/sqrt(vnodes)
 * (4.5 % relative at the default 500, 2.2 % here), and the "within 10 % of a quarter" check needs
 * that to be a >4-sigma event, not a 1-in-40 one. The exact check (the node holds precisely the
 * keys the ring gives it) does not depend on it.
 */
import { Corral } from '@corral/client';
import { HashRing, loadRingHasher } from '@corral/ring';
import { ProcessReaper, askNode, loopbackHost, runCli, spawnGossipNode, waitUntil, type GossipNode } from '@corral/test-utils';

jest.setTimeout(90_000);

const KEYS = 50_000;
const VNODES = 2000;
/** Every 10th read asks for a key that was never written: the steady hit ratio is 90 %, not a trivial 100 %. */
const ABSENT_EVERY = 10;
/** The documented bound (docs/operations.md): during a rebalance the hit ratio stays within 1 point of steady. */
const HIT_RATIO_BOUND_PP = 1;
/** Hosts 127.0.0.20… so this file and the membership test never share an address. */
const host = (i: number) => loopbackHost(18 + i);

/** A quarter of the keys is ~700 KB: from three senders ~1.5 s, from one ~5 s (the first second's budget goes at once). */
const HANDOFF_RATE = '128kb';

const key = (i: number) => `user:${i}`;
const value = (i: number) => `v${i}:${'x'.repeat(40)}`;

const reaper = new ProcessReaper();
let nodes: GossipNode[] = [];
let newcomer: GossipNode;
let client: Corral;
/** The latest version each key was written with, and its latest value. */
const versions = new Array<number>(KEYS);
const values = new Array<string>(KEYS);

interface Status {
  id: string; store: { keys: number }; ring: { members: number; fingerprint: number };
  handoff: { receiver: { readThroughs: number; readThroughHits: number } };
}
const status = (id: string) => askNode(id, 'CLUSTER_STATUS', [], { timeoutMs: 2000 }) as Promise<Status>;

/** A constant read load: rounds of 20 GETs every 5 ms, counted into the current window. */
class ReadLoad {
  windows = new Map<string, { reads: number; hits: number; errors: number }>();
  private current = 'warmup';
  private stopped = false;
  private done: Promise<void> | undefined;
  private i = 0;

  start(): void { this.done = this.loop(); }
  window(name: string): void { this.current = name; this.windows.set(name, { reads: 0, hits: 0, errors: 0 }); }
  ratio(name: string): number { const w = this.windows.get(name)!; return w.hits / w.reads; }
  async stop(): Promise<void> { this.stopped = true; await this.done; }

  private async loop(): Promise<void> {
    // Bounded by count and time as well as by stop().
    const deadline = performance.now() + 80_000;
    for (let round = 0; !this.stopped && round < 1_000_000 && performance.now() < deadline; round++) {
      await Promise.all(Array.from({ length: 20 }, () => this.readOne()));
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async readOne(): Promise<void> {
    const n = this.i++;
    // Deterministic mix, so every window has the same share of absent keys whatever its length.
    const k = n % ABSENT_EVERY === ABSENT_EVERY - 1 ? `absent:${n}` : key((n * 7919) % KEYS);
    const w = this.windows.get(this.current) ?? { reads: 0, hits: 0, errors: 0 };
    this.windows.set(this.current, w);
    try {
      const v = await client.get(k);
      w.reads++;
      if (v !== undefined) w.hits++;
    } catch {
      // An error is a miss as far as the application is concerned.
      w.reads++;
      w.errors++;
    }
  }
}

/**
 * Every key is read back with its value; the keys that moved (the only ones whose version could
 * have gone back: they were copied between nodes) are read with their versions too.
 */
async function checkEveryKey(what: string, moved: readonly number[] = []): Promise<void> {
  const t0 = performance.now();
  for (let start = 0; start < KEYS; start += 5000) {
    const idx = Array.from({ length: Math.min(5000, KEYS - start) }, (_x, j) => start + j);
    const got = await client.mget(idx.map(key));
    const wrong = idx.filter((i, j) => got[j] !== values[i]);
    if (wrong.length > 0) throw new Error(`${what}: ${wrong.length} keys missing or wrong, e.g. ${key(wrong[0]!)} = ${String(got[idx.indexOf(wrong[0]!)])}`);
  }
  for (let start = 0; start < moved.length; start += 5000) {
    const idx = moved.slice(start, start + 5000);
    const entries = await Promise.all(idx.map((i) => client.gets(key(i))));
    const back = idx.filter((i, j) => (entries[j]?.version ?? 0) < versions[i]!);
    if (back.length > 0) throw new Error(`${what}: ${back.length} versions went backwards, e.g. ${key(back[0]!)}`);
  }
  console.log(`${what}: ${KEYS} values and ${moved.length} versions checked in ${Math.round(performance.now() - t0)} ms`);
}

async function totalKeys(ids: string[]): Promise<number> {
  return (await Promise.all(ids.map(status))).reduce((n, s) => n + s.store.keys, 0);
}

/** Keys the ring over `ids` gives to `id`, counted exactly as every node and client route them. */
function keysOwnedBy(ids: string[], id: string): number {
  const ring = new HashRing(ids.map((x) => ({ id: x })), { vnodes: VNODES });
  let n = 0;
  for (let i = 0; i < KEYS; i++) if (ring.ownerOf(key(i)) === id) n++;
  return n;
}

const load = new ReadLoad();
/** Reads answered by a read-through during each window: what the hit ratio would have lost without it. */
const readThroughHits = new Map<string, number>();

beforeAll(async () => {
  await loadRingHasher();
  // Throttled so the handoff takes a couple of seconds under the read load, as a large one would:
  // the hit-ratio check is only worth something while keys are actually in flight.
  const args = ['--vnodes', String(VNODES), '--handoff-rate', HANDOFF_RATE, '--handoff-batch-keys', '200'];
  const first = reaper.track(await spawnGossipNode(host(0), [], args));
  const rest = await Promise.all([1, 2].map(async (i) => reaper.track(await spawnGossipNode(host(i), [first.gossipAddr], args))));
  nodes = [first, ...rest];
  // Started alone, empty: what `corral cluster add` expects.
  newcomer = reaper.track(await spawnGossipNode(host(3), [], args));
  await waitUntil(async () => (await Promise.all(nodes.map((n) => status(n.id)))).every((s) => s.ring.members === 3), 10_000, 'three members');
  client = await Corral.connect({ seeds: nodes.map((n) => n.id), timeoutMs: 3000 });
  for (let start = 0; start < KEYS; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, KEYS - start) }, (_x, j) => start + j);
    const vs = await client.mset(batch.map((i) => [key(i), value(i)] as const));
    batch.forEach((i, j) => { versions[i] = vs[j]!; values[i] = value(i); });
  }
  load.start();
});

afterAll(async () => {
  await load.stop();
  await client?.close();
  await reaper.killAll();
});

test('loaded: 50 000 keys over three nodes', async () => {
  expect(await totalKeys(nodes.map((n) => n.id))).toBe(KEYS);
  await checkEveryKey('after load');
  load.window('steady');
  await new Promise((r) => setTimeout(r, 2000));
});

test('corral cluster add: a quarter of the keys move, none lost, no version goes back, reads keep hitting', async () => {
  const ids4 = [...nodes.map((n) => n.id), newcomer.id];
  const expected = keysOwnedBy(ids4, newcomer.id);
  // Writes during the handoff to keys that are moving: the newer write must win over the handed-off copy.
  const ring4 = new HashRing(ids4.map((x) => ({ id: x })), { vnodes: VNODES });
  const moving = Array.from({ length: KEYS }, (_x, i) => i).filter((i) => ring4.ownerOf(key(i)) === newcomer.id).slice(0, 300);

  load.window('add');
  const cli = runCli(['cluster', 'add', newcomer.id, '--seed', nodes[0]!.id, '--json'], 60_000);
  await new Promise((r) => setTimeout(r, 100));
  for (const i of moving) {
    values[i] = `rewritten-during-add:${i}`;
    versions[i] = (await client.set(key(i), values[i]))!;
  }
  const res = await cli;
  load.window('after-add');
  if (res.code !== 0) throw new Error(`cluster add exited ${res.code}: ${res.stderr}${res.stdout}`);
  const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as { settled: boolean; ms: number; moved: { keys: number; bytes: number; bySource: Record<string, number> } };
  expect(summary.settled).toBe(true);

  const after = await status(newcomer.id);
  const held = after.store.keys;
  const fraction = held / KEYS;
  const rt = after.handoff.receiver;
  console.log(`cluster add: ${summary.moved.keys} keys (${summary.moved.bytes} bytes) moved in ${summary.ms} ms ` +
    `(CLI run ${res.ms} ms); the new node holds ${held} = ${(fraction * 100).toFixed(2)}% of the keys, the ring gives it exactly ${expected}; ` +
    `from ${JSON.stringify(summary.moved.bySource)}; misses read through to the old owner: ${rt.readThroughs} (${rt.readThroughHits} found)`);
  readThroughHits.set('add', rt.readThroughHits);
  expect(held).toBe(expected);
  expect(Math.abs(fraction - 0.25)).toBeLessThanOrEqual(0.025);
  expect(summary.moved.keys).toBeGreaterThanOrEqual(expected);
  expect(summary.moved.keys).toBeLessThanOrEqual(expected * 1.02);
  expect(await totalKeys(ids4)).toBe(KEYS);
  await checkEveryKey('after add', Array.from({ length: KEYS }, (_x, i) => i).filter((i) => ring4.ownerOf(key(i)) === newcomer.id));
});

test('corral cluster remove: the node drains, exits 0, its keys move to the rest, none lost', async () => {
  const leaver = nodes[1]!;
  const stay = [nodes[0]!.id, nodes[2]!.id, newcomer.id];
  const held = (await status(leaver.id)).store.keys;
  const ids4 = [...nodes.map((n) => n.id), newcomer.id];
  const ring4 = new HashRing(ids4.map((x) => ({ id: x })), { vnodes: VNODES });
  const moving = Array.from({ length: KEYS }, (_x, i) => i).filter((i) => ring4.ownerOf(key(i)) === leaver.id);
  const readThroughs = async () => (await Promise.all(stay.map(status))).reduce((n, s) => n + s.handoff.receiver.readThroughHits, 0);
  const rt0 = await readThroughs();
  load.window('remove');
  const res = await runCli(['cluster', 'remove', leaver.id, '--seed', nodes[0]!.id, '--json'], 60_000);
  load.window('after-remove');
  if (res.code !== 0) throw new Error(`cluster remove exited ${res.code}: ${res.stderr}${res.stdout}`);
  const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as { settled: boolean; ms: number; stranded: number; moved: { keys: number; bytes: number; byTarget: Record<string, number> } };
  const exit = await leaver.proc.exited;
  console.log(`cluster remove: ${summary.moved.keys} keys (${summary.moved.bytes} bytes) moved in ${summary.ms} ms (CLI run ${res.ms} ms), ` +
    `${(held / KEYS * 100).toFixed(2)}% of the keys; to ${JSON.stringify(summary.moved.byTarget)}; process exit code ${exit.code}; ` +
    `reads answered by the draining node meanwhile: ${(await readThroughs()) - rt0}`);
  readThroughHits.set('remove', (await readThroughs()) - rt0);
  expect(exit.code).toBe(0);
  expect(summary.settled).toBe(true);
  expect(summary.stranded).toBe(0);
  expect(summary.moved.keys).toBe(held);
  expect(Math.abs(held / KEYS - 0.25)).toBeLessThanOrEqual(0.025);
  expect(await totalKeys(stay)).toBe(KEYS);
  for (const id of stay) expect((await status(id)).ring.members).toBe(3);
  expect(moving.length).toBe(held);
  await checkEveryKey('after remove', moving);
});

test(`the hit ratio stays within ${HIT_RATIO_BOUND_PP} point of steady during add and remove`, () => {
  const steady = load.ratio('steady');
  const report = [...load.windows].map(([name, w]) => `${name}: ${(w.hits / w.reads * 100).toFixed(2)}% of ${w.reads} reads (${w.errors} errors)`);
  console.log(`hit ratio under a constant read load: ${report.join('; ')}`);
  for (const [name, n] of readThroughHits) {
    const w = load.windows.get(name)!;
    console.log(`${name}: ${n} reads were answered by a read-through; without it the window's hit ratio would have been at most ${((w.hits - n) / w.reads * 100).toFixed(2)}%`);
  }
  for (const name of ['add', 'remove', 'after-add']) {
    expect(load.windows.get(name)!.reads).toBeGreaterThan(200);
    expect(Math.abs(load.ratio(name) - steady) * 100).toBeLessThanOrEqual(HIT_RATIO_BOUND_PP);
  }
});
