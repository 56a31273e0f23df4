import { Backoff, DefaultBackoff } from '../src/backoff';
import { CorralError } from '../src/errors';

describe('Backoff (full jitter)', () => {
  it('draws each delay under a ceiling that doubles from base up to cap', () => {
    const b = new Backoff({ baseMs: 50, capMs: 2000 }, () => 0.999999);
    const delays = Array.from({ length: 9 }, () => b.next());
    expect(delays).toEqual([49, 99, 199, 399, 799, 1599, 1999, 1999, 1999]);
  });

  it('is uniform from 0: random() = 0 gives no delay at all', () => {
    const b = new Backoff(DefaultBackoff, () => 0);
    expect([b.next(), b.next(), b.next()]).toEqual([0, 0, 0]);
  });

  it('spreads a fleet: delays for the same attempt differ with the random source', () => {
    const seq = [0.1, 0.5, 0.9];
    const delays = seq.map((r) => new Backoff({ baseMs: 100, capMs: 1000 }, () => r).next());
    expect(delays).toEqual([10, 50, 90]);
  });

  it('starts again from base after reset()', () => {
    const b = new Backoff({ baseMs: 10, capMs: 1000 }, () => 0.5);
    b.next(); b.next(); b.next();
    expect(b.attempts).toBe(3);
    expect(b.ceilingMs).toBe(80);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(5);
  });

  it('stays at the cap however many attempts fail (no overflow to Infinity or NaN)', () => {
    const b = new Backoff({ baseMs: 50, capMs: 2000 }, () => 0.5);
    for (let i = 0; i < 5000; i++) b.next();
    expect(b.ceilingMs).toBe(2000);
    expect(b.next()).toBe(1000);
  });

  it('rejects nonsense bounds with E_BAD_ARGS', () => {
    expect(() => new Backoff({ baseMs: 0, capMs: 10 })).toThrow(CorralError);
    expect(() => new Backoff({ baseMs: 100, capMs: 10 })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGS' }));
  });
});
