import { systemClock } from '../src';
import { PausableClock } from '../src/pausable-clock';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('timers due while paused run late, in order, on resume; cleared ones never run', () => {
  const clock = new PausableClock(systemClock);
  const ran: string[] = [];
  clock.setTimeout(() => ran.push('a'), 100);
  const b = clock.setTimeout(() => ran.push('b'), 200);
  clock.setTimeout(() => ran.push('c'), 300);
  clock.setTimeout(() => ran.push('late'), 5000);
  clock.pause();
  jest.advanceTimersByTime(1000);
  expect(ran).toEqual([]);
  clock.clearTimeout(b);
  clock.resume();
  expect(ran).toEqual(['a', 'c']);
  jest.advanceTimersByTime(4000);
  expect(ran).toEqual(['a', 'c', 'late']);
});

test('the clock reads time through the injected clock (fake timers move it)', () => {
  const clock = new PausableClock(systemClock);
  const t0 = clock.now();
  jest.advanceTimersByTime(250);
  expect(clock.now() - t0).toBe(250);
});
