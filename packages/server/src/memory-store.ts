import { CorralError, integerBytes, systemClock, valueAsInteger, ValueFlags, type Clock } from '@corral/protocol';
import { LruList } from './lru-list';
import { entrySize, StoreEntry, type EntryView } from './store-entry';
import { TtlIndex } from './ttl-index';
import { VersionClock } from './version-clock';

export type ChangeCause = 'set' | 'delete' | 'expire' | 'evict' | 'flush' | 'touch' | 'incr';
/** Called after each mutation. `key` is null for a flush (every key at once). Must be cheap. */
export type ChangeListener = (key: string | null, cause: ChangeCause) => void;

export interface MemoryStoreOptions {
  maxMemoryBytes: number;
  clock?: Clock;
  onChange?: ChangeListener;
  /** Source of randomness for active-expiry sampling (tests may pin it). */
  random?: () => number;
}

export interface SetOptions {
  /** Time to live in ms; 0 or absent = no expiry (a plain set clears an earlier TTL). */
  ttlMs?: number;
  flags?: number;
  nx?: boolean;
  xx?: boolean;
  /** Compare-and-set: write only if the live entry has exactly this version. */
  ifVersion?: number;
  /** Keep the entry this long past expiry for LGET's stale reads (leases/); GET treats it as gone. */
  graceMs?: number;
  /** How long the load behind this value took (XFetch's delta). */
  deltaMs?: number;
  /** The data's version at its source, stored with the entry. */
  sourceVersion?: number;
  /** Write only if `sourceVersion` is newer than the stored one (live or stale); else return null. */
  ifSourceNewer?: boolean;
}

/** LGET's view of a key: live, or past expiry but within its grace (stale). */
export interface GraceLookup {
  entry: EntryView & { readonly deltaMs: number };
  stale: boolean;
  /** Remaining ms (-1 = no expiry) when live; 0 when stale. */
  ttlMs: number;
  /** How long ago it expired, when stale. */
  staleForMs: number;
}

export interface GetsResult { value: Buffer; flags: number; version: number; ttlMs: number }

/**
 * An entry as it travels between nodes or processes: TTL is relative because monotonic clocks are
 * per process. The lease metadata is optional: a sender that has it (a snapshot) passes it on.
 */
export interface PortableEntry {
  value: Buffer; flags: number; version: number; ttlMs?: number;
  graceMs?: number; deltaMs?: number; sourceVersion?: number;
}
export interface ExportedEntry extends PortableEntry { key: string; ttlMs: number }
/** An exported entry with everything stored beside its value (what a snapshot keeps). */
export interface FullEntry extends ExportedEntry { graceMs: number; deltaMs: number; sourceVersion: number }

export interface StoreStats {
  keys: number;
  keysWithTtl: number;
  bytesUsed: number;
  maxMemoryBytes: number;
  evictions: number;
  expirations: number;
  hits: number;
  misses: number;
  listenerErrors: number;
}

/** What a lease-aware write stores beside the value (see StoreEntry). */
interface EntryMeta { graceMs: number; deltaMs: number; sourceVersion: number }

function applyMeta(e: StoreEntry, m: EntryMeta): void {
  e.graceMs = m.graceMs;
  e.deltaMs = m.deltaMs;
  e.sourceVersion = m.sourceVersion;
}

/** Active expiry, as Redis does it: sample, and go again only while the sample was mostly expired. */
export const ActiveExpiry = {
  samplesPerRound: 20,
  repeatAboveFraction: 0.25,
  /** Per cycle, so one cycle never stalls the event loop for long. */
  budgetMs: 10,
  /** A cap that does not depend on time, for clocks that do not move (fake timers). */
  maxRoundsPerCycle: 1000,
} as const;

/**
 * The byte-bounded LRU store with TTLs and versions. Pure: no sockets, no timers (the node runs
 * `expireCycle()` from a timer), time from the injected Clock.
 *
 * Values are kept as given, not copied: callers pass Buffers that own their memory (the frame
 * decoder copies values out of socket chunks), otherwise a small value could pin a large chunk.
 */
export class MemoryStore {
  readonly maxMemoryBytes: number;
  private readonly map = new Map<string, StoreEntry>();
  private readonly lru = new LruList<StoreEntry>();
  private readonly ttls = new TtlIndex<StoreEntry>();
  private readonly clock: Clock;
  private readonly versions: VersionClock;
  private readonly random: () => number;
  private listener: ChangeListener | undefined;
  /** Lease and lock tables: they must hear every write and delete, even of an absent key. */
  private watchers: ChangeListener[] = [];
  private used = 0;
  private evictions = 0;
  private expirations = 0;
  private hits = 0;
  private misses = 0;
  private listenerErrors = 0;

