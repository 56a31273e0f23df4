import type { Clock } from '@corral/protocol';
import { LeaseTable } from '../src/leases/lease-table';

/** The table alone, on jest's fake timers (performance.now is faked with them). */

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

const clock: Clock = { now: () => performance.now(), wallNow: () => Date.now() };
function table(limits = { maxLeases: 2, maxWaitersPerKey: 2, maxWaiters: 3 }): LeaseTable {
  let t = 0;
  return new LeaseTable(clock, () => ++t, limits);
}

test('one lease per key; it lapses at its TTL', () => {
  const t = table();
  const l = t.grant('k', 100, 'fill')!;
  expect(t.grant('k', 100, 'fill')).toBeUndefined();
  expect(t.isHeld('k', l.token)).toBe(true);
  jest.advanceTimersByTime(99);
  expect(t.isHeld('k', l.token)).toBe(true);
  jest.advanceTimersByTime(1);
  expect(t.isHeld('k', l.token)).toBe(false);
  expect(t.leases).toBe(0);
  expect(t.grant('k', 100, 'fill')!.token).toBeGreaterThan(l.token);
});

test('bounded: leases, parked callers per key and per node', async () => {
  const t = table();
  expect(t.grant('a', 1_000, 'fill')).toBeDefined();
  expect(t.grant('b', 1_000, 'fill')).toBeDefined();
  expect(t.grant('c', 1_000, 'fill')).toBeUndefined(); // full of live leases
  jest.advanceTimersByTime(1_000);
  expect(t.grant('c', 1_000, 'fill')).toBeDefined(); // the sweep found the lapsed ones

  const p1 = t.park('c', 500)!;
  const p2 = t.park('c', 500)!;
  expect(t.park('c', 500)).toBeUndefined(); // per key
  const p3 = t.park('d', 500)!;
  expect(t.park('e', 500)).toBeUndefined(); // per node
  expect(t.waiters).toBe(3);
  t.wake('c', { hit: ['v'] });
  await expect(Promise.all([p1, p2])).resolves.toEqual([{ hit: ['v'] }, { hit: ['v'] }]);
  jest.advanceTimersByTime(500);
  await expect(p3).resolves.toEqual({ miss: true });
  expect(t.waiters).toBe(0);
});

test('nothing is left behind: a key with no lease and no waiter is forgotten', () => {
  const t = table();
  const l = t.grant('k', 100, 'fill')!;
  void t.park('k', 50);
  jest.advanceTimersByTime(50);
  expect(t.release('k', l.token)).toBe(true);
  expect((t as unknown as { keys: Map<string, unknown> }).keys.size).toBe(0);
});
