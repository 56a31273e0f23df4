import { CorralError, Ops, type Clock } from '@corral/protocol';
import { hashKey, type HashRing } from '@corral/ring';
import type { Logger } from 'pino';
import type { GetsResult, MemoryStore } from '../memory-store';
import type { ClusterView } from './cluster-view';
import { ownsKey } from './owns-key';
import type { HandoffConfig } from './cluster-config';
import { IncomingArcs } from './incoming-arcs';
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
   * Keys whose copy here is known to be at least as new as the previous owner's: handed in by it,
   * or compared with its copy on a read. Their reads need not ask it again. Bounded FIFO (a key
   * that falls out is merely compared once more).
   */
  private readonly settled = new Set<string>();
  /** Set while this receiver itself writes to the store, so its own writes do not count as touches. */
  private applying = false;
  private readonly unwatch: () => void;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly counters = {
    batches: 0, applied: 0, stale: 0, rejected: 0, dropped: 0, touchedOverflow: 0,
    readThroughs: 0, readThroughHits: 0, readThroughErrors: 0, readThroughNewer: 0,
  };

  constructor(private readonly o: HandoffReceiverOptions) {
    this.incoming = new IncomingArcs(o.view.selfId);
    this.unwatch = o.store.watch((key, cause) => this.onStoreChange(key, cause));
  }

  start(): void {
    // Unref'd: the sweep only retires read-through for silent senders; it must not hold the process.
    this.sweepTimer = setInterval(() => this.sweep(), Math.min(1000, this.o.config.idleTimeoutMs)).unref();
  }

  private settle(key: string): void {
    this.settled.delete(key);
    this.settled.add(key);
    if (this.settled.size > this.o.config.maxTouchedKeys) this.settled.delete(this.settled.values().next().value as string);
  }

  stop(): void {
    this.settled.clear();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.unwatch();
    this.incoming.clear();
    this.touched.clear();
  }

  /**
   * The ring changed: note the ranges this node gained from members that still hold them. What
   * this node already holds in those ranges is kept, but it predates the change (a node back from
   * a partition, a former gutter): until the range's previous owner is done, a read of such a
   * copy compares it with the previous owner's (readThroughSource), and handoff entries replace
   * it only if newer. Throwing such copies away instead would lose every key that was not
   * rewritten elsewhere meanwhile, whose only copy they are.
   */
  onRingChange(prev: HashRing, next: HashRing, joinedFromAlone: boolean): void {
    const view = this.o.view;
    const lastIssued = this.o.store.versionClock.lastIssued;
    const gained = this.incoming.onRingChange(prev, next, view.topology().members, view.epoch, this.o.clock.now(), joinedFromAlone, lastIssued);
    if (gained.length > 0) this.o.logger.debug({ arcs: gained.length, pending: this.incoming.size, rejoining: this.incoming.rejoining }, 'handoff_expecting');
    if (this.incoming.size === 0) { this.touched.clear(); this.settled.clear(); }
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
          if (this.o.store.setIfNewer(key, { value, flags, version, ...(ttlMs > 0 && { ttlMs }) })) result.applied++;
          else result.stale++;
          this.settle(key);
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
    if (this.incoming.size === 0) { this.touched.clear(); this.settled.clear(); }
    this.counters.applied += result.applied;
    this.counters.stale += result.stale;
    this.counters.rejected += result.rejected.length;
    return result;
  }

  /**
   * Whether a read of `key` should ask the range's previous owner first; that owner's id if so.
   * `localVersion` is the version of the copy held here (undefined: a miss). A miss asks while the
   * range is still arriving; so does a copy that predates the range becoming this node's, unless it
   * was settled since (handed in, or compared on an earlier read). A key written here since is
   * this node's alone.
   */
  readThroughSource(key: string, localVersion?: number): string | undefined {
    if (this.incoming.size === 0 || this.touched.has(key)) return undefined;
    if (!ownsKey(this.o.view, key)) return undefined;
    const arc = this.incoming.arcFor(hashKey(key));
    if (arc === undefined) return undefined;
    if (localVersion !== undefined && (localVersion > arc.suspectBelow || this.settled.has(key))) return undefined;
    return arc.from;
  }

  /**
   * Reads a key from the node that held it before this one and answers with the newer of its copy
   * and this node's (if any). A newer copy is kept here too (with its version, so the handoff
   * entry that follows is simply stale). When the other node cannot be asked in time the answer
   * is a miss, unless this node's copy no longer needs the comparison.
   */
  async readThrough(key: string, source: string): Promise<GetsResult | undefined> {
    this.counters.readThroughs++;
    const here = (): GetsResult | undefined => {
      const e = this.o.store.peek(key);
      return e && { value: e.value, flags: e.flags, version: e.version, ttlMs: this.o.store.ttl(key) };
    };
    let reply: unknown;
    try {
      reply = await this.o.peers.get(source).request(Ops.HANDOFF_GET, [key]);
    } catch {
      this.counters.readThroughErrors++;
      // Unanswered: a copy here that still needed the comparison may be older than the one the
      // other node holds, so it is a miss (the application loads the current value from its
      // source); one that no longer needs it (settled, written here, range done) is the answer.
      const mine = here();
      return mine !== undefined && this.readThroughSource(key, mine.version) === undefined ? mine : undefined;
    }
    // Nothing there: the handoff batch may have landed (and the old owner dropped its copy) while we asked.
    if (!Array.isArray(reply)) return here();
    const [value, flags, version, ttlMs] = reply as [Buffer, number, number, number];
    this.counters.readThroughHits++;
    const theirs: GetsResult = { value, flags, version, ttlMs };
    // A write or delete that happened here while we asked wins.
    if (this.touched.has(key)) return here();
    const mine = here();
    const newer = mine !== undefined && mine.version >= version ? mine : theirs;
    // A range that stopped being ours (or arrived meanwhile): answer, but keep nothing.
    if (this.readThroughSource(key) !== source) return newer;
    if (mine === undefined || version > mine.version) {
      this.counters.readThroughNewer++;
      this.applying = true;
      try {
        this.o.store.setIfNewer(key, { value, flags, version, ...(ttlMs > 0 && { ttlMs }) });
      } catch {
        return theirs; // E_OOM: serve it anyway, just do not keep it
      } finally {
        this.applying = false;
      }
    }
    this.settle(key);
    return newer;
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