  constructor(opts: MemoryStoreOptions) {
    if (!(opts.maxMemoryBytes > 0)) throw new RangeError(`maxMemoryBytes must be > 0, got ${opts.maxMemoryBytes}`);
    this.maxMemoryBytes = opts.maxMemoryBytes;
    this.clock = opts.clock ?? systemClock;
    this.versions = new VersionClock(this.clock);
    this.random = opts.random ?? Math.random;
    this.listener = opts.onChange;
  }

  set onChange(fn: ChangeListener | undefined) { this.listener = fn; }

  get size(): number { return this.map.size; }
  get bytesUsed(): number { return this.used; }
  /** The node's hybrid logical clock; lock fencing tokens come from it too (locks/). */
  get versionClock(): VersionClock { return this.versions; }

  /**
   * Another listener, next to onChange. Unlike onChange it also hears a delete of a key that is
   * absent, because that delete still has to void a lease taken on the miss.
   */
  watch(fn: ChangeListener): () => void {
    this.watchers.push(fn);
    return () => { this.watchers = this.watchers.filter((w) => w !== fn); };
  }

  /** For LGET: the live entry, or the expired one while within its grace. `read` marks it used and counts it. */
  lookupWithGrace(key: string, read = true): GraceLookup | undefined {
    const e = this.map.get(key);
    const now = this.clock.now();
    let found: GraceLookup | undefined;
    if (e !== undefined && e.expiresAt !== 0 && e.expiresAt <= now) {
      if (e.expiresAt + e.graceMs <= now) this.expire(e);
      else found = { entry: e, stale: true, ttlMs: 0, staleForMs: now - e.expiresAt };
    } else if (e !== undefined) {
      found = { entry: e, stale: false, ttlMs: this.remainingAt(e, now), staleForMs: 0 };
    }
    if (read) {
      if (found !== undefined && !found.stale) this.hits++;
      else this.misses++;
      if (e !== undefined && found !== undefined) this.lru.moveToFront(e);
    }
    return found;
  }

  /** Reads a value and marks it recently used. */
  get(key: string): EntryView | undefined {
    return this.read(key);
  }

  /** Reads without touching recency or hit counters (for admin tools and handoff). */
  peek(key: string): EntryView | undefined {
    return this.live(key);
  }

  gets(key: string): GetsResult | undefined {
    const e = this.read(key);
    return e && { value: e.value, flags: e.flags, version: e.version, ttlMs: this.remaining(e) };
  }

  exists(key: string): boolean {
    return this.live(key) !== undefined;
  }

  /** Remaining ms, -1 without expiry, -2 when missing (the Redis PTTL convention). */
  ttl(key: string): number {
    const e = this.live(key);
    return e === undefined ? -2 : this.remaining(e);
  }

  /** Returns the new version, or null when an nx/xx condition was not met. */
  set(key: string, value: Buffer, opts: SetOptions = {}): number | null {
    if (opts.nx && opts.xx) throw new CorralError('E_BAD_ARGS', 'nx and xx together can never succeed');
    const size = this.checkFits(key, value);
    const cur = this.live(key);
    if (opts.ifVersion !== undefined && (cur === undefined || cur.version !== opts.ifVersion))
      throw new CorralError('E_CAS_MISMATCH', `version is ${cur ? cur.version : 'absent'}, expected ${opts.ifVersion}`,
        { version: cur ? cur.version : null });
    if (opts.nx && cur !== undefined) return null;
    if (opts.xx && cur === undefined) return null;
    if (opts.ifSourceNewer) {
      const held = cur ?? this.map.get(key); // a stale entry still knows what it was built from
      if (held !== undefined && held.sourceVersion >= (opts.sourceVersion ?? 0)) return null;
    }
    const version = this.versions.next(cur?.version);
    this.write(cur, key, value, opts.flags ?? 0, version, this.expiryFor(opts.ttlMs), size,
      { graceMs: opts.graceMs ?? 0, deltaMs: opts.deltaMs ?? 0, sourceVersion: opts.sourceVersion ?? 0 });
    this.emit(key, 'set');
    return version;
  }

