import { createServer, type Server, type Socket } from 'node:net';
import { CoordinatorError, Membership } from '../src';
import { Cluster, SLACK_MS, stateOf, waitFor } from './cluster-harness';

const cluster = new Cluster();
afterEach(() => cluster.stopAll());

/** A TCP peer that accepts and never answers, to hold a join exchange open. */
async function silentPeer(): Promise<{ server: Server; addr: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.7', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    addr: `127.0.0.7:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('start() without a reachable seed retries until joinTimeoutMs, then rejects and stops', async () => {
  const lonely = cluster.create(3, { seeds: ['127.0.0.2:1'], joinTimeoutMs: 400 });
  const started = performance.now();
  const err = await lonely.start().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CoordinatorError);
  expect((err as CoordinatorError).code).toBe('E_JOIN_TIMEOUT');
  expect(performance.now() - started).toBeLessThan(400 + SLACK_MS);
  expect(lonely.stats().joinAttempts).toBeGreaterThanOrEqual(2);
});

test('stop() during a hanging join ends it at once with E_STOPPED', async () => {
  const peer = await silentPeer();
  try {
    const node = cluster.create(3, { seeds: [peer.addr], pushPullTimeoutMs: 10_000 });
    const starting = node.start().catch((e: unknown) => e);
    await waitFor(() => node.stats().joinAttempts >= 1, 2000, 'a join attempt');
    const t0 = performance.now();
    await node.stop();
    expect(await starting).toMatchObject({ code: 'E_STOPPED' });
    expect(performance.now() - t0).toBeLessThan(500);
  } finally {
    await peer.close();
  }
});

test('seeds are tried until one answers; a seed naming ourselves is skipped', async () => {
  const seed = await cluster.start(2);
  const node = cluster.create(3, { seeds: ['127.0.0.2:1', seed.gossipAddr] });
  await node.start();
  expect(stateOf(node, 'node-2')).toBe('alive');
  const alone = await cluster.start(4, { seeds: [] });
  expect(alone.members().map((m) => m.id)).toEqual(['node-4']);
});

test('stop() is idempotent, closes the port, and start() after stop() is refused', async () => {
  const node = await cluster.start(2);
  const changes: number[] = [];
  node.on('change', (members) => changes.push(members.length));
  await Promise.all([node.stop(), node.stop()]);
  await node.stop();
  await expect(node.start()).resolves.toBeUndefined(); // the original start() promise
  const again = new Membership({ id: 'x', host: '127.0.0.2', port: 0 });
  await again.stop();
  await expect(again.start()).rejects.toMatchObject({ code: 'E_STOPPED' });
  // The port is free again: another node can bind it.
  const port = Number(node.gossipAddr.split(':')[1]);
  const reuse = await cluster.start(2, { port });
  expect(reuse.gossipAddr).toBe(node.gossipAddr);
});

test('bad options are refused with E_BAD_OPTIONS', () => {
  const base = { id: 'a', host: '127.0.0.1', port: 0 };
  for (const opts of [
    { ...base, id: '' },
    { ...base, seeds: ['nope'] },
    { ...base, probeTimeoutMs: 2000 },
    { ...base, meta: { big: 'x'.repeat(1000) } },
  ]) {
    expect(() => new Membership(opts)).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }));
  }
});
