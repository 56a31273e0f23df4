import { CorralError, Ops, type Clock } from '@corral/protocol';
import { hashKey, type HashRing } from '@corral/ring';
import type { Logger } from 'pino';
import type { GetsResult, MemoryStore } from '../memory-store';
import type { ClusterView } from './cluster-view';
import { ownsKey } from './owns-key';
import type { HandoffConfig } from './cluster-config';
import { IncomingArcs, type IncomingArc } from './incoming-arcs';
import type { PeerPool } from './peer-link';

/** One entry as it travels in a HANDOFF batch: [key, value, flags, version, ttlMs (-1 = none)]. */
export type WireEntry = [string, Buffer, number, number, number];

export interface BatchResult { applied: number; stale: number; rejected: number[] }

export interface HandoffReceiverOptions {
  store: MemoryStore;
  view: ClusterView;
  /** Read-through links (short timeout), apart from the bulk handoff links. */
  peers: PeerPool;
  config: HandoffConfig;
  clock: Clock;
  logger: Logger;
  /** False while this node is leaving: it accepts nothing more. */
  accepting: () => boolean;
}

/** Mutations that make this node's copy of a key newer than anything the previous owner holds. */
const LOCAL_WRITES = new Set(['set', 'delete', 'touch', 'incr']);

/**
 * The receiving side of handoff. Applies HANDOFF batches with setIfNewer, so an entry never
 * replaces a newer version, and answers reads that miss here, for a key whose range is still
 * arriving, from the previous owner (HANDOFF_GET), so a rebalance does not show up as misses.
 *
 * Keys written or deleted here while their range is still arriving are remembered ("touched"):
 * the write reached the new owner, so it is newer than the copy on its way whatever the two
 * nodes' clocks say, and a delete must not be undone by a handoff entry or answered from the old
 * owner. The set is bounded (maxTouchedKeys); past it only versions protect writes (deletes are
 * then unprotected: documented in docs/protocol.md) and `touchedOverflow` counts it.
 */
export class HandoffReceiver {
  readonly incoming: IncomingArcs;
  private readonly touched = new Set<string>();
  /**
   * Keys a sender handed over recently. A node that believed it was alone (partitioned) owns
   * everything in its own eyes and accepts batches before its ring catches up; those entries are
   * the current owner's data and must survive the drop of stale copies that the catch-up triggers
   * (the sender deleted its copy once this node took it). Bounded FIFO.
   */
  private readonly handedIn = new Set<string>();
  /** The store's last issued version when the ring last changed: older local copies predate the current ring. */
  private versionAtLastChange = 0;
  /** Set while this receiver itself writes to the store, so its own writes do not count as touches. */
  private applying = false;
  private readonly unwatch: () => void;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly counters = {
    batches: 0, applied: 0, stale: 0, rejected: 0, dropped: 0, touchedOverflow: 0, droppedStaleCopies: 0,
    readThroughs: 0, readThroughHits: 0, readThroughErrors: 0,
  };

  constructor(private readonly o: HandoffReceiverOptions) {
    this.incoming = new IncomingArcs(o.view.selfId);
    this.unwatch = o.store.watch((key, cause) => this.onStoreChange(key, cause));
  }

  start(): void {
    // Unref'd: the sweep only retires read-through for silent senders; it must not hold the process.
    this.sweepTimer = setInterval(() => this.sweep(), Math.min(1000, this.o.config.idleTimeoutMs)).unref();
  }

  private rememberHandedIn(key: string): void {
    this.handedIn.delete(key);
    this.handedIn.add(key);
    if (this.handedIn.size > this.o.config.maxTouchedKeys) this.handedIn.delete(this.handedIn.values().next().value as string);
  }

  stop(): void {
    this.handedIn.clear();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.unwatch();
    this.incoming.clear();
    this.touched.clear();
  }

  /** The ring changed: note the ranges this node gained from members that still hold them. */
  onRingChange(prev: HashRing, next: HashRing, joinedFromAlone: boolean): void {
    const view = this.o.view;
    const gained = this.incoming.onRingChange(prev, next, view.topology().members, view.epoch, this.o.clock.now(), joinedFromAlone);
    if (gained.length > 0) this.dropLocalCopies(gained, this.versionAtLastChange);
    this.versionAtLastChange = this.o.store.versionClock.lastIssued;
    if (this.incoming.size === 0) this.touched.clear();
  }

  /**
   * Entries this node already holds in ranges it just gained predate the range's current owner:
   * a node back from a partition, or a former gutter, would serve them as hits although newer
   * writes went elsewhere meanwhile. Dropping them turns those reads into read-throughs to the
   * owner that has the current value (and the handoff brings it over).
   */
  private dropLocalCopies(gained: readonly IncomingArc[], olderThan: number): void {
    const stale: string[] = [];
    // Only copies older than the previous ring change: what was written here since then was
    // acknowledged while this node owned the key in its own eyes (a partitioned node believes it
    // owns everything) and must not be thrown away; handoff settles it by version.
    for (const e of this.o.store.entries())
      if (e.version <= olderThan && inArcs(gained, hashKey(e.key)) && !this.handedIn.has(e.key) && !this.touched.has(e.key)) stale.push(e.key);
    if (stale.length === 0) return;
    this.applying = true;
    try {
      for (const k of stale) this.o.store.delete(k);
    } finally {
      this.applying = false;
    }
    this.counters.droppedStaleCopies += stale.length;
    this.o.logger.info({ keys: stale.length, arcs: gained.length }, 'handoff_dropped_stale_copies');
  }

