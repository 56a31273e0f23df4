import type { L1Entry } from './l1-entry';

/**
 * One namespace's entries: a map for lookup and a doubly linked list in the order entries were
 * stored or given a second chance. A hit does not relink (it only stamps `usedAt`: relinking would
 * touch two more scattered list nodes on every read, which cost more than the hit itself);
 * eviction moves a tail used since it was linked back to the head and takes the first that was
 * not (CLOCK / second chance, an approximation of LRU that evicts the same entries in the common
 * cases: an entry read once since it was stored outlives one never read again).
 */
export class LruPartition {
  readonly map = new Map<string, L1Entry>();
  head: L1Entry | null = null;
  tail: L1Entry | null = null;
  bytes = 0;

  constructor(readonly ns: string, readonly maxEntries: number, readonly maxBytes: number) {}

  get size(): number { return this.map.size; }

  /** Marks as most recently used. */
  touch(e: L1Entry): void {
    e.linkedAt = e.usedAt;
    if (this.head === e) return;
    this.unlink(e);
    this.pushHead(e);
  }

  /**
   * The entry to evict (never `keep`): tails read since they were linked go back to the head
   * first, each once. Null when `keep` is the only entry.
   */
  victim(keep: L1Entry): L1Entry | null {
    for (let n = this.map.size; n > 0; n--) {
      const t = this.tail === keep ? keep.prev : this.tail;
      if (t === null) return null;
      if (t.usedAt <= t.linkedAt) return t;
      this.touch(t);
    }
    return this.tail === keep ? keep.prev : this.tail;
  }

  add(e: L1Entry): void {
    e.linkedAt = e.usedAt;
    this.map.set(e.key, e);
    this.pushHead(e);
    this.bytes += e.bytes;
  }

  remove(e: L1Entry): void {
    if (this.map.get(e.key) !== e) return;
    this.map.delete(e.key);
    this.unlink(e);
    this.bytes -= e.bytes;
  }

  overBounds(): boolean {
    return this.map.size > this.maxEntries || this.bytes > this.maxBytes;
  }

  private pushHead(e: L1Entry): void {
    e.prev = null;
    e.next = this.head;
    if (this.head !== null) this.head.prev = e;
    this.head = e;
    if (this.tail === null) this.tail = e;
  }

  private unlink(e: L1Entry): void {
    if (e.prev !== null) e.prev.next = e.next; else if (this.head === e) this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev; else if (this.tail === e) this.tail = e.prev;
    e.prev = null;
    e.next = null;
  }
}
