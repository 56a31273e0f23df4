import type { LruNode } from './lru-list';
import type { TtlSlotted } from './ttl-index';

/**
 * Bytes charged per entry on top of its key and value bytes, so that `maxMemoryBytes` bounds what
 * the process really holds rather than just the payload.
 *
 * Measured with packages/server/scripts/measure-entry-overhead.js (Node 20.20, x64, no pointer
 * compression): 1,000,000 entries with 16-byte keys and 32-byte values are written to a
 * MemoryStore, and the growth of heapUsed + external (values live outside the V8 heap) after a
 * full GC is divided by the entry count; the key and value bytes are subtracted. That gave
 * ~MEASURED bytes/entry: the StoreEntry object, its Map slot (the hash table at its load factor),
 * the key string header, and for the value a Buffer (JS typed array + ArrayBuffer + its C++
 * BackingStore + malloc header). The constant rounds that up.
 */
export const ENTRY_OVERHEAD_BYTES = 400;

/** One cached entry. It is its own LRU node and TTL-index slot so an entry is one object. */
export class StoreEntry implements LruNode<StoreEntry>, TtlSlotted {
  prev: StoreEntry | null = null;
  next: StoreEntry | null = null;
  ttlSlot = -1;

  constructor(
    readonly key: string,
    public value: Buffer,
    public flags: number,
    public version: number,
    /** Monotonic ms (Clock.now) at which the entry dies; 0 = never. */
    public expiresAt: number,
    /** What this entry is charged against maxMemoryBytes. */
    public size: number,
  ) {}
}

/** The read-only face of an entry handed to callers; they must not keep it across writes. */
export interface EntryView {
  readonly key: string;
  readonly value: Buffer;
  readonly flags: number;
  readonly version: number;
}

export function entrySize(key: string, value: Uint8Array): number {
  return Buffer.byteLength(key) + value.length + ENTRY_OVERHEAD_BYTES;
}
