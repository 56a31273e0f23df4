import { seededRandom as seeded } from '@corral/protocol';
import { xfetchRefreshProbability, xfetchShouldRefresh } from '../../src/stampede/xfetch';


describe('XFetch', () => {
  // The published rule: refresh when now − delta·beta·ln(U) ≥ expiry, i.e. −delta·beta·ln(U) ≥ remaining,
  // which happens with probability exp(−remaining / (delta·beta)). (1 − that is the chance of NOT refreshing.)
  it.each([
    [0, 100, 1], [50, 100, 1], [100, 100, 1], [200, 100, 1], [300, 100, 1],
    [100, 100, 2], [100, 100, 0.5], [1_000, 250, 1], [10, 1, 3],
  ])('at remaining %i ms, delta %i ms, beta %f the refresh rate matches exp(-r/(delta*beta))', (remaining, delta, beta) => {
    const random = seeded(remaining * 7919 + delta * 31 + Math.round(beta * 10));
    const n = 40_000;
    let refreshes = 0;
    for (let i = 0; i < n; i++) if (xfetchShouldRefresh(remaining, delta, beta, random)) refreshes++;
    const p = xfetchRefreshProbability(remaining, delta, beta);
    expect(p).toBeCloseTo(Math.exp(-remaining / (delta * beta)), 12);
    const sigma = Math.sqrt((p * (1 - p)) / n);
    expect(Math.abs(refreshes / n - p)).toBeLessThanOrEqual(4 * sigma + 1e-9);
  });

  it('matches the inequality form exactly for the same random draw', () => {
    const random = seeded(42);
    for (let i = 0; i < 10_000; i++) {
      const u = random();
      const now = 1_000_000, remaining = Math.floor(u * 500), delta = 1 + Math.floor(random() * 200), beta = 0.25 + random() * 2;
      const expiry = now + remaining;
      const draw = random();
      const published = now - delta * beta * Math.log(1 - draw) >= expiry;
      expect(xfetchShouldRefresh(remaining, delta, beta, () => draw)).toBe(published);
    }
  });

  it('never refreshes early without a delta, without expiry, or with beta 0', () => {
    expect(xfetchShouldRefresh(10, 0, 1, () => 0.999999)).toBe(false);
    expect(xfetchShouldRefresh(Infinity, 100, 1, () => 0.999999)).toBe(false);
    expect(xfetchShouldRefresh(10, 100, 0, () => 0.999999)).toBe(false);
    expect(xfetchShouldRefresh(0, 100, 1, () => 0)).toBe(true); // at expiry: always
  });
});
