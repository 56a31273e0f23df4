import { ENTRY_OVERHEAD_BYTES, L1Entry } from './l1-entry';
import { LruPartition } from './lru-partition';
import type { NodeStream } from './node-stream';

export type DropReason = 'invalidation' | 'flush' | 'topology' | 'evict' | 'expire' | 'write';

export interface NearCacheBounds {
  maxEntries: number;
  maxBytes: number;
  maxEntriesPerNamespace: number;
  maxBytesPerNamespace: number;
  maxNamespaces: number;
  namespaceOf: ((key: string) => string) | undefined;
}

/**
 * The L1's storage: an LRU per namespace, bounded per namespace and in total (entries and bytes).
 * A namespace over its own bounds evicts its own least recently used entry; over the total, the
 * least recently used entry of any namespace goes (the oldest of the partitions' tails). Knows
 * nothing of coherence beyond what each entry carries: whether its node vouches for it right now
 * (`stream.readable`) is asked at lookup, and dropping by node goes through the node's index.
 */
export class NearCache {
  readonly dropped: Record<DropReason, number> = { invalidation: 0, flush: 0, topology: 0, evict: 0, expire: 0, write: 0 };
  private readonly parts = new Map<string, LruPartition>();
  private readonly single: LruPartition | undefined;
  private entries = 0;
  private bytes = 0;
  private useTick = 0;

  constructor(private readonly b: NearCacheBounds) {
    if (b.namespaceOf === undefined) {
      this.single = new LruPartition('', b.maxEntriesPerNamespace, b.maxBytesPerNamespace);
      this.parts.set('', this.single);
    }
  }

  get size(): number { return this.entries; }
  get byteSize(): number { return this.bytes; }

  /** The entry to serve, or undefined: absent, expired (then removed) or not vouched for now. */
  lookup(key: string, now: number): L1Entry | undefined {
    const part = this.single ?? this.parts.get(this.b.namespaceOf!(key));
    const e = part?.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) { this.removeEntry(part!, e, 'expire'); return undefined; }
    if (!e.stream.readable(now)) return undefined;
    e.usedAt = ++this.useTick; // no relinking: eviction gives it its second chance (LruPartition)
    return e;
  }

  /** Stores a value read from `stream`'s node; false when its namespace cannot be added or it is larger than the bounds. */
  store(key: string, value: unknown, valueBytes: number, version: number, expiresAt: number, stream: NodeStream, seq: number): boolean {
    const ns = this.b.namespaceOf === undefined ? '' : this.b.namespaceOf(key);
    let part = this.single ?? this.parts.get(ns);
    if (part === undefined) {
      if (this.parts.size >= this.b.maxNamespaces) return false;
      part = new LruPartition(ns, this.b.maxEntriesPerNamespace, this.b.maxBytesPerNamespace);
      this.parts.set(ns, part);
    }
    const bytes = ENTRY_OVERHEAD_BYTES + key.length * 2 + valueBytes;
    if (bytes > part.maxBytes || bytes > this.b.maxBytes) return false;
    const old = part.map.get(key);
    if (old !== undefined) return this.replace(part, old, value, bytes, version, expiresAt, stream, seq);
    const e = new L1Entry(key, ns, value, bytes, version, expiresAt, stream, stream.epoch, seq);
    e.usedAt = ++this.useTick;
    part.add(e);
    stream.entries.add(e);
    this.entries++;
    this.bytes += bytes;
    this.evict(part, e);
    return true;
  }

  /** Stores over an existing entry of the same key, in place. */
  private replace(part: LruPartition, e: L1Entry, value: unknown, bytes: number, version: number, expiresAt: number, stream: NodeStream, seq: number): boolean {
    if (e.stream !== stream) {
      e.stream.entries.delete(e);
      stream.entries.add(e);
      e.stream = stream;
    }
    part.bytes += bytes - e.bytes;
    this.bytes += bytes - e.bytes;
    e.value = value;
    e.bytes = bytes;
    e.version = version;
    e.expiresAt = expiresAt;
    e.epoch = stream.epoch;
    e.seq = seq;
    // Stamped as used, not relinked (as a hit): relinking touches two more scattered entries, and
    // eviction gives a used entry its second chance anyway.
    e.usedAt = ++this.useTick;
    this.evict(part, e);
    return true;
  }

  /** Brings `part` and the whole cache back within their bounds, never evicting `keep`. */
  private evict(part: LruPartition, keep: L1Entry): void {
    while (part.overBounds()) {
      const v = part.victim(keep);
      if (v === null) break;
      this.removeEntry(part, v, 'evict');
    }
    while ((this.entries > this.b.maxEntries || this.bytes > this.b.maxBytes) && this.evictGlobal(keep));
  }

  /** `key` changed to `version` (0: gone): drop the entry unless it already holds that version or newer. */
  invalidate(key: string, version: number): boolean {
    const part = this.single ?? this.parts.get(this.b.namespaceOf!(key));
    const e = part?.map.get(key);
    if (e === undefined || (version !== 0 && e.version >= version)) return false;
    this.removeEntry(part!, e, 'invalidation');
    return true;
  }

  remove(key: string, reason: DropReason): boolean {
    const part = this.single ?? this.parts.get(this.b.namespaceOf!(key));
    const e = part?.map.get(key);
    if (e === undefined) return false;
    this.removeEntry(part!, e, reason);
    return true;
  }

  /** Drops every entry `stream`'s node vouched for; returns how many. */
  dropStream(stream: NodeStream, reason: DropReason): number {
    const n = stream.entries.size;
    for (const e of [...stream.entries]) this.removeEntry(this.parts.get(e.ns)!, e, reason);
    return n;
  }

  clear(reason: DropReason): number {
    const n = this.entries;
    for (const part of this.parts.values()) for (const e of [...part.map.values()]) this.removeEntry(part, e, reason);
    return n;
  }

  *all(): IterableIterator<L1Entry> {
    for (const part of this.parts.values()) yield* part.map.values();
  }

  byNamespace(): Record<string, { entries: number; bytes: number }> {
    const out: Record<string, { entries: number; bytes: number }> = {};
    for (const [ns, p] of this.parts) out[ns] = { entries: p.size, bytes: p.bytes };
    return out;
  }

  /** Evicts the least recently used entry of any namespace (never `keep`); false when nothing could go. */
  private evictGlobal(keep: L1Entry): boolean {
    let victim: L1Entry | undefined;
    for (const part of this.parts.values()) {
      const t = part.victim(keep);
      if (t !== null && (victim === undefined || t.usedAt < victim.usedAt)) victim = t;
    }
    if (victim === undefined) return false;
    this.removeEntry(this.parts.get(victim.ns)!, victim, 'evict');
    return true;
  }

  private removeEntry(part: LruPartition, e: L1Entry, reason: DropReason): void {
    if (part.map.get(e.key) !== e) return;
    part.remove(e);
    e.stream.entries.delete(e);
    this.entries--;
    this.bytes -= e.bytes;
    this.dropped[reason]++;
  }
}
