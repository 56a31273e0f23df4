/** A node that can sit in an LruList: the links live on the entry itself, so the list allocates nothing. */
export interface LruNode<T> {
  prev: T | null;
  next: T | null;
}

/**
 * Intrusive doubly linked list in recency order: head = most recently used, tail = the next
 * victim. Intrusive because a separate list node per entry would cost another object (~40 bytes)
 * per key, which in a byte-bounded cache is memory not available for values.
 */
export class LruList<T extends LruNode<T>> {
  private head: T | null = null;
  private tail: T | null = null;

  pushFront(n: T): void {
    n.prev = null;
    n.next = this.head;
    if (this.head) this.head.prev = n;
    this.head = n;
    if (!this.tail) this.tail = n;
  }

  remove(n: T): void {
    if (n.prev) n.prev.next = n.next;
    else if (this.head === n) this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else if (this.tail === n) this.tail = n.prev;
    n.prev = null;
    n.next = null;
  }

  moveToFront(n: T): void {
    if (this.head === n) return;
    this.remove(n);
    this.pushFront(n);
  }

  /** The least recently used node. */
  peekTail(): T | null { return this.tail; }

  /** Most recently used first (snapshots keep the hottest). The list must not change while this runs. */
  *fromHead(): IterableIterator<T> {
    for (let n = this.head; n !== null; n = n.next) yield n;
  }

  clear(): void {
    this.head = null;
    this.tail = null;
  }
}
