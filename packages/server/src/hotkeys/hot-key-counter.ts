import type { Clock } from '@corral/protocol';

interface Count { c: number; t: number }

/**
 * Reads per key in a decaying window (the seed's stampede detection counter, without a round trip
 * per read): every read adds 1, and the sum halves every `halfLifeMs`, applied lazily when the key
 * is touched. Bounded: past `maxKeys` the keys whose count decayed below a floor are swept out, the
 * floor rising until a tenth of the table is free; until a sweep makes room, new keys go uncounted
 * (a key that matters keeps coming back). Sweeps run at most every half-life/8.
 */
export class HotKeyCounter {
  private readonly map = new Map<string, Count>();
  private lastSweep = -Infinity;
  private readonly ln2PerMs: number;

  constructor(private readonly clock: Clock, readonly halfLifeMs: number, readonly maxKeys: number) {
    this.ln2PerMs = Math.LN2 / halfLifeMs;
  }

  get size(): number { return this.map.size; }

  /** Adds `n` reads of `key`; returns its decayed count, 0 when it could not be counted. */
  hit(key: string, n = 1): number {
    const now = this.clock.now();
    const e = this.map.get(key);
    if (e !== undefined) {
      e.c = this.decayed(e, now) + n;
      e.t = now;
      return e.c;
    }
    if (this.map.size >= this.maxKeys && !this.sweep(now)) return 0;
    this.map.set(key, { c: n, t: now });
    return n;
  }

  peek(key: string): number {
    const e = this.map.get(key);
    return e === undefined ? 0 : this.decayed(e, this.clock.now());
  }

  /** The `n` busiest keys right now. O(size): for admin tools, not the read path. */
  top(n: number): Array<{ key: string; count: number }> {
    const now = this.clock.now();
    const all: Array<{ key: string; count: number }> = [];
    for (const [key, e] of this.map) all.push({ key, count: Math.round(this.decayed(e, now)) });
    return all.sort((a, b) => b.count - a.count).slice(0, n);
  }

  private decayed(e: Count, now: number): number {
    const dt = now - e.t;
    return dt <= 0 ? e.c : e.c * Math.exp(-dt * this.ln2PerMs);
  }

  /** Makes room for at least a tenth of the table; false when it may not sweep yet. */
  private sweep(now: number): boolean {
    if (now - this.lastSweep < this.halfLifeMs / 8) return false;
    this.lastSweep = now;
    const goal = this.maxKeys - Math.max(1, Math.floor(this.maxKeys / 10));
    for (let floor = 1; this.map.size > goal; floor *= 2) {
      for (const [key, e] of this.map) if (this.decayed(e, now) < floor) this.map.delete(key);
    }
    return true;
  }
}
