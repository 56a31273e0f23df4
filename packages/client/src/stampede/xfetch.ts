/**
 * XFetch, probabilistic early recomputation (Vattani, Chierichetti, Lowenstein, VLDB 2015):
 * refresh when
 *
 *     now − delta · beta · ln(random()) ≥ expiry
 *
 * with delta the time the last recompute took. Since ln(random()) ≤ 0 the left side runs ahead
 * of `now` by an exponentially distributed amount with mean delta·beta, so the chance to refresh
 * at remaining TTL r is P(−ln U ≥ r/(delta·beta)) = exp(−r/(delta·beta)): negligible while r is
 * many deltas away, rising to 1 at expiry. Expensive values (large delta) start earlier; beta > 1
 * favours earlier refreshes, beta < 1 later ones. beta = 0 or delta = 0 never refreshes early.
 */
export function xfetchShouldRefresh(remainingMs: number, deltaMs: number, beta: number, random: () => number): boolean {
  if (!(remainingMs >= 0) || !(deltaMs > 0) || !(beta > 0)) return false;
  // 1 − random() is in (0, 1], so the log is finite (random() may return exactly 0).
  return -deltaMs * beta * Math.log(1 - random()) >= remainingMs;
}

/** The chance xfetchShouldRefresh returns true at a given remaining TTL (for tests and docs). */
export function xfetchRefreshProbability(remainingMs: number, deltaMs: number, beta: number): number {
  if (!(remainingMs >= 0) || !(deltaMs > 0) || !(beta > 0)) return 0;
  return Math.exp(-remainingMs / (deltaMs * beta));
}
