import { systemClock } from '@corral/protocol';
import { Coalescer } from '../../src/stampede/coalescer';
import { runLoader } from '../../src/stampede/loader-run';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('one call per key while in flight; the entry is gone after success', async () => {
  const c = new Coalescer<number>();
  let calls = 0;
  const work = () => new Promise<number>((r) => { calls++; setTimeout(() => r(7), 10); });
  const a = c.run('k', work);
  const b = c.run('k', work);
  expect([a.joined, b.joined]).toEqual([false, true]);
  expect(c.size).toBe(1);
  jest.advanceTimersByTime(10);
  expect(await Promise.all([a.promise, b.promise])).toEqual([7, 7]);
  expect(calls).toBe(1);
  expect(c.size).toBe(0);
});

test('the entry is gone after an error (sync or async), and the next call runs again', async () => {
  const c = new Coalescer<number>();
  const a = c.run('k', () => Promise.reject(new Error('db down')));
  const b = c.run('k', () => Promise.resolve(1));
  await expect(a.promise).rejects.toThrow('db down');
  await expect(b.promise).rejects.toThrow('db down');
  expect(c.size).toBe(0);
  const s = c.run('k', () => { throw new Error('sync'); });
  await expect(s.promise).rejects.toThrow('sync');
  expect(c.size).toBe(0);
  expect(await c.run('k', () => Promise.resolve(2)).promise).toBe(2);
});

test('the entry is gone after a hard timeout, even when the loader ignores its signal', async () => {
  const c = new Coalescer<unknown>();
  let signal: AbortSignal | undefined;
  const hung = c.run('k', () => runLoader((ctx) => { signal = ctx.signal; return new Promise(() => undefined); }, 1_000, systemClock));
  const joined = c.run('k', () => Promise.resolve('unused'));
  jest.advanceTimersByTime(1_000);
  await expect(hung.promise).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT' });
  await expect(joined.promise).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT' });
  expect(signal?.aborted).toBe(true);
  expect((signal?.reason as { code?: string }).code).toBe('E_LOADER_TIMEOUT');
  expect(c.size).toBe(0);
});

test('bounded: past maxKeys distinct keys, calls run on their own', async () => {
  const c = new Coalescer<number>(1);
  const a = c.run('a', () => new Promise(() => undefined));
  const b = c.run('b', () => Promise.resolve(1));
  expect(a.joined || b.joined).toBe(false);
  expect(c.size).toBe(1);
  expect(await b.promise).toBe(1);
});
