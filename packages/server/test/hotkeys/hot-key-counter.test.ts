import { ManualClock } from '@corral/test-utils';
import { HotKeyCounter } from '../../src/hotkeys/hot-key-counter';

describe('HotKeyCounter', () => {
  it('adds one per read and halves every half-life', () => {
    const clock = new ManualClock();
    const c = new HotKeyCounter(clock, 1000, 100);
    for (let i = 0; i < 100; i++) c.hit('k');
    expect(c.peek('k')).toBe(100);
    clock.advance(1000);
    expect(c.peek('k')).toBeCloseTo(50, 6);
    clock.advance(2000);
    expect(c.hit('k')).toBeCloseTo(13.5, 6);
  });

  it('settles near 1.44 × rate × half-life under a steady rate', () => {
    const clock = new ManualClock();
    const c = new HotKeyCounter(clock, 1000, 100);
    for (let ms = 0; ms < 20_000; ms++) { c.hit('k'); clock.advance(1); } // 1000 reads/s
    expect(c.peek('k')).toBeGreaterThan(1400);
    expect(c.peek('k')).toBeLessThan(1450);
  });

  it('stays bounded: cold keys are swept out, and the busiest keys are reported first', () => {
    const clock = new ManualClock();
    const c = new HotKeyCounter(clock, 1000, 100);
    for (let i = 0; i < 50; i++) c.hit('hot');
    for (let i = 0; i < 1000; i++) { c.hit(`cold${i}`); clock.advance(50); }
    expect(c.size).toBeLessThanOrEqual(100);
    for (let i = 0; i < 30; i++) c.hit('hot');
    expect(c.top(1)[0]?.key).toBe('hot');
  });
});
