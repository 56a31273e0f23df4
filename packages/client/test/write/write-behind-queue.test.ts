import { WriteBehindQueue } from '../../src/write/write-behind-queue';

/** The queue alone, on jest's fake timers; the database is a map with switchable failures. */

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

function db() {
  const rows = new Map<string, unknown>();
  const log: Array<[string, unknown]> = [];
  let failing = 0; // fail this many writes
  return {
    rows, log,
    failNext(n: number) { failing = n; },
    write: async (key: string, value: unknown) => {
      log.push([key, value]);
      if (failing > 0) { failing--; throw new Error('db unavailable'); }
      rows.set(key, value);
    },
  };
}

test('coalesces per key (last write wins), writes on the interval', async () => {
  const d = db();
  const q = new WriteBehindQueue({ write: d.write, flushIntervalMs: 1_000 });
  q.enqueue('a', 1); q.enqueue('a', 2); q.enqueue('b', 1); q.enqueue('a', 3);
  expect(q.stats()).toMatchObject({ queued: 2, enqueued: 2, coalesced: 2 });
  await jest.advanceTimersByTimeAsync(1_000);
  expect(d.log).toEqual([['a', 3], ['b', 1]]);
  expect(q.stats()).toMatchObject({ queued: 0, written: 2 });
  await q.close();
});

test('retries with backoff, then gives up and counts the write as failed', async () => {
  const d = db();
  const dropped: string[] = [];
  const q = new WriteBehindQueue({
    write: d.write, flushIntervalMs: 100, maxRetries: 2, retryBaseMs: 100, retryCapMs: 1_000, random: () => 1,
    onDropped: (key) => dropped.push(key),
  });
  d.failNext(1);
  q.enqueue('a', 1);
  await jest.advanceTimersByTimeAsync(100); // first attempt fails; retry not before +200 ms
  expect(q.stats()).toMatchObject({ queued: 1, retries: 1, written: 0 });
  await jest.advanceTimersByTimeAsync(100);
  expect(d.log.length).toBe(1);
  await jest.advanceTimersByTimeAsync(200);
  expect(q.stats()).toMatchObject({ queued: 0, written: 1 });

  d.failNext(10);
  q.enqueue('b', 1);
  await jest.advanceTimersByTimeAsync(5_000);
  expect(q.stats()).toMatchObject({ failed: 1, retries: 3, queued: 0 });
  expect(dropped).toEqual(['b']);
  await q.close();
});

test('a key is never written twice at once; a newer value waits for the one in flight', async () => {
  let release!: () => void;
  const order: unknown[] = [];
  let inFlight = 0, maxInFlight = 0;
  const q = new WriteBehindQueue({
    flushIntervalMs: 10,
    write: async (_k, v) => {
      inFlight++; maxInFlight = Math.max(maxInFlight, inFlight);
      order.push(v);
      if (v === 1) await new Promise<void>((r) => { release = r; });
      inFlight--;
    },
  });
  q.enqueue('a', 1);
  await jest.advanceTimersByTimeAsync(10);
  q.enqueue('a', 2);
  await jest.advanceTimersByTimeAsync(50);
  expect(order).toEqual([1]);
  release();
  await jest.advanceTimersByTimeAsync(20);
  expect(order).toEqual([1, 2]);
  expect(maxInFlight).toBe(1);
  await q.close();
});

test('bounded: a full queue refuses with E_RATE_LIMITED', async () => {
  const q = new WriteBehindQueue({ write: async () => undefined, maxEntries: 2 });
  q.enqueue('a', 1); q.enqueue('b', 1);
  q.enqueue('a', 2); // coalescing needs no room
  expect(() => q.enqueue('c', 1)).toThrow(expect.objectContaining({ code: 'E_RATE_LIMITED' }));
  expect(q.stats().rejected).toBe(1);
  await q.close();
});

test('flush() sends everything now, backoff or not; close() flushes, retries, and counts what is left', async () => {
  const d = db();
  const dropped: string[] = [];
  const q = new WriteBehindQueue({ write: d.write, flushIntervalMs: 60_000, closeTimeoutMs: 1_000, retryBaseMs: 100, random: () => 1, onDropped: (k) => dropped.push(k) });
  q.enqueue('a', 1); q.enqueue('b', 1);
  await q.flush();
  expect(d.rows.size).toBe(2);
  d.failNext(1_000);
  q.enqueue('c', 1);
  const closing = q.close();
  await jest.advanceTimersByTimeAsync(1_500);
  await closing;
  expect(q.stats()).toMatchObject({ droppedOnClose: 1, queued: 0 });
  expect(dropped).toEqual(['c']);
  expect(() => q.enqueue('d', 1)).toThrow(expect.objectContaining({ code: 'E_CLIENT_CLOSED' }));
});
