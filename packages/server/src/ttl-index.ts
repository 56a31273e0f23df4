/** Something the TtlIndex can hold: it remembers its own slot so removal needs no search. */
export interface TtlSlotted {
  ttlSlot: number; // -1 when not in the index
}

/**
 * The entries that have a TTL, in a dense array with swap-remove: add, remove and picking a
 * uniformly random member are all O(1), which is what active expiry's random sampling needs
 * (a Map or a heap cannot sample in O(1)).
 */
export class TtlIndex<T extends TtlSlotted> {
  private items: T[] = [];

  get size(): number { return this.items.length; }

  add(x: T): void {
    if (x.ttlSlot >= 0) return;
    x.ttlSlot = this.items.length;
    this.items.push(x);
  }

  remove(x: T): void {
    const i = x.ttlSlot;
    if (i < 0) return;
    const last = this.items.pop()!;
    if (last !== x) {
      this.items[i] = last;
      last.ttlSlot = i;
    }
    x.ttlSlot = -1;
  }

  /** A uniformly random member, or undefined when empty. */
  sample(random: () => number = Math.random): T | undefined {
    const n = this.items.length;
    return n === 0 ? undefined : this.items[Math.floor(random() * n)];
  }

  clear(): void {
    for (const x of this.items) x.ttlSlot = -1;
    this.items = [];
  }
}
