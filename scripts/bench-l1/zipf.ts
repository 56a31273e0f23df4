/**
 * Zipf(s) ranks over n items, as a precomputed sample sequence: the load loop reads an array
 * instead of paying for a binary search (and a random draw) per op, which would be measured too.
 * Ranks are mapped through a random permutation so the hottest keys land anywhere on the ring.
 */
export function zipfSamples(n: number, s: number, count: number, random: () => number = Math.random): Int32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) { sum += 1 / Math.pow(i + 1, s); cdf[i] = sum; }
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); const t = perm[i]!; perm[i] = perm[j]!; perm[j] = t; }
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid]! < u) lo = mid + 1; else hi = mid; }
    out[k] = perm[lo]!;
  }
  return out;
}

/** Which ops of the sequence are writes: `writeShare` of them, at random positions. */
export function writeMask(count: number, writeShare: number, random: () => number = Math.random): Uint8Array {
  const m = new Uint8Array(count);
  for (let i = 0; i < count; i++) m[i] = random() < writeShare ? 1 : 0;
  return m;
}

/** A seeded generator (mulberry32, from the protocol package), so every system in a run gets the same sequence. */
export { seededRandom as seeded } from '@corral/protocol';
