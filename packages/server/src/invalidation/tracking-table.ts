import type { Subscriber } from './subscriber';

/**
 * Tracking mode's memory: which connections read (or wrote) which key. A connection stays on a
 * key until it closes or the table forgets the key — not only until the next change, as Redis
 * does: an L1 may keep its copy through an invalidation that names the version it already holds
 * (it read the new value, or wrote it), and a one-shot table would then never tell it of the next
 * change. Bounded by key count: past it the key tracked longest goes, and its trackers must then
 * be invalidated (the caller does it), since nobody would tell them later.
 */
export class TrackingTable {
  private readonly byKey = new Map<string, Set<Subscriber>>();

  constructor(readonly maxKeys: number) {}

  get size(): number { return this.byKey.size; }

  /** Notes that `sub` holds `key`. Returns the key evicted to make room and its trackers, if the table was full. */
  track(sub: Subscriber, key: string): { key: string; trackers: Set<Subscriber> } | undefined {
    if (sub.tracked.has(key)) return undefined;
    let set = this.byKey.get(key);
    let evicted: { key: string; trackers: Set<Subscriber> } | undefined;
    if (set === undefined) {
      if (this.byKey.size >= this.maxKeys) evicted = this.evictOldest();
      set = new Set();
      this.byKey.set(key, set);
    }
    set.add(sub);
    sub.tracked.add(key);
    return evicted;
  }

  /** Who must hear that `key` changed. */
  trackers(key: string): ReadonlySet<Subscriber> | undefined {
    return this.byKey.get(key);
  }

  /** A subscriber left: forget what it tracked. */
  untrackAll(sub: Subscriber): void {
    for (const key of sub.tracked) {
      const set = this.byKey.get(key);
      if (set === undefined) continue;
      set.delete(sub);
      if (set.size === 0) this.byKey.delete(key);
    }
    sub.tracked.clear();
  }

  /** A FLUSH invalidates every key for everyone: nothing is held any more. */
  clear(): void {
    for (const set of this.byKey.values()) for (const s of set) s.tracked.clear();
    this.byKey.clear();
  }

  private evictOldest(): { key: string; trackers: Set<Subscriber> } | undefined {
    // Map iteration order is insertion order: the first key is the one tracked longest ago.
    const first = this.byKey.keys().next();
    if (first.done) return undefined;
    const trackers = this.byKey.get(first.value)!;
    this.byKey.delete(first.value);
    for (const s of trackers) s.tracked.delete(first.value);
    return { key: first.value, trackers };
  }
}
