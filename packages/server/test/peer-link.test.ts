import { createServer, connect, type Server, type Socket } from 'node:net';
import { Ops } from '@corral/protocol';
import { startTestNode, type TestNode } from '@corral/test-utils';
import { PeerPool } from '../src/cluster/peer-link';

/**
 * The node-to-node link after an outage. A connection that lived through a partition is never
 * closed by the kernel in useful time (what was written into it waits in TCP's retransmission
 * backoff), so the link must give up on a socket that stays silent while requests time out, and
 * dial again. Here a real node sits behind a loopback proxy that can swallow a connection (the
 * socket stays open, nothing comes back: what a cut-off peer looks like) or refuse new ones.
 */

let node: TestNode;
beforeAll(async () => { node = await startTestNode({ host: '127.0.0.5' }); });
afterAll(async () => { await node?.stop(); });

interface Proxy { addr: string; connections: number; swallow: boolean; server: Server; sockets: Socket[] }

async function proxy(): Promise<Proxy> {
  const p: Proxy = { addr: '', connections: 0, swallow: true, server: createServer(), sockets: [] };
  p.server.on('connection', (sock) => {
    p.connections++;
    p.sockets.push(sock);
    if (p.swallow) { sock.on('data', () => undefined); return; }
    const up = connect({ host: node.host, port: node.port });
    p.sockets.push(up);
    sock.pipe(up).pipe(sock);
    sock.on('error', () => up.destroy());
    up.on('error', () => sock.destroy());
  });
  await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.6', resolve));
  const a = p.server.address() as { port: number };
  p.addr = `127.0.0.6:${a.port}`;
  return p;
}

async function closeProxy(p: Proxy): Promise<void> {
  for (const s of p.sockets) s.destroy();
  await new Promise<void>((resolve) => p.server.close(() => resolve()));
}

test('a request that times out on a silent socket closes it, and the next one dials afresh', async () => {
  const p = await proxy();
  const pool = new PeerPool({ timeoutMs: 300, retryAfterMs: 100 });
  try {
    const link = pool.get(p.addr);
    await expect(link.request(Ops.PING, [])).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    expect(p.connections).toBe(1);
    p.swallow = false; // the network is back
    expect(await link.request(Ops.PING, [])).toBe('PONG');
    expect(p.connections).toBe(2);
    // A socket that answers is kept.
    expect(await link.request(Ops.PING, [])).toBe('PONG');
    expect(p.connections).toBe(2);
  } finally {
    pool.closeAll();
    await closeProxy(p);
  }
});

test('once a silent socket is given up, a peer that no longer listens is reported at once', async () => {
  const p = await proxy();
  const pool = new PeerPool({ timeoutMs: 300, retryAfterMs: 100 });
  try {
    const link = pool.get(p.addr);
    // The first socket is silent; once it is given up, nobody listens any more, so the next
    // attempt (started before the first socket's 'close' has fired) is refused, and says so.
    const first = link.request(Ops.PING, []).catch((e: unknown) => {
      p.server.close();
      return link.request(Ops.PING, []).then(() => 'answered', (e2: { code?: string }) => e2.code ?? 'error');
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([first, new Promise((r) => { timer = setTimeout(() => r('hung'), 3000); })]);
    clearTimeout(timer);
    expect(outcome).toBe('E_NOT_CONNECTED');
  } finally {
    pool.closeAll();
    for (const s of p.sockets) s.destroy();
  }
});

test('dropping a link fails what waits on it at once and the next use dials a new one', async () => {
  const p = await proxy();
  const pool = new PeerPool({ timeoutMs: 5000, retryAfterMs: 100 });
  try {
    const waiting = pool.get(p.addr).request(Ops.PING, []);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    pool.drop(p.addr);
    await expect(waiting).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
    expect(performance.now() - t0).toBeLessThan(1000);
    p.swallow = false;
    expect(await pool.get(p.addr).request(Ops.PING, [])).toBe('PONG');
    expect(p.connections).toBe(2);
  } finally {
    pool.closeAll();
    await closeProxy(p);
  }
});
