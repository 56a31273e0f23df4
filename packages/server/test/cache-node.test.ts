import { createServer, Socket, type AddressInfo } from 'node:net';
import { encodeRequest, Ops, PushKind, type Frame } from '@corral/protocol';
import { DEFAULT_VNODES } from '@corral/ring';
import { ManualClock, RawConnection, startTestNode, type TestNode } from '@corral/test-utils';
import { CacheNode } from '../src/cache-node';
import { createNodeLogger } from '../src/logger';
import { resolveNodeConfig } from '../src/node-config';

const nodes: TestNode[] = [];
const conns: RawConnection[] = [];
async function node(config: Parameters<typeof startTestNode>[0] = {}): Promise<TestNode> {
  const t = await startTestNode(config);
  nodes.push(t);
  return t;
}
async function connect(t: TestNode): Promise<RawConnection> {
  const c = await t.connect();
  conns.push(c);
  return c;
}
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const t of nodes.splice(0)) await t.stop(200);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('handshake and admin', () => {
  test('HELLO states the version, node id and limits', async () => {
    const t = await node({ maxKeyBytes: 200, maxValueBytes: 4096, maxFrameBytes: 8192 });
    const c = await connect(t);
    expect(await c.call('HELLO', [1, { name: 'test' }])).toEqual({
      version: 1, node: `127.0.0.1:${t.port}`, server: expect.stringMatching(/^corral\//), admin: true,
      limits: { maxKeyBytes: 200, maxValueBytes: 4096, maxFrameBytes: 8192 },
    });
    await expect(c.call('HELLO', [2])).rejects.toMatchObject({ code: 'E_PROTOCOL_VERSION', details: { supported: [1] } });
  });

  test('with an admin token, FLUSH needs a HELLO carrying it', async () => {
    const t = await node({ adminToken: 's3cret' });
    const c = await connect(t);
    await c.call('SET', ['k', Buffer.from('v')]); // ops before HELLO are allowed
    await expect(c.call('FLUSH')).rejects.toMatchObject({ code: 'E_NOT_ADMIN' });
    expect(await c.call('HELLO', [1])).toMatchObject({ admin: false });
    await expect(c.call('FLUSH')).rejects.toMatchObject({ code: 'E_NOT_ADMIN' });
    await expect(c.call('HELLO', [1, { auth: 'wrong' }])).rejects.toMatchObject({ code: 'E_AUTH' });
    await expect(c.call('FLUSH')).rejects.toMatchObject({ code: 'E_NOT_ADMIN' });
    expect(await c.call('HELLO', [1, { auth: 's3cret' }])).toMatchObject({ admin: true });
    expect(await c.call('FLUSH')).toBe(1);
    expect(await c.call('EXISTS', ['k'])).toBe(false);
    const other = await connect(t); // admin rights belong to the connection, not the node
    await expect(other.call('FLUSH')).rejects.toMatchObject({ code: 'E_NOT_ADMIN' });
  });

  test('without an admin token every connection may FLUSH', async () => {
    const t = await node();
    const c = await connect(t);
    await c.call('SET', ['a', Buffer.from('1')]);
    await c.call('SET', ['b', Buffer.from('2')]);
    expect(await c.call('FLUSH')).toBe(2);
  });

  test('TOPOLOGY is a single-member topology for now, the member id being the address to dial', async () => {
    const t = await node({ nodeId: 'n1' });
    const c = await connect(t);
    expect(await c.call('TOPOLOGY')).toEqual({
      epoch: 1, vnodes: DEFAULT_VNODES, members: [{ id: `127.0.0.1:${t.port}`, state: 'alive', incarnation: 0 }],
    });
    expect(await c.call('HELLO', [1])).toMatchObject({ node: 'n1' });
  });
});

describe('ops', () => {
  test('MSET writes each entry with its own increasing version; MGET reads in request order', async () => {
    const clock = new ManualClock();
    const t = await node({ clock });
    const c = await connect(t);
    const versions = await c.call('MSET', [[['a', Buffer.from('1')], ['b', Buffer.from('2'), 3], ['c', Buffer.from('3')]], { ttlMs: 1000 }]) as number[];
    expect(versions).toHaveLength(3);
    expect(versions[1]!).toBeGreaterThan(versions[0]!);
    expect(versions[2]!).toBeGreaterThan(versions[1]!);
    expect(await c.call('MGET', [['c', 'missing', 'b']])).toEqual([[Buffer.from('3'), 0], null, [Buffer.from('2'), 3]]);
    expect(await c.call('TTL', ['a'])).toBe(1000);
    clock.advance(1000);
    expect(await c.call('MGET', [['a', 'b']])).toEqual([null, null]);
  });

  test('an MSET with an entry that cannot fit writes nothing', async () => {
    const t = await node({ maxMemoryBytes: 64 * 1024 });
    const c = await connect(t);
    await expect(c.call('MSET', [[['small', Buffer.from('x')], ['huge', Buffer.alloc(100 * 1024)]]]))
      .rejects.toMatchObject({ code: 'E_OOM' });
    expect(await c.call('EXISTS', ['small'])).toBe(false);
  });

  test('STATS reports store and connection figures', async () => {
    const t = await node({ maxMemoryBytes: 1 << 20 });
    const c = await connect(t);
    await c.call('SET', ['k', Buffer.from('v')]);
    await c.call('GET', ['k']);
    await c.call('GET', ['nope']);
    expect(await c.call('STATS')).toMatchObject({
      nodeId: `127.0.0.1:${t.port}`, keys: 1, maxMemoryBytes: 1 << 20, hits: 1, misses: 1, evictions: 0,
      connections: 1, bytesUsed: expect.any(Number), rssBytes: expect.any(Number), uptimeMs: expect.any(Number),
    });
  });

  test('a bug inside an op is E_INTERNAL for that request only', async () => {
    const t = await node();
    const c = await connect(t);
    const spy = jest.spyOn(t.node.store, 'exists').mockImplementationOnce(() => { throw new TypeError('boom'); });
    await expect(c.call('EXISTS', ['k'])).rejects.toMatchObject({ code: 'E_INTERNAL' });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await c.call('EXISTS', ['k'])).toBe(false);
    expect(t.node.metrics.stats()['internalErrors']).toBe(1);
  });
});

