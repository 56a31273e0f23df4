import { randomBytes } from 'node:crypto';
import { encodeFrame, encodeRequest, HEADER_BYTES, Ops, type ErrorFrame, type Frame } from '@corral/protocol';
import { startTestNode, type RawConnection, type TestNode } from '@corral/test-utils';

/**
 * Hostile and broken clients against one live node. Each case gets the documented error frame (or
 * a closed connection for framing errors), and an observer connected for the whole file must keep
 * being served correctly after every case: one bad client never hurts another.
 */
describe('bad input against a live node', () => {
  let t: TestNode;
  let observer: RawConnection;
  let served = 0;

  beforeAll(async () => {
    t = await startTestNode({
      maxMemoryBytes: 64 * 1024 * 1024,
      outputBufferSoftBytes: 256 * 1024,
      outputBufferHardBytes: 8 * 1024 * 1024,
      outputBufferPauseMs: 500,
    });
    observer = await t.connect();
    await observer.call('HELLO', [1, { name: 'observer' }]);
  });
  afterAll(async () => {
    observer.close();
    await t.stop();
  });

  async function expectObserverServed(): Promise<void> {
    const key = `observer:${++served}`;
    const value = randomBytes(64);
    expect(await observer.call('SET', [key, value])).toEqual(expect.any(Number));
    expect(await observer.call('GET', [key])).toEqual([value, 0]);
    expect(observer.closed).toBe(false);
  }

  /** The last frame before the close is the connection-level error, id 0, with this code. */
  async function expectClosedWith(c: RawConnection, codes: string[]): Promise<ErrorFrame> {
    await c.waitForClose(3_000);
    const last = c.frames[c.frames.length - 1];
    expect(last).toMatchObject({ kind: 2, id: 0 });
    expect(codes).toContain((last as ErrorFrame).code);
    return last as ErrorFrame;
  }

  const errorOf = (f: Frame) => (f.kind === 2 ? f.code : `not an error: ${JSON.stringify(f)}`);

  describe('framing errors close the connection', () => {
    test('random bytes', async () => {
      // Unseeded on purpose: whatever the bytes, a header over the limit or a payload that is not a
      // request frame must end the same way. Alternates between the two paths.
      for (let i = 0; i < 8; i++) {
        const c = await t.connect();
        const junk = randomBytes(512);
        if (i % 2 === 0) junk[0] = 0x01 + (junk[0]! % 0xfe); // declares >= 16 MiB: over the limit
        else junk.writeUInt32BE(junk.length - HEADER_BYTES, 0); // a plausible length, garbage payload
        c.sendRaw(junk);
        await expectClosedWith(c, i % 2 === 0 ? ['E_FRAME_TOO_LARGE'] : ['E_BAD_FRAME']);
      }
      await expectObserverServed();
    });

    test('a frame declaring 4 GiB is refused from its header, before any allocation', async () => {
      const before = process.memoryUsage().arrayBuffers;
      const c = await t.connect();
      c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x94, 0x00]));
      const err = await expectClosedWith(c, ['E_FRAME_TOO_LARGE']);
      expect(err.message).toContain('4294967295');
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
      await expectObserverServed();
    });

    test('truncated msgpack', async () => {
      const c = await t.connect();
      const payload = encodeRequest(1, Ops.GET.code, ['some-key']).subarray(HEADER_BYTES);
      const cut = payload.subarray(0, payload.length - 3);
      const frame = Buffer.alloc(HEADER_BYTES + cut.length);
      frame.writeUInt32BE(cut.length, 0);
      cut.copy(frame, HEADER_BYTES);
      c.sendRaw(frame);
      await expectClosedWith(c, ['E_BAD_FRAME']);
      await expectObserverServed();
    });

    test('valid msgpack that is not a request shape, and non-request frame kinds', async () => {
      for (const bad of [
        encodeFrame({ kind: 1, id: 1, result: 'a response sent to the server' }),
        encodeFrame({ kind: 3, push: 1, body: null }),
        framed(Buffer.from([0x94, 0x00, 0xa1, 0x78, 0x03, 0x90])), // [0, "x", 3, []]: id is not a uint
      ]) {
        const c = await t.connect();
        c.sendRaw(bad);
        await expectClosedWith(c, ['E_BAD_FRAME']);
      }
      await expectObserverServed();
    });

    test('requests before the bad frame in the same write are answered first', async () => {
      const c = await t.connect();
      c.sendRaw(Buffer.concat([encodeRequest(1, Ops.PING.code, []), encodeRequest(2, Ops.EXISTS.code, ['x']),
        Buffer.from([0xff, 0xff, 0xff, 0xff])]));
      await expectClosedWith(c, ['E_FRAME_TOO_LARGE']);
      expect(c.frames.slice(0, 2)).toEqual([{ kind: 1, id: 1, result: 'PONG' }, { kind: 1, id: 2, result: false }]);
      await expectObserverServed();
    });

    test('a frame over maxFrameBytes (a 5 MiB value) closes; a value over maxValueBytes does not', async () => {
      const c = await t.connect();
      const r = await c.request('SET', ['v', Buffer.alloc(1024 * 1024 + 1)]);
      expect(errorOf(r)).toBe('E_VALUE_TOO_LARGE');
      expect(await c.call('SET', ['v', Buffer.alloc(1024 * 1024, 7)])).toEqual(expect.any(Number));
      // Buffer.equals, not toEqual: jest's deep equality walks a 1 MiB buffer byte by byte.
      expect(((await c.call('GET', ['v'])) as [Buffer, number])[0].equals(Buffer.alloc(1024 * 1024, 7))).toBe(true);
      c.send('SET', ['v', Buffer.alloc(5 * 1024 * 1024)]);
      await expectClosedWith(c, ['E_FRAME_TOO_LARGE']);
      await expectObserverServed();
    });
  });

  describe('bad requests get an error frame for their id and the connection stays', () => {
    test('unknown op', async () => {
      const c = await t.connect();
      const r = await c.request(999, ['x']);
      expect(r).toMatchObject({ kind: 2, code: 'E_UNKNOWN_OP' });
      expect(await c.call('PING')).toBe('PONG');
      c.close();
      await expectObserverServed();
    });

    test('wrong argument types and counts', async () => {
      const c = await t.connect();
      const v = Buffer.from('v');
      const cases: Array<[keyof typeof Ops, unknown[], string]> = [
        ['GET', [42], 'E_BAD_ARGS'],
        ['GET', [], 'E_BAD_ARGS'],
        ['GET', ['a', 'b'], 'E_BAD_ARGS'],
        ['GET', [''], 'E_BAD_ARGS'],
        ['SET', ['k', 'a string, not bytes'], 'E_BAD_ARGS'],
        ['SET', ['k', v, { ttl: 5 }], 'E_BAD_ARGS'],
        ['SET', ['k', v, { ttlMs: -1 }], 'E_BAD_ARGS'],
        ['SET', ['k', v, { ttlMs: 1.5 }], 'E_BAD_ARGS'],
        ['SET', ['k', v, { flags: 256 }], 'E_BAD_ARGS'],
        ['SET', ['k', v, { nx: true, xx: true }], 'E_BAD_ARGS'],
        ['SET', ['k', v, [1, 2]], 'E_BAD_ARGS'],
        ['INCRBY', ['k', 1.5], 'E_BAD_ARGS'],
        ['INCRBY', ['k', 2 ** 60], 'E_BAD_ARGS'],
        ['TOUCH', ['k', -5], 'E_BAD_ARGS'],
        ['MGET', [[]], 'E_BAD_ARGS'],
        ['MGET', [['a', 7]], 'E_BAD_ARGS'],
        ['MSET', [[['k']]], 'E_BAD_ARGS'],
        ['MSET', [[['k', v, 300]]], 'E_BAD_ARGS'],
        ['HELLO', ['1'], 'E_BAD_ARGS'],
        ['HELLO', [2], 'E_PROTOCOL_VERSION'],
        ['PING', [1], 'E_BAD_ARGS'],
      ];
      // Pipelined in one write: every reply must carry its own request's id.
      const ids = cases.map(([op, args]) => c.send(op, args));
      const replies = await Promise.all(ids.map((id) => c.reply(id)));
      replies.forEach((r, i) => expect([cases[i]![0], errorOf(r)]).toEqual([cases[i]![0], cases[i]![2]]));
      expect(await c.call('EXISTS', ['k'])).toBe(false); // none of them wrote anything
      expect(c.closed).toBe(false);
      c.close();
      await expectObserverServed();
    });

    test('keys over the limit, counted in UTF-8 bytes', async () => {
      const c = await t.connect();
      expect(errorOf(await c.request('GET', ['x'.repeat(1025)]))).toBe('E_KEY_TOO_LONG');
      expect(errorOf(await c.request('SET', ['é'.repeat(513), Buffer.from('v')]))).toBe('E_KEY_TOO_LONG');
      expect(errorOf(await c.request('MGET', [['ok', 'y'.repeat(2000)]]))).toBe('E_KEY_TOO_LONG');
      expect(await c.call('SET', ['é'.repeat(512), Buffer.from('v')])).toEqual(expect.any(Number));
      expect(c.closed).toBe(false);
      c.close();
      await expectObserverServed();
    });

    test('an MGET whose reply would exceed the frame limit is refused, not encoded', async () => {
      const c = await t.connect();
      for (let i = 0; i < 5; i++) await c.call('SET', [`m${i}`, Buffer.alloc(1024 * 1024)]);
      const r = await c.request('MGET', [['m0', 'm1', 'm2', 'm3', 'm4']]);
      expect(errorOf(r)).toBe('E_VALUE_TOO_LARGE');
      expect(((await c.call('MGET', [['m0', 'nope']])) as unknown[])[1]).toBeNull();
      c.close();
      await expectObserverServed();
    });
  });

  test('a client that never reads its replies is paused, then dropped; node memory stays bounded', async () => {
    const value = Buffer.alloc(512 * 1024, 3);
    await observer.call('SET', ['big', value]);
    const getsBefore = await opCount('GET', 'ok');
    const droppedBefore = t.node.metrics.stats()['droppedConnections']!;
    const memBefore = process.memoryUsage().arrayBuffers;

    const slow = await t.connect();
    slow.pauseReading();
    const count = 4000; // 2 GiB of replies if the node buffered them
    slow.sendRaw(Buffer.concat(Array.from({ length: count }, (_, i) => encodeRequest(i + 1, Ops.GET.code, ['big']))));

    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().arrayBuffers - memBefore); }, 10);
    try {
      await new Promise((r) => setTimeout(r, 100));
      await expectObserverServed(); // served while the slow client is paused
      // The slow client cannot see the close while it is not reading, so watch the node's side.
      for (let i = 0; i < 100 && t.node.metrics.stats()['droppedConnections'] === droppedBefore; i++)
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      clearInterval(sampler);
    }
    expect(t.node.metrics.stats()['droppedConnections']).toBe(droppedBefore + 1);
    slow.resumeReading(); // what the kernel had already accepted drains, then the close arrives
    await slow.waitForClose(5_000);
    expect(slow.frames.length).toBeLessThan(count);
    const executed = (await opCount('GET', 'ok')) - getsBefore;
    // Only what fits in the kernel socket buffers plus the soft limit was ever executed.
    expect(executed).toBeGreaterThan(0);
    expect(executed).toBeLessThan(count / 10);
    expect(peak).toBeLessThan(128 * 1024 * 1024);
    const dropped = await t.node.metrics.registry.getSingleMetric('corral_dropped_connections_total')!.get();
    const reasons = dropped.values.filter((x) => x.value > 0).map((x) => x.labels['reason']);
    expect(reasons.some((r) => r === 'output_buffer_stalled' || r === 'output_buffer_hard')).toBe(true);
    await expectObserverServed();
  });

  async function opCount(op: string, result: string): Promise<number> {
    const m = await t.node.metrics.registry.getSingleMetric('corral_ops_total')!.get();
    return m.values.find((x) => x.labels['op'] === op && x.labels['result'] === result)?.value ?? 0;
  }
});

function framed(payload: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, HEADER_BYTES);
  return out;
}
