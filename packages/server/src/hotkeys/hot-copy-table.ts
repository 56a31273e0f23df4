import type { Clock } from '@corral/protocol';

/** A copy of another owner's hot key, as its owner returned it (same version). */
export interface HotCopy {
  owner: string;
  value: Buffer;
  flags: number;
  version: number;
  /** Monotonic ms; 0 = no expiry. */
  expiresAt: number;
  bytes: number;
  /** Reads this copy served (for HOTKEYS). */
  served: number;
}

const COPY_OVERHEAD_BYTES = 96;

/**
 * Copies of hot keys owned by other nodes. Kept apart from the store on purpose: the store's keys
 * are the ones this node owns (handoff would ship a copy to its owner as if it were data, and the
 * owner's ring would count it twice). Bounded by count and bytes; a copy that does not fit is
 * simply not kept (reads then go to the owner). Every removal is returned to the caller, which
 * must put it in this node's invalidation stream: clients may hold what this node served.
 */
export class HotCopyTable {
  private readonly copies = new Map<string, HotCopy>();
  private bytes = 0;

  constructor(private readonly clock: Clock, readonly maxCopies: number, readonly maxBytes: number) {}

  get size(): number { return this.copies.size; }
  get byteSize(): number { return this.bytes; }

  /** A live copy; an expired one is removed and reported through `expired`. */
  get(key: string, expired: (key: string, copy: HotCopy) => void): HotCopy | undefined {
    const c = this.copies.get(key);
    if (c === undefined) return undefined;
    if (c.expiresAt !== 0 && c.expiresAt <= this.clock.now()) {
      this.remove(key, c);
      expired(key, c);
      return undefined;
    }
    return c;
  }

  /** Stores a copy (replacing an older one); false when it would not fit. */
  put(key: string, owner: string, value: Buffer, flags: number, version: number, ttlMs: number): boolean {
    const bytes = COPY_OVERHEAD_BYTES + key.length * 2 + value.length;
    const old = this.copies.get(key);
    if (old !== undefined && old.version > version) return false;
    const freed = old?.bytes ?? 0;
    if (this.bytes - freed + bytes > this.maxBytes || (old === undefined && this.copies.size >= this.maxCopies)) return false;
    if (old !== undefined) this.remove(key, old);
    this.copies.set(key, {
      owner, value, flags, version, bytes, served: old?.served ?? 0,
      expiresAt: ttlMs > 0 ? this.clock.now() + ttlMs : 0,
    });
    this.bytes += bytes;
    return true;
  }

  /** Drops the copy if it is older than `version` (0: whatever its version). */
  invalidate(key: string, version: number): HotCopy | undefined {
    const c = this.copies.get(key);
    if (c === undefined || (version !== 0 && c.version >= version)) return undefined;
    this.remove(key, c);
    return c;
  }

  /** Drops every copy of `owner`'s keys (or those `keep` rejects); returns their keys. */
  dropOwner(owner: string, keep: (key: string) => boolean = () => false): string[] {
    const out: string[] = [];
    for (const [key, c] of this.copies) if (c.owner === owner && !keep(key)) { this.remove(key, c); out.push(key); }
    return out;
  }

  /** Drops copies whose owner is no longer `ownerOf(key)` (the ring moved). */
  dropMoved(ownerOf: (key: string) => string): Array<{ key: string; owner: string }> {
    const out: Array<{ key: string; owner: string }> = [];
    for (const [key, c] of this.copies) if (ownerOf(key) !== c.owner) { this.remove(key, c); out.push({ key, owner: c.owner }); }
    return out;
  }

  list(): Array<{ key: string; owner: string; version: number; served: number }> {
    return [...this.copies].map(([key, c]) => ({ key, owner: c.owner, version: c.version, served: c.served }));
  }

  private remove(key: string, c: HotCopy): void {
    this.copies.delete(key);
    this.bytes -= c.bytes;
  }
}
