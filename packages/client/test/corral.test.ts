import { once } from 'node:events';
import { Ops, ValueFlags } from '@corral/protocol';
import { CacheNode, createNodeLogger, type NodeConfig } from '@corral/server';
import { Corral, CorralError, NodeConnection, SingleNodeRouter, type CorralOptions, type NodeConnectionOptions } from '../src';
import { deadPort } from './helpers/fake-peer';
import { TcpProxy } from './helpers/tcp-proxy';
import { FLUSH_FRAMES } from '../src/frame-transport';

/** The public API against a real cache node (in-process, port 0). Network faults go through a TcpProxy. */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function startNode(config: Partial<NodeConfig> = {}): Promise<CacheNode> {
  const node = await CacheNode.start({ host: '127.0.0.1', port: 0, logger: createNodeLogger('silent'), ...config });
  cleanup.push(() => node.stop({ graceMs: 200 }));
  return node;
}

async function connect(port: number, opts: Partial<CorralOptions> = {}): Promise<Corral> {
  const cache = await Corral.connect({ seeds: [`127.0.0.1:${port}`], ...opts });
  cleanup.push(() => cache.close());
  return cache;
}

/** A Corral over a connection the test can watch (events, write counters). */
async function watched(port: number, opts: Partial<NodeConnectionOptions> = {}): Promise<{ cache: Corral; conn: NodeConnection }> {
  const conn = new NodeConnection({ host: '127.0.0.1', port, ...opts });
  await conn.connect();
  const cache = new Corral(new SingleNodeRouter(conn));
  cleanup.push(() => cache.close());
  return { cache, conn };
}

