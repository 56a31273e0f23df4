import { seededRandom } from '@corral/protocol';
import type { Distribution } from '../scenario/scenario-types';

/**
 * The keys a run uses and how often each is picked. Keys are `h:<run>:<i>`; the run tag keeps two
 * runs against long-lived nodes apart. Under Zipf the popularity rank is a fixed shuffle of the
 * key indexes, so the hot keys are spread over the ring instead of being k:0, k:1, … (which would
 * be fine for a hash ring, but a shuffle makes that independence explicit and seedable).
 */
export class KeySpace {
  readonly size: number;
  private readonly names: string[];
  /** cumulative[r] = P(rank <= r), for Zipf; undefined for uniform. */
  private readonly cumulative: Float64Array | undefined;
  private readonly rankToIndex: Uint32Array;
  private readonly random: () => number;

  constructor(size: number, distribution: Distribution, runTag: string, random: () => number = seededRandom(0x5eed)) {
    this.size = size;
    this.random = random;
    this.names = Array.from({ length: size }, (_x, i) => `h:${runTag}:${i}`);
    this.rankToIndex = shuffledIndexes(size, seededRandom(0xc0ffee));
    this.cumulative = distribution.kind === 'zipf' ? zipfCumulative(size, distribution.exponent) : undefined;
  }

  key(i: number): string {
    return this.names[i]!;
  }

  /** A key index drawn from the distribution. */
  pick(): number {
    const u = this.random();
    if (!this.cumulative) return Math.min(this.size - 1, Math.floor(u * this.size));
    // Binary search for the first rank whose cumulative probability reaches u.
    let lo = 0;
    let hi = this.size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return this.rankToIndex[lo]!;
  }
}

function zipfCumulative(n: number, s: number): Float64Array {
  const c = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / Math.pow(r + 1, s);
    c[r] = sum;
  }
  for (let r = 0; r < n; r++) c[r] = c[r]! / sum;
  return c;
}

function shuffledIndexes(n: number, random: () => number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

