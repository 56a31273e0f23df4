import type { LruNode } from './lru-list';
import type { TtlSlotted } from './ttl-index';

/**
 * Bytes charged per entry on top of its key and value bytes, so that `maxMemoryBytes` bounds what
 * the process really holds rather than just the payload.
 *
 * Measured with packages/server/scripts/measure-entry-overhead.js (Node 20.20, x64, no pointer
 * compression): N entries (1M for small values, 300k for larger ones) with 16-byte keys are
 * written to a MemoryStore (half with a TTL), and after a full GC the growth of
 * heapUsed + external and of RSS is divided by N, minus the key and value bytes:
 *
 *   value bytes            8     32     64     65   1000   4096
 *   heap+external       370    371    393    377    378    375   bytes/entry over the payload
 *   RSS                  421    410    484    652    590    593
 *
 * Heap+external covers the StoreEntry object, its Map slot at the table's load factor, the key
 * string and the Buffer (typed array + ArrayBuffer objects; values up to 64 bytes live inside the
 * V8 heap). It misses the C++ BackingStore object and malloc header of an off-heap value (>64 B),
 * which RSS shows (~200 bytes more). 512 sits between the two: honest for the heap, and the
 * node's RSS bound (see the memory test) allows for the rest.
 */
export const ENTRY_OVERHEAD_BYTES = 512;

/** One cached entry. It is its own LRU node and TTL-index slot so an entry is one object. */
export class StoreEntry implements LruNode<StoreEntry>, TtlSlotted {
  prev: StoreEntry | null = null;
  next: StoreEntry | null = null;
  ttlSlot = -1;
  /** Ms past expiresAt the entry is kept so LGET can serve it stale (GET never does); 0 = none. */
  graceMs = 0;
  /** How long the load that produced the value took: XFetch's delta, handed back on LGET hits. */
  deltaMs = 0;
  /** The data's version at its source (SETIFNEWER); 0 = the writer did not say. */
  sourceVersion = 0;

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
