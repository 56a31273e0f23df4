import { encodedUpdateSize } from './message-codec';
import type { Update } from './messages';

interface QueuedUpdate {
  update: Update;
  bytes: number;
  transmits: number;
  /** Enqueue order; among equally-transmitted updates the newest goes first. */
  order: number;
}

/**
 * Updates waiting to be piggybacked on probe traffic. One entry per member: a newer update about a
 * member replaces the older one, which would only be overridden on arrival anyway. Each entry is
 * sent `limit` times (retransmitMult·log10(N+1)), least-transmitted first so fresh news is never
 * starved by old news when the packet is full.
 */
export class GossipQueue {
  private readonly entries = new Map<string, QueuedUpdate>();
  private counter = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  enqueue(update: Update): void {
    this.entries.delete(update.id);
    this.entries.set(update.id, { update, bytes: encodedUpdateSize(update), transmits: 0, order: this.counter++ });
    if (this.entries.size > this.maxEntries) this.evictMostTransmitted();
  }

  /** Transmit count of the pending update about `id`, for tests and leave(). */
  transmitsOf(id: string): number | undefined {
    return this.entries.get(id)?.transmits;
  }

  /**
   * Picks updates whose encoded sizes sum to at most `budgetBytes`, counts them as transmitted
   * and forgets those that reached `limit`.
   */
  take(budgetBytes: number, limit: number): Update[] {
    if (this.entries.size === 0) return [];
    const ranked = [...this.entries.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order);
    const picked: Update[] = [];
    let used = 0;
    for (const entry of ranked) {
      if (entry.transmits >= limit) {
        this.entries.delete(entry.update.id);
        continue;
      }
      if (used + entry.bytes > budgetBytes) continue;
      used += entry.bytes;
      picked.push(entry.update);
      entry.transmits++;
      if (entry.transmits >= limit) this.entries.delete(entry.update.id);
    }
    return picked;
  }

  clear(): void {
    this.entries.clear();
  }

  private evictMostTransmitted(): void {
    let worst: QueuedUpdate | undefined;
    for (const entry of this.entries.values()) {
      if (!worst || entry.transmits > worst.transmits || (entry.transmits === worst.transmits && entry.order < worst.order)) {
        worst = entry;
      }
    }
    if (worst) this.entries.delete(worst.update.id);
  }
}
