import { HotKeyCounter } from '../../src/hotkeys/hot-key-counter';
import { ReadSampler } from '../../src/hotkeys/read-sampler';

describe('ReadSampler', () => {
  it('counts every read while the node is quiet, one in `maxEvery` (weighted) past the rate, and every read again when it calms', () => {
    let r = 0;
    const rolls = [0.05, 0.5, 0.9, 0.2, 0.12]; // × 8: 0.4, 4, 7.2, 1.6, 0.96 → only the first and last are < 1
    const s = new ReadSampler(0, 20_000, 8, () => rolls[r++ % rolls.length]!);
    expect(Array.from({ length: 5 }, () => s.note())).toEqual([1, 1, 1, 1, 1]);
    for (let i = 0; i < 1_995; i++) s.note(); // 2 000 reads in 100 ms: 20 000/s, not above
    s.tick(100);
    expect(s.sampleEvery).toBe(1);
    for (let i = 0; i < 2_001; i++) s.note(); // just above
    s.tick(200);
    expect(s.sampleEvery).toBe(8);
    expect(Array.from({ length: 5 }, () => s.note())).toEqual([8, 0, 0, 0, 8]);
    s.tick(300); // 5 reads in 100 ms
    expect(s.sampleEvery).toBe(1);
  });

  it('keeps a hot key\'s weighted count near its true read count', () => {
    const counter = new HotKeyCounter({ now: () => 0, wallNow: () => 0 }, 1_000, 100);
    const s = new ReadSampler(0, 0, 8); // always past the rate once ticked
    s.tick(1);
    for (let i = 0; i < 40_000; i++) { const n = s.note(); if (n > 0) counter.hit('hot', n); }
    // 5 000 samples of weight 8: the standard deviation is ~2 %, the bound 10 %.
    expect(Math.abs(counter.peek('hot') - 40_000) / 40_000).toBeLessThan(0.1);
  });
});