describe('round trips', () => {
  let node: CacheNode;
  let cache: Corral;
  beforeAll(async () => {
    node = await CacheNode.start({ host: '127.0.0.1', port: 0, logger: createNodeLogger('silent') });
    cache = await Corral.connect({ seeds: [`127.0.0.1:${node.address.port}`] });
  });
  afterAll(async () => {
    await cache.close();
    await node.stop({ graceMs: 200 });
  });
  beforeEach(() => cache.flush());

  it.each<[string, unknown]>([
    ['a string', 'héllo wörld ✓'],
    ['an empty string', ''],
    ['a Buffer', Buffer.from([0, 1, 2, 255])],
    ['an empty Buffer', Buffer.alloc(0)],
    ['an object', { name: 'Ada', tags: ['x', 'y'], nested: { n: 1.5, ok: true, none: null } }],
    ['an array', [1, 'two', null, [3]]],
    ['an integer', 42],
    ['a negative float', -3.25],
    ['a boolean', false],
    ['null', null],
  ])('set then get %s', async (_what, value) => {
    const version = await cache.set('k', value);
    expect(version).toEqual(expect.any(Number));
    expect(await cache.get('k')).toEqual(value);
  });

  it('stores Buffers untouched and strings as UTF-8, with the flags that say so', async () => {
    const { conn } = await watched(node.address.port);
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    await cache.set('raw', bytes);
    await cache.set('text', 'héllo');
    await cache.set('obj', { a: 1 });
    expect(await conn.request(Ops.GET, ['raw'])).toEqual([bytes, ValueFlags.Raw]);
    expect(await conn.request(Ops.GET, ['text'])).toEqual([Buffer.from('héllo', 'utf8'), ValueFlags.Utf8]);
    expect(await conn.request(Ops.GET, ['obj'])).toEqual([expect.any(Buffer), ValueFlags.Msgpack]);
    await cache.set('u8', new Uint8Array([1, 2, 3]));
    expect(await cache.get('u8')).toEqual(Buffer.from([1, 2, 3]));
  });

  it('get of a missing key is undefined; versions only go up', async () => {
    expect(await cache.get('nope')).toBeUndefined();
    const v1 = await cache.set('k', 'a');
    const v2 = await cache.set('k', 'b');
    expect(v2).toBeGreaterThan(v1!);
  });

  it('set with nx / xx', async () => {
    expect(await cache.set('n', 1, { xx: true })).toBeUndefined();
    const v1 = await cache.set('n', 1, { nx: true });
    expect(v1).toEqual(expect.any(Number));
    expect(await cache.set('n', 2, { nx: true })).toBeUndefined();
    expect(await cache.set('n', 3, { xx: true })).toBeGreaterThan(v1!);
    expect(await cache.get('n')).toBe(3);
    await expect(cache.set('n', 4, { nx: true, xx: true })).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
  });

  it('del and exists', async () => {
    await cache.set('d', 'x');
    expect(await cache.exists('d')).toBe(true);
    expect(await cache.del('d')).toBe(true);
    expect(await cache.del('d')).toBe(false);
    expect(await cache.exists('d')).toBe(false);
  });

  it('ttl, touch and ttlMs on set', async () => {
    await cache.set('forever', 1);
    await cache.set('brief', 1, { ttlMs: 60_000 });
    expect(await cache.ttl('forever')).toBe(Infinity);
    expect(await cache.ttl('brief')).toBeGreaterThan(59_000);
    expect(await cache.ttl('brief')).toBeLessThanOrEqual(60_000);
    expect(await cache.ttl('missing')).toBeUndefined();
    expect(await cache.touch('forever', 5000)).toBe(true);
    expect(await cache.ttl('forever')).toBeLessThanOrEqual(5000);
    expect(await cache.touch('forever', Infinity)).toBe(true);
    expect(await cache.ttl('forever')).toBe(Infinity);
    expect(await cache.touch('missing', 5000)).toBe(false);
    await cache.set('inf', 1, { ttlMs: Infinity });
    expect(await cache.ttl('inf')).toBe(Infinity);
    await expect(cache.set('bad', 1, { ttlMs: -1 })).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
  });

  it('mget answers in the caller\'s order, with undefined for misses and repeats honoured', async () => {
    await cache.mset([['a', 'A'], ['b', Buffer.from('B')], ['c', { c: 3 }]]);
    expect(await cache.mget(['c', 'missing', 'a', 'b', 'a'])).toEqual([{ c: 3 }, undefined, 'A', Buffer.from('B'), 'A']);
    expect(await cache.mget([])).toEqual([]);
  });

  it('mset takes pairs or a record, returns versions in order, and applies ttlMs to all', async () => {
    const versions = await cache.mset({ x: 1, y: 'two', z: [3] }, { ttlMs: 10_000 });
    expect(versions).toHaveLength(3);
    for (const v of versions) expect(v).toEqual(expect.any(Number));
    expect(await cache.gets('y')).toMatchObject({ value: 'two', version: versions[1] });
    expect(await cache.ttl('z')).toBeLessThanOrEqual(10_000);
    expect(await cache.mset([])).toEqual([]);
  });

  it('gets and cas', async () => {
    const v1 = await cache.set('acct', { balance: 10 });
    const entry = await cache.gets<{ balance: number }>('acct');
    expect(entry).toEqual({ value: { balance: 10 }, version: v1, ttlMs: Infinity });
    const v2 = await cache.cas('acct', { balance: entry!.value.balance + 5 }, entry!.version, { ttlMs: 60_000 });
    expect(v2).toBeGreaterThan(v1!);
    expect(await cache.get('acct')).toEqual({ balance: 15 });
    expect((await cache.gets('acct'))!.ttlMs).toBeLessThanOrEqual(60_000);
    expect(await cache.gets('missing')).toBeUndefined();
  });

  it('incrBy counts from 0, keeps integers readable by get, and creates with ttlMs', async () => {
    expect(await cache.incrBy('c', 5)).toBe(5);
    expect(await cache.incrBy('c', -7)).toBe(-2);
    expect(await cache.get('c')).toBe(-2);
    await cache.set('m', 10); // msgpack-encoded numbers count as integers too
    expect(await cache.incrBy('m', 1)).toBe(11);
    expect(await cache.incrBy('fresh', 1, { ttlMs: 30_000 })).toBe(1);
    expect(await cache.ttl('fresh')).toBeLessThanOrEqual(30_000);
    await cache.set('s', 'abc');
    await expect(cache.incrBy('s', 1)).rejects.toMatchObject({ code: 'E_NOT_INTEGER' });
  });

  it('ping, stats and flush', async () => {
    expect(await cache.ping()).toBeGreaterThanOrEqual(0);
    await cache.mset([['f1', 1], ['f2', 2]]);
    const stats = await cache.stats();
    expect(stats).toEqual(expect.objectContaining({ nodeId: expect.any(String) }));
    expect(await cache.flush()).toBe(2);
    expect(await cache.mget(['f1', 'f2'])).toEqual([undefined, undefined]);
  });

  it('pipelines: 1000 concurrent gets resolve to their own values and leave in few socket writes', async () => {
    const { cache: c, conn } = await watched(node.address.port);
    await c.mset(Array.from({ length: 1000 }, (_, i) => [`p:${i}`, i % 3 === 0 ? `s${i}` : i] as const));
    const before = { ...conn.counters };
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.get(`p:${i}`)));
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? `s${i}` : i)));
    expect(conn.counters.frames - before.frames).toBe(1000);
    expect(conn.counters.writes - before.writes).toBeLessThanOrEqual(Math.ceil(1000 / FLUSH_FRAMES) + 1);
  });

  it('pipelines writes and reads mixed in one tick, each answered for itself', async () => {
    const ops = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? cache.set(`mix:${i}`, i) : cache.get(`mix:${i - 1}`)));
    const results = await Promise.all(ops);
    results.forEach((r, i) => {
      if (i % 2 === 0) expect(r).toEqual(expect.any(Number));
      else expect(r).toBe(i - 1); // the node answers one connection's requests in order: the set before it is visible
    });
  });
});

