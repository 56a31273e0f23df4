import { systemClock } from '@corral/protocol';
import { CacheBreaker, type CacheBreakerStateChange } from '../../src/stampede/cache-breaker';
import { OriginLimiter } from '../../src/stampede/origin-limiter';

/** Pure state machines on jest's fake timers (which fake performance.now, the system clock). */

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('CacheBreaker', () => {
  function breaker() {
    const logs: Array<{ fields: object; msg: string }> = [];
    const log = (fields: object, msg: string) => logs.push({ fields, msg });
    const b = new CacheBreaker({ failureThreshold: 3, openMs: 1_000, halfOpenProbes: 1, closeAfterSuccesses: 2 }, systemClock,
      { debug: log, info: log, warn: log, error: log });
    const changes: CacheBreakerStateChange[] = [];
    b.on('stateChange', (c) => changes.push(c));
    return { b, changes, logs };
  }

  test('closed → open after consecutive failures; a success resets the count', () => {
    const { b, changes } = breaker();
    b.failure(); b.failure(); b.success(); b.failure(); b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.permit()).toEqual({ route: 'origin' });
    expect(changes).toEqual([{ previous: 'closed', state: 'open', reason: '3 consecutive cache failures' }]);
  });

  test('open → half-open after openMs; one probe at a time; enough successes close it', () => {
    const { b, changes, logs } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    jest.advanceTimersByTime(999);
    expect(b.permit()).toEqual({ route: 'origin' });
    jest.advanceTimersByTime(1);
    expect(b.permit()).toEqual({ route: 'cache', probe: true });
    expect(b.state).toBe('half-open');
    expect(b.permit()).toEqual({ route: 'origin' }); // the probe has the cache to itself
    b.success(false); // an old call finishing says nothing
    b.success(true);
    expect(b.state).toBe('half-open');
    expect(b.permit()).toEqual({ route: 'cache', probe: true });
    b.success(true);
    expect(b.state).toBe('closed');
    expect(changes.map((c) => c.state)).toEqual(['open', 'half-open', 'closed']);
    expect(logs.map((l) => l.msg)).toEqual(Array(3).fill('circuit_breaker_state_change'));
    expect(logs[0]!.fields).toMatchObject({ breaker: 'cache', previous_state: 'closed', new_state: 'open' });
  });

  test('a failed probe opens it again for another openMs', () => {
    const { b } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    jest.advanceTimersByTime(1_000);
    expect(b.permit()).toEqual({ route: 'cache', probe: true });
    b.failure(true);
    expect(b.state).toBe('open');
    jest.advanceTimersByTime(999);
    expect(b.state).toBe('open');
    jest.advanceTimersByTime(1);
    expect(b.state).toBe('half-open');
  });

  test('a probe released without an outcome frees the slot', () => {
    const { b } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    jest.advanceTimersByTime(1_000);
    expect(b.permit()).toEqual({ route: 'cache', probe: true });
    b.release(true);
    expect(b.permit()).toEqual({ route: 'cache', probe: true });
  });
});

describe('OriginLimiter', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => { resolve = r; });
    return { promise, resolve };
  };

  test('at most maxConcurrency at once; the rest queue in order', async () => {
    const l = new OriginLimiter({ maxConcurrency: 2, maxQueue: 10, queueTimeoutMs: 1_000 });
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const runs = gates.map((g, i) => l.run(async () => { started.push(i); await g.promise; return i; }));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(l.stats()).toMatchObject({ running: 2, queued: 3 });
    gates[0]!.resolve();
    await runs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(l.stats()).toMatchObject({ running: 0, queued: 0, admitted: 5, peakRunning: 2 });
  });

  test('a full queue refuses at once; a queued call times out', async () => {
    const l = new OriginLimiter({ maxConcurrency: 1, maxQueue: 1, queueTimeoutMs: 500 });
    const gate = deferred();
    const first = l.run(() => gate.promise);
    const queued = l.run(async () => 'never');
    await expect(l.run(async () => 'no room')).rejects.toMatchObject({ code: 'E_RATE_LIMITED', details: { reason: 'origin_queue_full' } });
    jest.advanceTimersByTime(500);
    await expect(queued).rejects.toMatchObject({ code: 'E_RATE_LIMITED', details: { reason: 'origin_queue_timeout' } });
    gate.resolve();
    await first;
    expect(l.stats()).toMatchObject({ running: 0, queued: 0, rejectedFull: 1, rejectedTimeout: 1 });
  });
});
