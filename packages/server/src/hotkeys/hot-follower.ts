import type { Clock, InvalidationReplay } from '@corral/protocol';

/** What a HOT_SYNC message says, past the ids. */
export interface HotSyncMessage {
  epoch: number;
  fromSeq: number;
  toSeq: number;
  keys: string[];
  versions: number[];
  flush: boolean;
  hot?: string[];
  hotGen?: number;
}

/** The effects of following owners' streams, carried out by the hot-key service. */
export interface HotFollowerEffects {
  /** `key` (owned by `owner`) changed: drop the copy if older than `version`, tell this node's subscribers. */
  invalidate(owner: string, key: string, version: number): void;
  /**
   * Nothing of `owner`'s can be trusted any more: drop every copy of its keys (or those `keep`
   * rejects), and invalidate them and every hot key of the owner this node stops following.
   */
  dropOwner(owner: string, keep?: (key: string) => boolean): void;
  /** Asks the owner to replay its log after `seq` (INVALIDATIONS_SINCE over the peer link). */
  replay(owner: string, epoch: number, seq: number): Promise<InvalidationReplay>;
}

interface OwnerStream {
  epoch: number;
  covered: number;
  /** The furthest `toSeq` heard, including while a repair was running. */
  maxSeen: number;
  lastHeardAt: number;
  hotGen: number;
  hotKeys: Set<string>;
  repairing: boolean;
  /** Moves whenever copies were dropped wholesale: a fetch started before must not store its result. */
  gen: number;
  /** Reads this node served of the owner's hot keys since the last sync (reported in the reply). */
  reads: Map<string, number>;
}

/**
 * This node following other owners' streams of hot-key invalidations (HOT_SYNC), with the same
 * rules as a client's L1: a message starting past `covered + 1` is a gap, repaired by a replay
 * from the owner's log or, when that is impossible, by dropping every copy of that owner's keys; a
 * new epoch (the owner restarted) or silence longer than `silentAfterMs` drops them too. Copies
 * are served only while the owner's stream is in sync and heard from.
 */
export class HotFollower {
  private readonly owners = new Map<string, OwnerStream>();
  readonly counters = { syncs: 0, gaps: 0, replays: 0, replaysLost: 0, silences: 0, epochChanges: 0 };

  constructor(private readonly clock: Clock, private readonly silentAfterMs: number, private readonly fx: HotFollowerEffects) {}

  /** Applies one HOT_SYNC; returns the reads to report back to the owner. */
  onSync(owner: string, m: HotSyncMessage): Array<[string, number]> {
    this.counters.syncs++;
    let s = this.owners.get(owner);
    if (s === undefined || s.epoch !== m.epoch) {
      if (s !== undefined) { this.counters.epochChanges++; this.fx.dropOwner(owner); }
      // A first message (or a restarted owner) is a baseline: nothing of it is held here yet.
      s = { epoch: m.epoch, covered: m.fromSeq - 1, maxSeen: m.fromSeq - 1, lastHeardAt: 0, hotGen: -1, hotKeys: new Set(), repairing: false, gen: (s?.gen ?? 0) + 1, reads: s?.reads ?? new Map() };
      this.owners.set(owner, s);
    }
    s.lastHeardAt = this.clock.now();
    if (!s.repairing && m.fromSeq > s.covered + 1) this.repair(owner, s, s.covered);
    if (m.flush) { this.fx.dropOwner(owner); s.gen++; }
    for (let i = 0; i < m.keys.length; i++) this.fx.invalidate(owner, m.keys[i]!, m.versions[i] ?? 0);
    if (m.hot !== undefined && m.hotGen !== undefined && m.hotGen !== s.hotGen) {
      const hot = new Set(m.hot);
      // Keys that cooled: reads go back to the owner. Dropped while the old set is still known, so
      // the effects can invalidate every key this node stops following.
      this.fx.dropOwner(owner, (k) => hot.has(k));
      s.hotGen = m.hotGen;
      s.hotKeys = hot;
    }
    s.maxSeen = Math.max(s.maxSeen, m.toSeq);
    if (!s.repairing) s.covered = Math.max(s.covered, m.toSeq);
    const reads = [...s.reads];
    s.reads.clear();
    return reads;
  }

  /** Copies of `owner`'s keys may be served: its stream is in sync and it spoke recently. */
  canServe(owner: string): boolean {
    const s = this.owners.get(owner);
    return s !== undefined && !s.repairing && this.clock.now() - s.lastHeardAt <= this.silentAfterMs;
  }

  isHot(owner: string, key: string): boolean {
    return this.owners.get(owner)?.hotKeys.has(key) ?? false;
  }

  /** A token for a fetch of `owner`'s key: the copy may be stored only if it is still current after. */
  generation(owner: string): number {
    return this.owners.get(owner)?.gen ?? -1;
  }

  noteServed(owner: string, key: string): void {
    const s = this.owners.get(owner);
    if (s !== undefined) s.reads.set(key, (s.reads.get(key) ?? 0) + 1);
  }

  /** Owners not heard from within the bound lose their copies (and must send a new baseline). */
  tick(): void {
    const now = this.clock.now();
    for (const [owner, s] of this.owners) {
      if (now - s.lastHeardAt <= this.silentAfterMs) continue;
      this.counters.silences++;
      this.fx.dropOwner(owner);
      this.owners.delete(owner);
    }
  }

  /** The owner left the ring or changed: forget its stream (copies were dropped by the caller). */
  forget(owner: string): void {
    this.owners.delete(owner);
  }

  hotKeysOf(owner: string): string[] {
    return [...(this.owners.get(owner)?.hotKeys ?? [])];
  }

  private repair(owner: string, s: OwnerStream, after: number): void {
    this.counters.gaps++;
    s.repairing = true;
    const fail = () => {
      if (this.owners.get(owner) !== s) return;
      this.counters.replaysLost++;
      this.fx.dropOwner(owner);
      s.gen++;
      // Nothing of the owner's is held now: what was heard meanwhile is the new baseline.
      s.covered = Math.max(s.covered, s.maxSeen);
      s.repairing = false;
    };
    this.fx.replay(owner, s.epoch, after).then((r) => {
      if (this.owners.get(owner) !== s) return;
      if ('lost' in r) { fail(); s.covered = Math.max(s.covered, r.seq); return; }
      this.counters.replays++;
      for (let i = 0; i < r.keys.length; i++) {
        const key = r.keys[i];
        if (key === null) { this.fx.dropOwner(owner); s.gen++; } else if (key !== undefined) this.fx.invalidate(owner, key, r.versions[i] ?? 0);
      }
      s.covered = Math.max(s.covered, r.to);
      s.repairing = false;
    }, fail);
  }
}