describe('errors carry stable codes', () => {
  let node: CacheNode;
  beforeEach(async () => {
    node = await startNode({ maxKeyBytes: 64, maxValueBytes: 1024, maxFrameBytes: 16 * 1024 });
  });

  it('a key over the node\'s limit is E_KEY_TOO_LONG, from the client and from the node alike', async () => {
    const { cache, conn } = await watched(node.address.port);
    const long = 'k'.repeat(65);
    await expect(cache.get(long)).rejects.toMatchObject({ name: 'CorralError', code: 'E_KEY_TOO_LONG' });
    await expect(cache.set(long, 1)).rejects.toBeInstanceOf(CorralError);
    // Past the client's own check, the node says the same on the wire.
    await expect(conn.request(Ops.GET, [long])).rejects.toMatchObject({ code: 'E_KEY_TOO_LONG' });
    expect(await cache.get('k'.repeat(64))).toBeUndefined();
  });

  it('a value over the node\'s limit is E_VALUE_TOO_LARGE, from the client and from the node alike', async () => {
    const { cache, conn } = await watched(node.address.port);
    await expect(cache.set('k', Buffer.alloc(1025))).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' });
    await expect(cache.set('k', 'x'.repeat(100_000))).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' });
    await expect(conn.request(Ops.SET, ['k', Buffer.alloc(1025)])).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' });
    expect(await cache.set('k', Buffer.alloc(1024))).toEqual(expect.any(Number));
  });

  it('a batch over the node\'s frame limit fails alone (E_FRAME_TOO_LARGE) and the connection stays up', async () => {
    const { cache, conn } = await watched(node.address.port);
    const big = Array.from({ length: 20 }, (_, i) => [`b${i}`, Buffer.alloc(1000)] as const);
    await expect(cache.mset(big)).rejects.toMatchObject({ code: 'E_FRAME_TOO_LARGE' });
    expect(conn.state).toBe('ready');
    expect(await cache.mset(big.slice(0, 10))).toHaveLength(10);
  });

  it('a stale version is E_CAS_MISMATCH, and so is a cas on a missing key', async () => {
    const cache = await connect(node.address.port);
    const v1 = await cache.set('k', 'a');
    await cache.set('k', 'b');
    const err = await cache.cas('k', 'c', v1!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect(err).toMatchObject({ code: 'E_CAS_MISMATCH' });
    expect(await cache.get('k')).toBe('b');
    await expect(cache.cas('gone', 'x', 1)).rejects.toMatchObject({ code: 'E_CAS_MISMATCH' });
  });

  it('bad arguments are E_BAD_ARGS before anything is sent', async () => {
    const cache = await connect(node.address.port);
    await expect(cache.get('')).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
    await expect(cache.set('k', undefined)).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
    await expect(cache.set('k', 1, { ttlMs: 1.5 })).rejects.toMatchObject({ code: 'E_BAD_ARGS' });
  });

  it('admin: a wrong token is E_AUTH at connect; no token is E_NOT_ADMIN on flush; the right one flushes', async () => {
    const guarded = await startNode({ adminToken: 'sesame' });
    await expect(Corral.connect({ seeds: [`127.0.0.1:${guarded.address.port}`], auth: 'wrong' }))
      .rejects.toMatchObject({ code: 'E_AUTH' });
    const plain = await connect(guarded.address.port);
    await plain.set('k', 1);
    await expect(plain.flush()).rejects.toMatchObject({ code: 'E_NOT_ADMIN' });
    const admin = await connect(guarded.address.port, { auth: 'sesame' });
    expect(await admin.flush()).toBe(1);
  });
});

describe('connect', () => {
  it('uses the first seed that answers', async () => {
    const node = await startNode();
    const cache = await Corral.connect({ seeds: [`127.0.0.1:${await deadPort()}`, `127.0.0.1:${node.address.port}`] });
    cleanup.push(() => cache.close());
    expect(await cache.ping()).toBeGreaterThanOrEqual(0);
  });

  it('fails with E_NOT_CONNECTED when no seed answers', async () => {
    await expect(Corral.connect({ seeds: [`127.0.0.1:${await deadPort()}`] })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
  });
});

describe('timeouts, aborts and drops (through a proxy)', () => {
  async function behindProxy(opts: Partial<NodeConnectionOptions> = {}) {
    const node = await startNode();
    const proxy = await TcpProxy.start(node.address);
    cleanup.push(() => proxy.stop());
    const w = await watched(proxy.port, opts);
    return { node, proxy, ...w };
  }

  it('a call with no reply in time fails with E_TIMEOUT; the late reply is ignored', async () => {
    const { proxy, cache } = await behindProxy({ timeoutMs: 100 });
    await cache.set('t', 'v');
    proxy.holdReplies();
    await expect(cache.get('t')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    await expect(cache.get('t', { timeoutMs: 20 })).rejects.toMatchObject({ code: 'E_TIMEOUT', details: { timeoutMs: 20 } });
    proxy.releaseReplies();
    expect(await cache.get('t')).toBe('v');
  });

  it('a socket that stays silent while calls time out is dropped and redialled (a partition wedges TCP)', async () => {
    const { proxy, cache, conn } = await behindProxy({ timeoutMs: 400, reconnect: { baseMs: 10, capMs: 50 } });
    await cache.set('w', 'v');
    let closes = 0;
    conn.on('close', () => { closes++; });
    proxy.holdReplies();
    // Calls time out one after another; after 3 s of silence the connection is declared wedged.
    const t0 = performance.now();
    while (closes === 0 && performance.now() - t0 < 6_000) await cache.get('w').catch(() => undefined);
    expect(closes).toBe(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2_900);
    proxy.releaseReplies();
    // The redialled connection is not held: the next calls are answered.
    expect(await cache.get('w', { timeoutMs: 2_000 })).toBe('v');
  });

  it('an AbortSignal ends a call with E_ABORTED, before it is sent or while it waits', async () => {
    const { proxy, cache } = await behindProxy();
    await cache.set('t', 'v');
    await expect(cache.get('t', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'E_ABORTED' });
    proxy.holdReplies();
    await expect(cache.get('t', { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({ code: 'E_ABORTED' });
    proxy.releaseReplies();
    expect(await cache.get('t')).toBe('v');
  });

  it('calls in flight when the connection is cut fail with E_CONNECTION_CLOSED; the client reconnects', async () => {
    const { proxy, cache, conn } = await behindProxy({ reconnect: { baseMs: 10, capMs: 50 } });
    proxy.holdReplies();
    const inflight = cache.set('k', 'v');
    await new Promise((r) => setTimeout(r, 20));
    const reconnected = once(conn, 'connect');
    proxy.cutAll();
    await expect(inflight).rejects.toMatchObject({ code: 'E_CONNECTION_CLOSED' });
    proxy.releaseReplies();
    await reconnected;
    expect(await cache.set('k', 'w')).toEqual(expect.any(Number));
  });
});

describe('reconnect', () => {
  it('after the node is stopped and started again on the same port, calls made meanwhile go through', async () => {
    let node = await CacheNode.start({ host: '127.0.0.1', port: 0, logger: createNodeLogger('silent') });
    const port = node.address.port;
    cleanup.push(() => node.stop({ graceMs: 200 }));
    const { cache, conn } = await watched(port, { reconnect: { baseMs: 10, capMs: 100 } });
    await cache.set('k', 'before');

    const closed = once(conn, 'close');
    await node.stop({ graceMs: 200 });
    await closed;
    const meanwhile = cache.get('k', { timeoutMs: 10_000 }); // waits in the offline queue
    expect(conn.queued).toBe(1);
    await new Promise((r) => setTimeout(r, 100)); // a few refused attempts
    node = await CacheNode.start({ host: '127.0.0.1', port, logger: createNodeLogger('silent') });
    expect(await meanwhile).toBeUndefined(); // a new process: an empty store
    expect(conn.state).toBe('ready');
    await cache.set('k', 'after');
    expect(await cache.get('k')).toBe('after');
  });
});

describe('close()', () => {
  it('waits for in-flight replies, refuses new calls with E_CLIENT_CLOSED, and is idempotent', async () => {
    const node = await startNode();
    const proxy = await TcpProxy.start(node.address);
    cleanup.push(() => proxy.stop());
    const cache = await connect(proxy.port);
    await cache.set('k', 'v');
    proxy.holdReplies();
    const inflight = cache.get('k');
    await new Promise((r) => setTimeout(r, 20));
    const closing = cache.close();
    expect(cache.close()).toBe(closing);
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
    setTimeout(() => proxy.releaseReplies(), 30);
    await expect(inflight).resolves.toBe('v');
    await closing;
  });

  it('lets calls made in the same tick finish', async () => {
    const node = await startNode();
    const cache = await connect(node.address.port);
    const calls = Array.from({ length: 200 }, (_, i) => cache.set(`c${i}`, i));
    await cache.close();
    for (const v of await Promise.all(calls)) expect(v).toEqual(expect.any(Number));
  });

  it('gives up after closeTimeoutMs when replies never come: E_CLIENT_CLOSED', async () => {
    const node = await startNode();
    const proxy = await TcpProxy.start(node.address);
    cleanup.push(() => proxy.stop());
    const cache = await connect(proxy.port, { closeTimeoutMs: 100 });
    proxy.holdReplies();
    const inflight = cache.get('k', { timeoutMs: 0 });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await cache.close();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    await expect(inflight).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
  });
});
