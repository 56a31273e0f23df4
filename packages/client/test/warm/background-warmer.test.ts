import { systemClock } from '@corral/protocol';
import { BackgroundWarmer, HotKeyTable, type BackgroundWarmerOptions, type RefreshAheadOptions, type RefreshOutcome, type WarmRefresher } from '../../src';

/**
 * The background warmer and its decaying counters under jest's fake timers: systemClock reads
 * performance.now, which the fake timers drive, so nothing here sleeps.
 */

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('HotKeyTable', () => {
  test('a score halves every half-life and an access adds one', () => {
    const t = new HotKeyTable({ halfLifeMs: 1_000, maxKeys: 10 }, systemClock);
    for (let i = 0; i < 8; i++) t.hit('k');
    expect(t.score('k')).toBeCloseTo(8);
    jest.advanceTimersByTime(1_000);
    expect(t.score('k')).toBeCloseTo(4);
    jest.advanceTimersByTime(2_000);
    expect(t.score('k')).toBeCloseTo(1);
    expect(t.hit('k')).toBeCloseTo(2);
    expect(t.score('unknown')).toBe(0);
  });

  test('recent accesses outrank old ones that were more numerous (unlike a plain counter)', () => {
    const t = new HotKeyTable({ halfLifeMs: 1_000, maxKeys: 10 }, systemClock);
    for (let i = 0; i < 100; i++) t.hit('was-hot');
    jest.advanceTimersByTime(10_000); // 100 / 2^10 ≈ 0.1
    for (let i = 0; i < 5; i++) t.hit('is-hot');
    expect(t.score('is-hot')).toBeGreaterThan(t.score('was-hot') * 40);
  });

  test('bounded: at maxKeys the coldest quarter goes, hot keys stay', () => {
    const t = new HotKeyTable({ halfLifeMs: 60_000, maxKeys: 100 }, systemClock);
    for (let i = 0; i < 100; i++) for (let j = 0; j <= i; j++) t.hit(`k${i}`); // k99 hottest, k0 coldest
    t.hit('new');
    expect(t.size).toBe(76);
    expect(t.score('k0')).toBe(0);
    expect(t.score('k24')).toBe(0);
    expect(t.score('k25')).toBeGreaterThan(0);
    expect(t.score('new')).toBe(1);
  });

  test('sweep forgets keys that decayed below the floor; seen() ignores untracked keys', () => {
    const t = new HotKeyTable({ halfLifeMs: 1_000, maxKeys: 10 }, systemClock);
    t.hit('a');
    for (let i = 0; i < 64; i++) t.hit('b');
    jest.advanceTimersByTime(3_000); // a: 0.125, b: 8
    expect(t.sweep(0.5)).toBe(1);
    expect(t.get('a')).toBeUndefined();
    t.seen('a', 1_000, 3);
    expect(t.get('a')).toBeUndefined();
    t.seen('b', Infinity, 7);
    expect(t.get('b')).toMatchObject({ expiresAt: Infinity, version: 7 });
  });
});

/** A refresher that records calls and answers as told; refreshes are pending until resolved by the test. */
function fakeRefresher() {
  const calls: Array<{ key: string; opts: RefreshAheadOptions; resolve: (r: RefreshOutcome) => void; reject: (e: unknown) => void }> = [];
  const refresher: WarmRefresher = {
    refreshAhead: (key, _loader, opts) => new Promise((resolve, reject) => { calls.push({ key, opts, resolve, reject }); }),
  };
  return { refresher, calls };
}

const loader = (key: string) => `value of ${key}`;

function warmer(r: WarmRefresher, o: Partial<BackgroundWarmerOptions> = {}): BackgroundWarmer {
  return new BackgroundWarmer(r, { loader, aheadMs: 1_000, hotScore: 5, halfLifeMs: 60_000, intervalMs: 100, concurrency: 2, ...o }, systemClock);
}

/** `n` accesses, then what the cache said: ttlMs left. */
function access(w: BackgroundWarmer, key: string, n: number, ttlMs: number, version = 1): void {
  for (let i = 0; i < n; i++) w.accessed(key);
  w.seen(key, ttlMs, version);
}