describe('connections', () => {
  test('replies to pipelined requests come in order, for one incoming chunk in one socket write', async () => {
    const t = await node();
    const c = await connect(t);
    await c.call('PING');
    const writes = jest.spyOn(Socket.prototype, 'write');
    try {
      const batch = Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeRequest(100 + i, Ops.SET.code, [`k${i}`, Buffer.from(`v${i}`)])));
      c.sendRaw(batch);
      await c.reply(149);
      // Accepted sockets carry their server; the test client's socket has server === null.
      const serverWrites = writes.mock.contexts.filter((s) => (s as Socket & { server?: unknown }).server != null).length;
      expect(serverWrites).toBe(1);
    } finally {
      writes.mockRestore();
    }
    const ids = c.frames.filter((f) => f.kind === 1).map((f) => (f as { id: number }).id).slice(1);
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
  });

  test('over maxConnections a client gets E_TOO_MANY_CONNECTIONS and is closed; a slot frees on close', async () => {
    const t = await node({ maxConnections: 2 });
    const a = await connect(t);
    const b = await connect(t);
    await Promise.all([a.call('PING'), b.call('PING')]);
    const c = await connect(t);
    await c.waitForClose(2_000);
    expect(c.frames).toEqual([expect.objectContaining({ kind: 2, id: 0, code: 'E_TOO_MANY_CONNECTIONS' })]);
    expect(await a.call('PING')).toBe('PONG');
    a.close();
    for (let i = 0; i < 100 && t.node.connectionCount > 1; i++) await sleep(10);
    const d = await connect(t);
    expect(await d.call('PING')).toBe('PONG');
  });

  test('an idle connection is closed; an active one is not', async () => {
    const t = await node({ idleTimeoutMs: 300 });
    const idle = await connect(t);
    const busy = await connect(t);
    const started = Date.now();
    for (let i = 0; i < 8; i++) {
      await busy.call('PING');
      await sleep(75);
    }
    await idle.waitForClose(2_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(busy.closed).toBe(false);
    expect(await busy.call('PING')).toBe('PONG');
  });

  test('a client that half-closes after its last request still gets every reply', async () => {
    const t = await node();
    const c = await connect(t);
    c.sendRaw(Buffer.concat(Array.from({ length: 20 }, (_, i) => encodeRequest(i + 1, Ops.PING.code, []))));
    c.socket.end();
    await c.waitForClose(2_000);
    expect(c.frames.filter((f) => f.kind === 1)).toHaveLength(20);
  });
});