  /** HANDOFF: applies a batch. Keys this node does not own under its ring are rejected so the sender keeps them. */
  applyBatch(from: string, epoch: number, entries: WireEntry[], done?: { ring: number }): BatchResult {
    const view = this.o.view;
    const result: BatchResult = { applied: 0, stale: 0, rejected: [] };
    this.counters.batches++;
    this.incoming.heardFrom(from, this.o.clock.now());
    const accepting = this.o.accepting();
    this.applying = true;
    try {
      entries.forEach(([key, value, flags, version, ttlMs], i) => {
        if (!accepting || !ownsKey(view, key)) { result.rejected.push(i); return; }
        if (this.touched.has(key)) { result.stale++; return; }
        try {
          if (this.o.store.setIfNewer(key, { value, flags, version, ...(ttlMs > 0 && { ttlMs }) })) { result.applied++; this.rememberHandedIn(key); }
          else result.stale++;
        } catch (e) {
          // Only E_OOM (an entry larger than max-memory) can land here; it could never be stored, so taking it drops it.
          if (!(e instanceof CorralError)) throw e;
          this.counters.dropped++;
        }
      });
    } finally {
      this.applying = false;
    }
    if (done) this.incoming.done(from, { epoch, ring: done.ring });
    if (this.incoming.size === 0) this.touched.clear();
    this.counters.applied += result.applied;
    this.counters.stale += result.stale;
    this.counters.rejected += result.rejected.length;
    return result;
  }

  /** Whether a miss for `key` should be asked of the previous owner; the owner's id if so. */
  readThroughSource(key: string): string | undefined {
    if (this.incoming.size === 0 || this.touched.has(key)) return undefined;
    if (!ownsKey(this.o.view, key)) return undefined;
    return this.incoming.senderFor(hashKey(key));
  }

  /**
   * Reads a key from the node still holding it. The answer is kept here too (it carries the old
   * owner's version, so the handoff entry that follows is simply stale); a timeout or error is a miss.
   */
  async readThrough(key: string, source: string): Promise<GetsResult | undefined> {
    this.counters.readThroughs++;
    let reply: unknown;
    try {
      reply = await this.o.peers.get(source).request(Ops.HANDOFF_GET, [key]);
    } catch {
      this.counters.readThroughErrors++;
      return undefined;
    }
    // The handoff batch may have landed (and the old owner dropped its copy) while we asked.
    if (!Array.isArray(reply)) {
      const e = this.o.store.peek(key);
      return e && { value: e.value, flags: e.flags, version: e.version, ttlMs: this.o.store.ttl(key) };
    }
    const [value, flags, version, ttlMs] = reply as [Buffer, number, number, number];
    this.counters.readThroughHits++;
    // A write or delete that happened here while we asked wins; so does a range that stopped being ours.
    if (this.readThroughSource(key) === source) {
      this.applying = true;
      try {
        this.o.store.setIfNewer(key, { value, flags, version, ...(ttlMs > 0 && { ttlMs }) });
      } catch { /* E_OOM: serve it anyway, just do not keep it */ } finally {
        this.applying = false;
      }
    }
    return { value, flags, version, ttlMs };
  }

  stats(): Record<string, unknown> {
    return { ...this.counters, pendingArcs: this.incoming.size, pendingBySender: this.incoming.pendingBySender(), touched: this.touched.size };
  }

  private onStoreChange(key: string | null, cause: string): void {
    if (this.applying || this.incoming.size === 0) return;
    if (key === null) {
      // FLUSH: forget what was arriving; reading the old owner's copies through would undo the flush.
      this.incoming.clear();
      this.touched.clear();
      return;
    }
    if (!LOCAL_WRITES.has(cause) || this.incoming.senderFor(hashKey(key)) === undefined) return;
    if (this.touched.size >= this.o.config.maxTouchedKeys) { this.counters.touchedOverflow++; return; }
    this.touched.add(key);
  }

  private sweep(): void {
    const gone = this.incoming.expire(this.o.clock.now(), this.o.config.idleTimeoutMs);
    if (gone.length > 0) this.o.logger.warn({ senders: gone, idleMs: this.o.config.idleTimeoutMs }, 'handoff_sender_silent');
    if (this.incoming.size === 0) this.touched.clear();
  }
}

/** Whether `hash` falls in one of the sorted, non-overlapping arcs (binary search). */
function inArcs(arcs: readonly IncomingArc[], hash: number): boolean {
  let lo = 0;
  let hi = arcs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arcs[mid]!.end < hash) lo = mid + 1;
    else hi = mid;
  }
  const a = arcs[lo];
  return a !== undefined && a.start <= hash;
}