describe('BackgroundWarmer', () => {
  test('reloads a hot key aheadMs before it expires, once, through the refresher', async () => {
    const { refresher, calls } = fakeRefresher();
    const w = warmer(refresher);
    access(w, 'hot', 10, 10_000);
    jest.advanceTimersByTime(8_900);
    expect(calls).toHaveLength(0);
    jest.advanceTimersByTime(200); // 9 000 ms in: 1 000 ms left
    expect(calls.map((c) => c.key)).toEqual(['hot']);
    expect(calls[0]!.opts).toMatchObject({ aheadMs: 1_000 });
    // While that refresh runs, later ticks do not start another for the same key.
    jest.advanceTimersByTime(500);
    expect(calls).toHaveLength(1);
    w.seen('hot', 10_000, 2); // what the store reported after the reload
    calls[0]!.resolve({ kind: 'refreshed' });
    await Promise.resolve();
    await Promise.resolve();
    expect(w.stats()).toMatchObject({ refreshed: 1, inFlight: 0 });
    jest.advanceTimersByTime(8_000);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(1_500);
    expect(calls).toHaveLength(2); // the next expiry, kept hot by the same score (60 s half-life)
    calls[1]!.resolve({ kind: 'refreshed' });
    await w.stop();
  });

  test('cold keys are never reloaded, and a key that stops being asked for stops being reloaded', async () => {
    const { refresher, calls } = fakeRefresher();
    const w = warmer(refresher, { halfLifeMs: 2_000 });
    access(w, 'cold', 3, 2_000);
    access(w, 'fading', 8, 20_000);
    jest.advanceTimersByTime(1_900);
    expect(calls).toHaveLength(0); // 'cold' is close to expiry, but 3 < hotScore
    // 'fading': 8 accesses, 19 s later decayed to 8 / 2^9.5 — no longer hot when it nears expiry.
    jest.advanceTimersByTime(20_000);
    expect(calls).toHaveLength(0);
    expect(w.score('fading')).toBeLessThan(0.1);
    await w.stop();
  });

  test('keys without a known expiry, or that never expire, are left alone', async () => {
    const { refresher, calls } = fakeRefresher();
    const w = warmer(refresher);
    for (let i = 0; i < 20; i++) { w.accessed('unknown'); w.accessed('forever'); }
    w.seen('forever', Infinity, 1);
    jest.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(0);
    await w.stop();
  });

  test('concurrency bounds the refreshes in flight; the soonest to expire go first', async () => {
    const { refresher, calls } = fakeRefresher();
    const w = warmer(refresher, { concurrency: 3 });
    for (let i = 0; i < 10; i++) access(w, `k${i}`, 10, 500 + i * 10);
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.key)).toEqual(['k0', 'k1', 'k2']);
    jest.advanceTimersByTime(1_000);
    expect(calls).toHaveLength(3);
    expect(w.stats().inFlight).toBe(3);
    w.seen('k1', 10_000, 2); // someone else had reloaded it: the look told us so
    calls[1]!.resolve({ kind: 'fresh' });
    await Promise.resolve(); await Promise.resolve();
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.key)).toEqual(['k0', 'k1', 'k2', 'k3']);
    await Promise.all(calls.map((c) => c.resolve({ kind: 'refreshed' })));
    await w.stop();
  });

  test('a failed refresh is counted, reported, and the key left alone for failureBackoffMs', async () => {
    const { refresher, calls } = fakeRefresher();
    const errors: string[] = [];
    const w = warmer(refresher, { failureBackoffMs: 3_000, onError: (k) => errors.push(k) });
    access(w, 'k', 10, 500);
    jest.advanceTimersByTime(100);
    calls[0]!.reject(new Error('db down'));
    await Promise.resolve(); await Promise.resolve();
    expect(w.stats()).toMatchObject({ failed: 1 });
    expect(errors).toEqual(['k']);
    jest.advanceTimersByTime(2_800);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(300);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve({ kind: 'refreshed' });
    await w.stop();
  });

  test('busy (someone else holds the lease) is retried after two ticks, not every tick', async () => {
    const { refresher, calls } = fakeRefresher();
    const w = warmer(refresher);
    access(w, 'k', 10, 500);
    jest.advanceTimersByTime(100);
    calls[0]!.resolve({ kind: 'busy' });
    await Promise.resolve(); await Promise.resolve();
    jest.advanceTimersByTime(100);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(200);
    expect(calls).toHaveLength(2);
    expect(w.stats().busy).toBe(1);
    calls[1]!.resolve({ kind: 'fresh' });
    await w.stop();
  });

  test('match limits what is tracked', async () => {
    const { refresher, calls } = fakeRefresher();
    const w = warmer(refresher, { match: (k) => k.startsWith('user:') });
    access(w, 'user:1', 10, 500);
    access(w, 'session:1', 10, 500);
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.key)).toEqual(['user:1']);
    expect(w.stats().tracked).toBe(1);
    calls[0]!.resolve({ kind: 'refreshed' });
    await w.stop();
  });

  test('stop(): no timer left, no new refreshes, and it waits for the one in flight', async () => {
    const { refresher, calls } = fakeRefresher();
    const w = warmer(refresher);
    access(w, 'k', 10, 500);
    jest.advanceTimersByTime(100);
    expect(calls).toHaveLength(1);
    let stopped = false;
    const stopping = w.stop().then(() => { stopped = true; });
    expect(jest.getTimerCount()).toBe(0);
    await Promise.resolve();
    expect(stopped).toBe(false);
    calls[0]!.resolve({ kind: 'refreshed' });
    await stopping;
    access(w, 'k2', 10, 500);
    jest.advanceTimersByTime(10_000);
    expect(calls).toHaveLength(1);
    expect(w.stats().tracked).toBe(1);
  });

  test('bad options are refused', () => {
    const { refresher } = fakeRefresher();
    expect(() => warmer(refresher, { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => warmer(refresher, { aheadMs: 0 })).toThrow(/aheadMs/);
    expect(() => new BackgroundWarmer(refresher, {} as BackgroundWarmerOptions)).toThrow(/loader/);
  });
});