  /**
   * Writes an entry that carries its own version (handoff, replication) unless this store already
   * holds the same or a newer version. Returns whether it was written.
   */
  setIfNewer(key: string, entry: PortableEntry): boolean {
    const size = this.checkFits(key, entry.value);
    const cur = this.live(key);
    if (cur !== undefined && cur.version >= entry.version) return false;
    this.versions.observe(entry.version);
    const hasMeta = entry.graceMs !== undefined || entry.deltaMs !== undefined || entry.sourceVersion !== undefined;
    const meta = hasMeta ? { graceMs: entry.graceMs ?? 0, deltaMs: entry.deltaMs ?? 0, sourceVersion: entry.sourceVersion ?? 0 } : undefined;
    this.write(cur, key, entry.value, entry.flags, entry.version, this.expiryFor(entry.ttlMs), size, meta);
    this.emit(key, 'set');
    return true;
  }

  delete(key: string): boolean {
    const e = this.live(key);
    if (e === undefined) {
      // A delete also ends a stale (grace) copy, and voids leases even when nothing was there.
      const stale = this.map.get(key);
      if (stale !== undefined) { this.unlink(stale); this.emit(key, 'delete'); } else this.notifyWatchers(key, 'delete');
      return false;
    }
    this.unlink(e);
    this.emit(key, 'delete');
    return true;
  }

  /**
   * Changes the TTL (0 = none) and marks the entry used. The version is kept: the value did not
   * change, so a CAS taken before a touch still holds (as in memcached).
   */
  touch(key: string, ttlMs: number): boolean {
    const e = this.live(key);
    if (e === undefined) return false;
    this.setExpiry(e, this.expiryFor(ttlMs));
    this.lru.moveToFront(e);
    this.emit(key, 'touch');
    return true;
  }

  /** Adds to an integer value (missing = 0), keeping an existing TTL; `ttlMs` applies on create. */
  incrBy(key: string, delta: number, ttlMs?: number): number {
    const cur = this.live(key);
    const base = cur === undefined ? 0 : valueAsInteger(cur.value, cur.flags);
    if (base === undefined) throw new CorralError('E_NOT_INTEGER');
    const result = base + delta;
    if (!Number.isSafeInteger(result)) throw new CorralError('E_OVERFLOW', `${base} + ${delta} leaves the safe integer range`);
    const bytes = integerBytes(result);
    const size = this.checkFits(key, bytes);
    const expiresAt = cur === undefined ? this.expiryFor(ttlMs) : cur.expiresAt;
    this.write(cur, key, bytes, ValueFlags.Integer, this.versions.next(cur?.version), expiresAt, size);
    this.emit(key, 'incr');
    return result;
  }

  /** Removes everything; returns how many entries there were. */
  flush(): number {
    const n = this.map.size;
    this.map.clear();
    this.lru.clear();
    this.ttls.clear();
    this.used = 0;
    this.emit(null, 'flush');
    return n;
  }

  /**
   * Live entries in insertion order (a Map iterator: keys written during iteration may or may
   * not be seen, deleted ones are not). Does not touch recency, does not expire anything.
   */
  *entries(): IterableIterator<ExportedEntry> {
    const now = this.clock.now();
    for (const e of this.map.values()) {
      if (e.expiresAt !== 0 && e.expiresAt <= now) continue;
      yield { key: e.key, value: e.value, flags: e.flags, version: e.version, ttlMs: this.remainingAt(e, now) };
    }
  }

  /**
   * Up to `limit` live entries, most recently used first: the LRU order is the node's measure of
   * which keys are hot (snapshots). Does not touch recency. The store must not change while the
   * iterator is in use; collect first if anything else could run in between.
   */
  *hottest(limit: number): IterableIterator<FullEntry> {
    const now = this.clock.now();
    let n = 0;
    for (const e of this.lru.fromHead()) {
      if (n >= limit) return;
      if (e.expiresAt !== 0 && e.expiresAt <= now) continue;
      n++;
      yield {
        key: e.key, value: e.value, flags: e.flags, version: e.version, ttlMs: this.remainingAt(e, now),
        graceMs: e.graceMs, deltaMs: e.deltaMs, sourceVersion: e.sourceVersion,
      };
    }
  }

  /**
   * One round of active expiry: sample entries with a TTL at random, drop the expired ones, and go
   * again while more than a quarter of a sample was expired, within a time budget. Returns how
   * many entries it removed. Cost is proportional to the expired fraction, not the key count.
   */
  expireCycle(): number {
    const start = this.clock.now();
    let removed = 0;
    for (let round = 0; round < ActiveExpiry.maxRoundsPerCycle && this.ttls.size > 0; round++) {
      const now = this.clock.now();
      if (round > 0 && now - start > ActiveExpiry.budgetMs) break;
      const n = Math.min(ActiveExpiry.samplesPerRound, this.ttls.size);
      let hit = 0;
      for (let i = 0; i < n; i++) {
        const e = this.ttls.sample(this.random);
        if (e !== undefined && e.expiresAt + e.graceMs <= now) {
          this.expire(e);
          hit++;
        }
      }
      removed += hit;
      if (hit <= n * ActiveExpiry.repeatAboveFraction) break;
    }
    return removed;
  }

