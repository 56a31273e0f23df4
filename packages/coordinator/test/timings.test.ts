import { DEFAULT_TIMINGS, pushPullIntervalFor, retransmitLimit, suspicionTimeoutMs, systemClock } from '../src';
import { SuspicionTimers } from '../src/suspicion-timers';
import { resolveTimings } from '../src/options';

describe('suspicionTimeoutMs', () => {
  const t = { suspicionMult: 4, protocolPeriodMs: 1000 };

  test('is floored at suspicionMult periods for small clusters', () => {
    for (const n of [0, 1, 2, 5, 10]) expect(suspicionTimeoutMs(n, t)).toBe(4000);
  });

  test('grows with log10(n)', () => {
    expect(suspicionTimeoutMs(100, t)).toBe(8000);
    expect(suspicionTimeoutMs(1000, t)).toBe(12_000);
    expect(suspicionTimeoutMs(50, t)).toBe(Math.round(4 * Math.log10(50) * 1000));
    let previous = 0;
    for (let n = 1; n <= 5000; n += 7) {
      const timeout = suspicionTimeoutMs(n, t);
      expect(timeout).toBeGreaterThanOrEqual(previous);
      previous = timeout;
    }
  });

  test('scales linearly with the period and the multiplier, and defaults to the LAN settings', () => {
    expect(suspicionTimeoutMs(100, { suspicionMult: 2, protocolPeriodMs: 50 })).toBe(200);
    expect(suspicionTimeoutMs(5)).toBe(DEFAULT_TIMINGS.suspicionMult * DEFAULT_TIMINGS.protocolPeriodMs);
  });
});

describe('SuspicionTimers under fake timers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('a suspicion in a bigger cluster takes longer to become dead', () => {
    const timers = new SuspicionTimers(systemClock);
    const expired: string[] = [];
    const t = { suspicionMult: 4, protocolPeriodMs: 100 };
    timers.start('small', 0, suspicionTimeoutMs(5, t), (id) => expired.push(id));
    timers.start('large', 0, suspicionTimeoutMs(1000, t), (id) => expired.push(id));
    jest.advanceTimersByTime(399);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['small']);
    jest.advanceTimersByTime(1200 - 400 - 1);
    expect(expired).toEqual(['small']);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['small', 'large']);
    expect(timers.size).toBe(0);
  });

  test('a repeated suspicion does not extend the deadline; a new incarnation restarts it; cancel stops it', () => {
    const timers = new SuspicionTimers(systemClock);
    const expired: [string, number][] = [];
    const onExpire = (id: string, inc: number): void => void expired.push([id, inc]);
    timers.start('a', 1, 1000, onExpire);
    jest.advanceTimersByTime(600);
    timers.start('a', 1, 1000, onExpire);
    jest.advanceTimersByTime(400);
    expect(expired).toEqual([['a', 1]]);

    timers.start('b', 1, 1000, onExpire);
    jest.advanceTimersByTime(600);
    timers.start('b', 2, 1000, onExpire);
    jest.advanceTimersByTime(600);
    expect(expired).toEqual([['a', 1]]);
    jest.advanceTimersByTime(400);
    expect(expired).toEqual([['a', 1], ['b', 2]]);

    timers.start('c', 0, 1000, onExpire);
    timers.cancel('c');
    jest.advanceTimersByTime(5000);
    expect(expired).toHaveLength(2);
  });
});

describe('retransmitLimit', () => {
  test('is retransmitMult * ceil(log10(n + 1))', () => {
    expect(retransmitLimit(1, 4)).toBe(4);
    expect(retransmitLimit(9, 4)).toBe(4);
    expect(retransmitLimit(10, 4)).toBe(8);
    expect(retransmitLimit(99, 4)).toBe(8);
    expect(retransmitLimit(100, 4)).toBe(12);
    expect(retransmitLimit(5, 3)).toBe(3);
    expect(retransmitLimit(5)).toBe(DEFAULT_TIMINGS.retransmitMult);
  });
});

test('push-pull interval stretches past 32 members', () => {
  expect(pushPullIntervalFor(10, 30_000)).toBe(30_000);
  expect(pushPullIntervalFor(32, 30_000)).toBe(30_000);
  expect(pushPullIntervalFor(64, 30_000)).toBe(60_000);
  expect(pushPullIntervalFor(1000, 30_000)).toBeGreaterThan(pushPullIntervalFor(64, 30_000));
});

test('options are validated', () => {
  expect(resolveTimings({})).toEqual(DEFAULT_TIMINGS);
  expect(() => resolveTimings({ probeTimeoutMs: 1000, protocolPeriodMs: 1000 })).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }));
  expect(() => resolveTimings({ protocolPeriodMs: -1 })).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }));
  expect(() => resolveTimings({ maxPacketBytes: 100_000 })).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }));
});
