import type { Clock } from '@corral/protocol';

export interface HotKeyTableOptions {
  /** An access counts half as much after this long: the score is a rate, "accesses per half-life", recent ones weighing most. */
  halfLifeMs: number;
  /** Keys tracked at most; past it the coldest quarter is dropped. */
  maxKeys: number;
}

/** What the table knows about one key. Times are on the Clock (monotonic). */
export interface TrackedKey {
  /** Decayed access count as of `at`. */
  score: number;
  at: number;
  /** When the cached entry expires (Infinity: never), once the cache has said. */
  expiresAt: number | undefined;
  /** The entry's version, once the cache has said: a refresh asks for the lease on exactly this version. */
  version: number | undefined;
  /** No refresh attempt before this (after a failure, or while someone else refreshes). */
  notBefore: number;
}

/**
 * Decaying access counters for the background warmer. A plain counter (the seed's Counter) ranks a
 * key that was hot last week above one that is hot now, and halving every count on a timer costs
 * a pass over the table; here each key decays lazily by its own age — score · 2^(−Δt/halfLife) —
 * when it is touched or read, so an access is O(1) and the table needs no timer.
 *
 * Bounded: at `maxKeys` a new key first drops the coldest quarter (sorted by decayed score), so
 * the sort is paid once per maxKeys/4 insertions — O(log n) per access amortised.
 */
export class HotKeyTable {
  private readonly keys = new Map<string, TrackedKey>();

  constructor(private readonly o: HotKeyTableOptions, private readonly clock: Clock) {
    if (!(o.halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be > 0 (got ${o.halfLifeMs})`);
    if (!Number.isSafeInteger(o.maxKeys) || o.maxKeys < 1) throw new RangeError(`maxKeys must be an integer >= 1 (got ${o.maxKeys})`);
  }

  get size(): number { return this.keys.size; }

  /** One access: the score decays to now and goes up by one. Returns the new score. */
  hit(key: string): number {
    const now = this.clock.now();
    let t = this.keys.get(key);
    if (t === undefined) {
      if (this.keys.size >= this.o.maxKeys) this.shrink(now);
      t = { score: 0, at: now, expiresAt: undefined, version: undefined, notBefore: 0 };
      this.keys.set(key, t);
    }
    t.score = this.decayed(t, now) + 1;
    t.at = now;
    return t.score;
  }

  /** What the cache said about a tracked key: time to live (Infinity = none) and version. Untracked keys are ignored. */
  seen(key: string, ttlMs: number, version: number | undefined): void {
    const t = this.keys.get(key);
    if (t === undefined) return;
    t.expiresAt = ttlMs === Infinity ? Infinity : this.clock.now() + ttlMs;
    if (version !== undefined) t.version = version;
  }

  get(key: string): TrackedKey | undefined { return this.keys.get(key); }

  /** The decayed score now (0 for an unknown key). */
  score(key: string): number {
    const t = this.keys.get(key);
    return t === undefined ? 0 : this.decayed(t, this.clock.now());
  }

  delete(key: string): void { this.keys.delete(key); }

  /** Every tracked key with its decayed score now. */
  *scored(): IterableIterator<[string, TrackedKey, number]> {
    const now = this.clock.now();
    for (const [k, t] of this.keys) yield [k, t, this.decayed(t, now)];
  }

  /** Forgets keys whose score has decayed below `floor` (nobody asks for them any more). */
  sweep(floor: number): number {
    const now = this.clock.now();
    let n = 0;
    for (const [k, t] of this.keys) if (this.decayed(t, now) < floor) { this.keys.delete(k); n++; }
    return n;
  }

  private decayed(t: TrackedKey, now: number): number {
    return t.score * Math.pow(2, -(now - t.at) / this.o.halfLifeMs);
  }

  private shrink(now: number): void {
    const byScore = [...this.keys].map(([k, t]) => [k, this.decayed(t, now)] as const).sort((a, b) => a[1] - b[1]);
    const drop = Math.max(1, Math.floor(byScore.length / 4));
    for (let i = 0; i < drop; i++) this.keys.delete(byScore[i]![0]);
  }
}