describe('lifecycle', () => {
  test('stop answers what was already sent, says goodbye, ends sockets, then refuses connections', async () => {
    const t = await startTestNode();
    const c = await RawConnection.connect(t.port);
    const n = 2000;
    c.sendRaw(Buffer.concat(Array.from({ length: n }, (_, i) => encodeRequest(i + 1, Ops.SET.code, [`k${i}`, Buffer.alloc(100)]))));
    const stopped = t.node.stop({ graceMs: 5_000 });
    await c.waitForClose(5_000);
    await stopped;
    const replies = c.frames.filter((f): f is Frame & { kind: 1 } => f.kind === 1);
    expect(replies).toHaveLength(n);
    expect(c.frames.some((f) => f.kind === 3 && f.push === PushKind.Goodbye)).toBe(true);
    await expect(RawConnection.connect(t.port, { connectTimeoutMs: 1_000 })).rejects.toThrow();
    await t.node.stop(); // idempotent
  });

  test('stop destroys connections that are still busy when the grace period ends', async () => {
    const t = await startTestNode();
    const c = await RawConnection.connect(t.port);
    const chatter = setInterval(() => c.send('PING', []), 5); // never quiet
    try {
      const started = Date.now();
      await t.node.stop({ graceMs: 300 });
      expect(Date.now() - started).toBeLessThan(2_000);
      await c.waitForClose(1_000);
    } finally {
      clearInterval(chatter);
    }
  });

  test('a port in use is a start error', async () => {
    const t = await node();
    await expect(CacheNode.start({ host: '127.0.0.1', port: t.port, logger: createNodeLogger('silent') })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  test('nodes in one process keep separate metrics, served on /metrics and /healthz', async () => {
    const port = await freePort();
    const a = await node({ metricsPort: port });
    const b = await node();
    expect(a.node.metricsPort).toBe(port);
    const c = await connect(a);
    await c.call('SET', ['k', Buffer.from('v')]);
    await c.call('GET', ['k']);
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toContain('corral_ops_total{op="GET",result="ok"} 1');
    expect(body).toMatch(/corral_keys 1\b/);
    expect(body).toMatch(/corral_hits_total 1\b/);
    expect(body).toMatch(/corral_connections 1\b/);
    expect(body).toContain('corral_process_resident_memory_bytes');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    const bMetrics = await b.node.metrics.registry.metrics();
    expect(bMetrics).toMatch(/corral_keys 0\b/);
  });
});

describe('config', () => {
  test('defaults bind loopback on 7070 with 256 MiB and the protocol limits', () => {
    expect(resolveNodeConfig()).toMatchObject({
      host: '127.0.0.1', port: 7070, maxMemoryBytes: 256 * 1024 * 1024, maxValueBytes: 1024 * 1024, maxFrameBytes: 4 * 1024 * 1024,
    });
  });

  test('rejects settings that cannot work, naming the field', () => {
    expect(() => resolveNodeConfig({ maxMemoryBytes: 0 })).toThrow(/maxMemoryBytes/);
    expect(() => resolveNodeConfig({ maxValueBytes: 8 * 1024 * 1024 })).toThrow(/maxFrameBytes/);
    expect(() => resolveNodeConfig({ outputBufferHardBytes: 1024 })).toThrow(/outputBufferHardBytes/);
    expect(() => resolveNodeConfig({ port: 70000 })).toThrow(/port/);
    expect(() => resolveNodeConfig({ adminToken: '' })).toThrow(/adminToken/);
    expect(() => resolveNodeConfig({ idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs/);
    expect(resolveNodeConfig({ idleTimeoutMs: 0 }).idleTimeoutMs).toBe(0); // 0 = never
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
