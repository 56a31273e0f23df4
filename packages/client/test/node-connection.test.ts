import { once, getEventListeners } from 'node:events';
import { CorralError, Ops, PROTOCOL_VERSION, PushKind } from '@corral/protocol';
import { NodeConnection, type NodeConnectionOptions } from '../src/node-connection';
import { FLUSH_FRAMES, PROMPT_BELOW } from '../src/frame-transport';
import { FakePeer, deadPort } from './helpers/fake-peer';
import { track, until, useFakeTimers } from './helpers/util';

/**
 * NodeConnection against a fake peer: the transport's edge cases (silence, reordering, drops,
 * pushes, garbage) that a real node does not produce on demand. Round trips against the real
 * node live in corral.test.ts.
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  jest.useRealTimers();
  while (cleanup.length) await cleanup.pop()!();
});

async function peer(): Promise<FakePeer> {
  const p = await FakePeer.start();
  cleanup.push(() => p.stop());
  return p;
}

function connection(p: FakePeer, opts: Partial<NodeConnectionOptions> = {}): NodeConnection {
  const c = new NodeConnection({ host: '127.0.0.1', port: p.port, reconnect: { baseMs: 5, capMs: 20 }, ...opts });
  cleanup.push(() => c.close());
  return c;
}

async function connected(p: FakePeer, opts: Partial<NodeConnectionOptions> = {}): Promise<NodeConnection> {
  const c = connection(p, opts);
  await c.connect();
  return c;
}

describe('handshake', () => {
  it('says HELLO first, with the protocol version, name and auth, and keeps the node limits', async () => {
    const p = await peer();
    p.limits = { maxKeyBytes: 100, maxValueBytes: 2000, maxFrameBytes: 4000 };
    const c = connection(p, { name: 'test-client', auth: 's3cret' });
    const early = c.request(Ops.PING, []); // made before the handshake: waits for it
    const hello = await c.connect();
    const [req] = await p.waitForRequests(1);
    expect(p.frames.map((f) => f.op)).toEqual([Ops.HELLO.code, Ops.PING.code]);
    expect(p.hellos[0]!.args).toEqual([PROTOCOL_VERSION, { name: 'test-client', auth: 's3cret' }]);
    expect(hello).toMatchObject({ node: 'fake', limits: p.limits });
    expect(c.limits).toEqual(p.limits);
    expect(c.state).toBe('ready');
    p.reply(req!, 'PONG');
    await expect(early).resolves.toBe('PONG');
  });

  it('leaves auth out of HELLO when there is none (the node rejects nil options)', async () => {
    const p = await peer();
    await connected(p, { name: 'n' });
    expect(p.hellos[0]!.args).toEqual([PROTOCOL_VERSION, { name: 'n' }]);
  });

  it('rejects the first connect with E_NOT_CONNECTED when nothing listens, and closes', async () => {
    const c = new NodeConnection({ host: '127.0.0.1', port: await deadPort() });
    const queued = c.request(Ops.PING, []);
    await expect(c.connect()).rejects.toMatchObject({ name: 'CorralError', code: 'E_NOT_CONNECTED' });
    await expect(queued).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
    expect(c.state).toBe('closed');
    await c.close();
  });

  it('rejects the first connect with the node\'s own code when HELLO is refused', async () => {
    const p = await peer();
    p.hello = { error: new CorralError('E_AUTH', 'wrong token') };
    const c = connection(p, { auth: 'nope' });
    await expect(c.connect()).rejects.toMatchObject({ code: 'E_AUTH', message: 'wrong token' });
    expect(p.connections).toBe(1); // no retry of a first attempt
  });

  it('reports an id-0 error sent instead of a HELLO reply as the reason', async () => {
    const p = await peer();
    p.hello = { error: new CorralError('E_TOO_MANY_CONNECTIONS'), connection: true };
    await expect(connection(p).connect()).rejects.toMatchObject({ code: 'E_TOO_MANY_CONNECTIONS' });
  });

  it('gives up on a node that never answers HELLO after connectTimeoutMs (fake timers)', async () => {
    useFakeTimers();
    const p = await peer();
    p.hello = 'ignore';
    const c = connection(p, { connectTimeoutMs: 300 });
    const t = track(c.connect());
    await p.waitForHellos(1);
    await jest.advanceTimersByTimeAsync(299);
    expect(t.current.state).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    await until(() => t.current.state !== 'pending');
    expect(t.current).toMatchObject({ state: 'rejected', error: { code: 'E_NOT_CONNECTED' } });
  });
});

describe('multiplexing', () => {
  it('sends requests issued in one tick in one socket write per FLUSH_FRAMES, and matches replies by id in any order', async () => {
    const p = await peer();
    const c = await connected(p);
    const before = { ...c.counters };
    const chunksBefore = p.chunks;
    const calls = Array.from({ length: 200 }, (_, i) => c.request(Ops.GET, [`k${i}`]));
    const reqs = await p.waitForRequests(200);
    const writes = Math.ceil(200 / FLUSH_FRAMES);
    expect(c.counters.writes - before.writes).toBe(writes);
    expect(c.counters.frames - before.frames).toBe(200);
    expect(p.chunks - chunksBefore).toBeLessThanOrEqual(2 * writes); // loopback may split each write at most once
    expect(new Set(reqs.map((r) => r.id)).size).toBe(200);
    for (const r of [...reqs].reverse()) p.reply(r, [Buffer.from(String(r.args[0])), 3]);
    const results = await Promise.all(calls);
    results.forEach((r, i) => expect(r).toEqual([Buffer.from(`k${i}`), 3]));
    expect(c.inFlight).toBe(0);
  });

  it('with few requests out, one leaves while the caller\'s promise callbacks keep running; with many, at the end of the tick', async () => {
    const p = await peer();
    const c = await connected(p);
    const writes = () => c.counters.writes;
    // A caller whose other calls resolve without I/O (L1 hits) keeps the microtask queue busy, and
    // process.nextTick waits for it to empty. 200 hops stand for 200 L1 hits.
    const hops = async (n: number, seen: number[]) => { for (let i = 0; i < n; i++) { await Promise.resolve(); seen.push(writes()); } };

    const w0 = writes();
    const first = Array.from({ length: PROMPT_BELOW }, (_, i) => c.request(Ops.GET, [`a${i}`])); // made together: one write
    const seen: number[] = [];
    await hops(200, seen);
    expect(seen[seen.length - 1]).toBe(w0 + 1);
    expect(seen.indexOf(w0 + 1)).toBeLessThan(5); // left after a few hops, not after the 200

    // PROMPT_BELOW requests are out (the peer has not answered): the next one waits for the tick's end.
    const late = c.request(Ops.GET, ['late']);
    const seen2: number[] = [];
    await hops(200, seen2);
    expect(seen2.every((w) => w === w0 + 1)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(writes()).toBe(w0 + 2);

    const reqs = await p.waitForRequests(PROMPT_BELOW + 1);
    for (const r of reqs) p.reply(r, null);
    await Promise.all([...first, late]);
  });

  it('turns an error frame into a CorralError with the wire code, message and details', async () => {
    const p = await peer();
    const c = await connected(p);
    const call = c.request(Ops.GET, ['k']);
    const [r] = await p.waitForRequests(1);
    p.error(r!, new CorralError('E_NOT_OWNER', 'not mine', { epoch: 7, owner: 'n2' }));
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect(err).toMatchObject({ name: 'CorralError', code: 'E_NOT_OWNER', message: 'not mine', details: { epoch: 7, owner: 'n2' } });
  });

  it('refuses a request over the node\'s frame limit without sending it (the node would drop the connection)', async () => {
    const p = await peer();
    p.limits = { ...p.limits, maxFrameBytes: 1000 };
    const c = await connected(p);
    await expect(c.request(Ops.SET, ['k', Buffer.alloc(2000)])).rejects.toMatchObject({ code: 'E_FRAME_TOO_LARGE' });
    const ping = c.request(Ops.PING, []);
    const [r] = await p.waitForRequests(1);
    expect(r!.op).toBe(Ops.PING.code);
    p.reply(r!, 'PONG');
    await expect(ping).resolves.toBe('PONG');
  });

  it('emits push frames as events', async () => {
    const p = await peer();
    const c = await connected(p);
    const got = once(c, 'push');
    p.push(p.lastSocket, PushKind.Invalidate, { keys: ['a'], seq: 3 });
    expect((await got)[0]).toEqual({ kind: PushKind.Invalidate, body: { keys: ['a'], seq: 3 } });
  });

  it('emits an id-0 error frame as an error event', async () => {
    const p = await peer();
    const c = await connected(p);
    const got = once(c, 'error');
    p.connectionError(p.lastSocket, new CorralError('E_SHUTTING_DOWN', 'bye'));
    expect((await got)[0]).toMatchObject({ code: 'E_SHUTTING_DOWN', message: 'bye' });
  });
});

describe('timeouts and aborts', () => {
  it('times out with E_TIMEOUT at the default or per-call timeout and ignores the late reply (fake timers)', async () => {
    useFakeTimers();
    const p = await peer();
    const c = await connected(p, { timeoutMs: 1000 });
    const slow = track(c.request(Ops.GET, ['slow']));
    const quick = track(c.request(Ops.GET, ['quick'], { timeoutMs: 200 }));
    const [rSlow, rQuick] = await p.waitForRequests(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(quick.current.state).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(quick.current).toMatchObject({ state: 'rejected', error: { code: 'E_TIMEOUT', details: { timeoutMs: 200, op: 'GET' } } });
    expect(slow.current.state).toBe('pending');
    await jest.advanceTimersByTimeAsync(800);
    expect(slow.current).toMatchObject({ state: 'rejected', error: { code: 'E_TIMEOUT' } });
    expect(c.inFlight).toBe(0);

    // Late replies match nothing and change nothing; the connection carries on.
    p.reply(rSlow!, 'late');
    p.reply(rQuick!, 'late');
    const next = c.request(Ops.PING, []);
    const [, , r3] = await p.waitForRequests(3);
    p.reply(r3!, 'PONG');
    await expect(next).resolves.toBe('PONG');
    expect(c.state).toBe('ready');
  });

  it('timeoutMs 0 means no timeout', async () => {
    useFakeTimers();
    const p = await peer();
    const c = await connected(p, { timeoutMs: 50 });
    const call = track(c.request(Ops.FLUSH, [], { timeoutMs: 0 }));
    const [r] = await p.waitForRequests(1);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(call.current.state).toBe('pending');
    p.reply(r!, 0);
    await until(() => call.current.state !== 'pending');
    expect(call.current).toEqual({ state: 'resolved', value: 0 });
  });

  it('rejects with E_ABORTED: an aborted signal sends nothing; an abort in flight ignores the late reply', async () => {
    const p = await peer();
    const c = await connected(p);
    const reason = new Error('user left');
    await expect(c.request(Ops.GET, ['a'], { signal: AbortSignal.abort(reason) }))
      .rejects.toMatchObject({ code: 'E_ABORTED', cause: reason });

    const ac = new AbortController();
    const call = c.request(Ops.GET, ['b'], { signal: ac.signal });
    const [r] = await p.waitForRequests(1);
    expect(r!.args).toEqual(['b']); // 'a' never went out
    ac.abort();
    await expect(call).rejects.toMatchObject({ code: 'E_ABORTED' });
    p.reply(r!, 'late');
    expect(c.inFlight).toBe(0);
  });

  it('puts one listener on a signal shared by many calls, and removes it when they are done', async () => {
    const p = await peer();
    const c = await connected(p);
    const ac = new AbortController();
    const calls = Array.from({ length: 50 }, () => c.request(Ops.PING, [], { signal: ac.signal }));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    for (const r of await p.waitForRequests(50)) p.reply(r, 'PONG');
    await Promise.all(calls);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('aborts every call sharing a signal', async () => {
    const p = await peer();
    const c = await connected(p);
    const ac = new AbortController();
    const calls = Array.from({ length: 20 }, () => c.request(Ops.PING, [], { signal: ac.signal }).catch((e: unknown) => e));
    await p.waitForRequests(20);
    ac.abort();
    for (const e of await Promise.all(calls)) expect(e).toMatchObject({ code: 'E_ABORTED' });
    expect(c.inFlight).toBe(0);
  });
});

describe('drops and reconnects', () => {
  it('rejects in-flight requests with E_CONNECTION_CLOSED, reconnects, says HELLO again and sends what waited', async () => {
    const p = await peer();
    const c = await connected(p);
    const inflight = c.request(Ops.SET, ['k', Buffer.from('v')]);
    await p.waitForRequests(1);
    const closed = once(c, 'close');
    p.dropAll();
    await expect(inflight).rejects.toMatchObject({ code: 'E_CONNECTION_CLOSED' });
    await closed;
    expect(c.state).not.toBe('ready');
    const waiting = c.request(Ops.GET, ['k']);
    expect(c.queued).toBe(1);
    await once(c, 'connect');
    const [, r] = await p.waitForRequests(2);
    expect(p.hellos).toHaveLength(2);
    expect(p.frames.at(-2)!.op).toBe(Ops.HELLO.code); // HELLO before the queued request on the new socket
    p.reply(r!, null);
    await expect(waiting).resolves.toBeNull();
  });

  it('bounds the offline queue: a full queue fails at once, a queued request fails when its time is up', async () => {
    const p = await peer();
    const c = await connected(p, { maxOfflineQueue: 2, timeoutMs: 100, reconnect: { baseMs: 10_000, capMs: 10_000 } });
    const closed = once(c, 'close');
    await p.stop();
    await closed;
    const a = track(c.request(Ops.PING, []));
    const b = track(c.request(Ops.PING, [], { timeoutMs: 5000 }));
    await expect(c.request(Ops.PING, [])).rejects.toMatchObject({ code: 'E_NOT_CONNECTED', message: expect.stringMatching(/queue is full/) });
    await until(() => a.current.state !== 'pending');
    expect(a.current).toMatchObject({ state: 'rejected', error: { code: 'E_NOT_CONNECTED' } });
    expect(b.current.state).toBe('pending');
    expect(c.queued).toBe(1);
    await c.close();
    expect(b.current).toMatchObject({ state: 'rejected', error: { code: 'E_CLIENT_CLOSED' } });
  });

  it('drops the connection on a framing error from the peer, reports E_BAD_FRAME, and reconnects', async () => {
    const p = await peer();
    const c = await connected(p);
    const inflight = c.request(Ops.GET, ['k']);
    await p.waitForRequests(1);
    const err = once(c, 'error');
    p.lastSocket.write(Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1])); // 0xc1 is never valid msgpack
    expect((await err)[0]).toMatchObject({ code: 'E_BAD_FRAME' });
    await expect(inflight).rejects.toMatchObject({ code: 'E_CONNECTION_CLOSED', cause: { code: 'E_BAD_FRAME' } });
    await once(c, 'connect');
    expect(p.connections).toBe(2);
  });

  it('treats a request frame from the node as a framing error', async () => {
    const p = await peer();
    const c = await connected(p);
    const err = once(c, 'error');
    p.sendRequestFrame(p.lastSocket);
    expect((await err)[0]).toMatchObject({ code: 'E_BAD_FRAME' });
    await once(c, 'connect');
  });

  it('backs off with full jitter between attempts, and starts over after a success (fake timers)', async () => {
    useFakeTimers();
    const p = await peer();
    const c = await connected(p, { reconnect: { baseMs: 100, capMs: 400 }, random: () => 0.5 });
    const delays: number[] = [];
    c.on('reconnecting', (i) => delays.push(i.delayMs));
    await p.stop(); // from now on every attempt is refused
    await until(() => delays.length === 1, 'first reconnect');
    expect(delays).toEqual([50]);
    await jest.advanceTimersByTimeAsync(49);
    expect(c.state).toBe('disconnected');
    await jest.advanceTimersByTimeAsync(1);
    expect(c.state).toBe('connecting');
    await until(() => delays.length === 2, 'second reconnect');
    for (const expected of [100, 200, 200]) {
      expect(delays.at(-1)).toBe(expected);
      const n = delays.length;
      await jest.advanceTimersByTimeAsync(expected);
      await until(() => delays.length === n + 1, 'next reconnect');
    }
    expect(delays).toEqual([50, 100, 200, 200, 200]);

    await p.restart();
    const connectedAgain = once(c, 'connect');
    await jest.advanceTimersByTimeAsync(200);
    await connectedAgain;
    p.dropAll();
    await until(() => delays.length === 6, 'reconnect after success');
    expect(delays.at(-1)).toBe(50);
  });
});

describe('close()', () => {
  it('is graceful: new requests fail with E_CLIENT_CLOSED, in-flight ones get their replies, then FIN', async () => {
    const p = await peer();
    const c = await connected(p);
    const inflight = c.request(Ops.GET, ['k']);
    const [r] = await p.waitForRequests(1);
    let peerSawEnd = false;
    p.lastSocket.on('end', () => { peerSawEnd = true; });

    const closing = c.close();
    expect(c.close()).toBe(closing);
    expect(c.state).toBe('closing');
    await expect(c.request(Ops.PING, [])).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
    await new Promise((res) => setTimeout(res, 20));
    expect(peerSawEnd).toBe(false); // still waiting for the reply

    p.reply(r!, null);
    await expect(inflight).resolves.toBeNull();
    await closing;
    expect(peerSawEnd).toBe(true);
    expect(c.state).toBe('closed');
    expect(c.close()).toBe(closing);
  });

  it('is forced after closeTimeoutMs: the socket is destroyed and what is left fails with E_CLIENT_CLOSED (fake timers)', async () => {
    useFakeTimers();
    const p = await peer();
    const c = await connected(p, { closeTimeoutMs: 500 });
    const inflight = track(c.request(Ops.GET, ['k'], { timeoutMs: 0 }));
    await p.waitForRequests(1);
    const closing = track(c.close());
    await jest.advanceTimersByTimeAsync(499);
    expect(closing.current.state).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    await until(() => closing.current.state !== 'pending', 'close');
    expect(inflight.current).toMatchObject({ state: 'rejected', error: { code: 'E_CLIENT_CLOSED' } });
    expect(c.state).toBe('closed');
  });

  it('while disconnected: stops reconnecting and fails the offline queue with E_CLIENT_CLOSED', async () => {
    const p = await peer();
    const c = await connected(p, { reconnect: { baseMs: 10_000, capMs: 10_000 } });
    const closed = once(c, 'close');
    await p.stop();
    await closed;
    const waiting = c.request(Ops.PING, []);
    await c.close();
    await expect(waiting).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
    expect(c.state).toBe('closed');
    await p.restart();
    await new Promise((res) => setTimeout(res, 30));
    expect(p.connections).toBe(1);
  });

  it('during the first connect: rejects connect() with E_CLIENT_CLOSED', async () => {
    const p = await peer();
    p.hello = 'ignore';
    const c = connection(p);
    const connecting = c.connect();
    await p.waitForHellos(1);
    await c.close();
    await expect(connecting).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
  });
});