  stats(): StoreStats {
    return {
      keys: this.map.size,
      keysWithTtl: this.ttls.size,
      bytesUsed: this.used,
      maxMemoryBytes: this.maxMemoryBytes,
      evictions: this.evictions,
      expirations: this.expirations,
      hits: this.hits,
      misses: this.misses,
      listenerErrors: this.listenerErrors,
    };
  }

  private read(key: string): StoreEntry | undefined {
    const e = this.live(key);
    if (e === undefined) { this.misses++; return undefined; }
    this.hits++;
    this.lru.moveToFront(e);
    return e;
  }

  /** The entry if present and not expired; an expired one is removed on the way (lazy expiry). */
  private live(key: string): StoreEntry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt !== 0 && e.expiresAt <= this.clock.now()) {
      // Within its grace an expired entry stays for LGET (stale-while-revalidate) but is gone for everyone else.
      if (e.expiresAt + e.graceMs <= this.clock.now()) this.expire(e);
      return undefined;
    }
    return e;
  }

  private checkFits(key: string, value: Uint8Array): number {
    const size = entrySize(key, value);
    if (size > this.maxMemoryBytes)
      throw new CorralError('E_OOM', `entry needs ${size} bytes, max-memory is ${this.maxMemoryBytes}`);
    return size;
  }

  private write(cur: StoreEntry | undefined, key: string, value: Buffer, flags: number, version: number,
    expiresAt: number, size: number, meta?: EntryMeta): void {
    if (cur === undefined) {
      const stale = this.map.get(key);
      if (stale !== undefined) this.unlink(stale); // an expired copy kept for its grace
      const e = new StoreEntry(key, value, flags, version, 0, size);
      if (meta !== undefined) applyMeta(e, meta);
      this.map.set(key, e);
      this.lru.pushFront(e);
      this.setExpiry(e, expiresAt);
      this.used += size;
    } else {
      this.used += size - cur.size;
      cur.value = value;
      cur.flags = flags;
      cur.version = version;
      cur.size = size;
      if (meta !== undefined) applyMeta(cur, meta); // absent (INCRBY): the entry keeps its own
      this.setExpiry(cur, expiresAt);
      this.lru.moveToFront(cur);
    }
    // The entry just written sits at the head and is <= maxMemoryBytes, so this never evicts it.
    while (this.used > this.maxMemoryBytes) {
      const victim = this.lru.peekTail();
      if (victim === null) break;
      this.unlink(victim);
      this.evictions++;
      this.emit(victim.key, 'evict');
    }
  }

  private setExpiry(e: StoreEntry, expiresAt: number): void {
    e.expiresAt = expiresAt;
    if (expiresAt === 0) this.ttls.remove(e);
    else this.ttls.add(e);
  }

  private expiryFor(ttlMs: number | undefined): number {
    return ttlMs !== undefined && ttlMs > 0 ? this.clock.now() + ttlMs : 0;
  }

  private remaining(e: StoreEntry): number {
    return this.remainingAt(e, e.expiresAt === 0 ? 0 : this.clock.now());
  }

  private remainingAt(e: StoreEntry, now: number): number {
    // Rounded up: a live entry never reports 0, which callers would read as "no expiry".
    return e.expiresAt === 0 ? -1 : Math.max(1, Math.ceil(e.expiresAt - now));
  }

  private expire(e: StoreEntry): void {
    this.unlink(e);
    this.expirations++;
    this.emit(e.key, 'expire');
  }

  private unlink(e: StoreEntry): void {
    this.map.delete(e.key);
    this.lru.remove(e);
    this.ttls.remove(e);
    this.used -= e.size;
  }

  private notifyWatchers(key: string | null, cause: ChangeCause): void {
    for (const w of this.watchers) {
      try { w(key, cause); } catch { this.listenerErrors++; }
    }
  }

  private emit(key: string | null, cause: ChangeCause): void {
    if (this.watchers.length > 0) this.notifyWatchers(key, cause);
    if (this.listener === undefined) return;
    // A failing subscriber must not leave the store half-mutated (e.g. mid-eviction over the bound).
    try {
      this.listener(key, cause);
    } catch {
      this.listenerErrors++;
    }
  }
}
