import type { L1Entry } from './l1-entry';

/**
 * One namespace's entries: a map for lookup and a doubly linked list for recency (a hit moves a
 * node to the head in O(1), where Map delete+set would allocate).
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
    if (this.head === e) return;
    this.unlink(e);
    this.pushHead(e);
  }

  add(e: L1Entry): void {
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
