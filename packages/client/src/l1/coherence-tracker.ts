import type { Clock, InvalidationMessage, InvalidationReplay } from '@corral/protocol';
import { arcContains, hashKey, type MovedArc } from '@corral/ring';
import { HotKeyDirectory } from './hot-key-directory';
import { InflightReads, type ReadToken } from './inflight-reads';
import { newL1Counters, type FlushReason, type L1Counters } from './l1-stats';
import type { NearCache } from './near-cache';
import { NodeStream } from './node-stream';

/** What the tracker asks of the connections (MemberWatch does it). */
export interface CoherenceEffects {
  /** INVALIDATIONS_SINCE on the node's connection. */
  replay(node: string, epoch: number, seq: number): Promise<InvalidationReplay>;
  /** Subscribe again (the stream's position was lost: new epoch, failed replay). */
  resubscribe(node: string): void;
}

/** Messages kept while a subscribe reply is being handled; past it the next one shows a gap (and is replayed). */
const MAX_QUEUED = 10_000;

/** A value read from a node, ready to be cached. */
export interface Fill { value: unknown; valueBytes: number; version: number; ttlMs: number }

/**
 * Enforces the L1's coherence rules, per node stream:
 *   - every key an Invalidate push (or a replay) names is dropped from the L1, wherever it came
 *     from, and spoils reads of it still out;
 *   - a message that starts past `covered + 1` is a gap: the missed range is asked for
 *     (INVALIDATIONS_SINCE) and the node's entries are not served until it is in; if the log no
 *     longer has it, or the node's stream epoch changed (a restart), everything from the node goes;
 *   - a lost connection, or no word from the node within its heartbeat timeout, drops its entries;
 *   - a read whose key was invalidated while it was out is not cached (InflightReads);
 *   - a topology change drops the entries of the ranges that moved.
 */
export class CoherenceTracker {
  readonly inflight = new InflightReads();
  readonly hot = new HotKeyDirectory();
  readonly counters: L1Counters = newL1Counters();
  private readonly streams = new Map<string, NodeStream>();
  private topologyGen = 0;

  constructor(
    readonly cache: NearCache,
    private readonly clock: Clock,
    private readonly fx: CoherenceEffects,
    private readonly maxTtlMs: number,
    private readonly heartbeatTimeoutMs: number | undefined,
  ) {}

  stream(node: string): NodeStream {
    let s = this.streams.get(node);
    if (s === undefined) { s = new NodeStream(node, this.heartbeatTimeoutMs); this.streams.set(node, s); }
    return s;
  }

  nodes(): string[] { return [...this.streams.keys()]; }

  /** A read is about to leave for `node`. */
  beginRead(key: string, node: string): ReadToken {
    return this.inflight.begin(key, this.stream(node), this.topologyGen);
  }

  /** The read came back; caches it if nothing spoiled it. Returns whether it was cached. */
  fill(t: ReadToken, f: Fill | undefined): boolean {
    this.inflight.end(t);
    if (f === undefined) return false;
    if (t.poisoned || f.version < t.minVersion) { this.counters.fillsRefused++; return false; }
    const s = t.stream;
    if (t.gen !== s.gen || t.topologyGen !== this.topologyGen || !s.fillable()) { this.counters.fillsRefusedUnsynced++; return false; }
    const now = this.clock.now();
    const ttl = f.ttlMs > 0 ? Math.min(f.ttlMs, this.maxTtlMs) : this.maxTtlMs;
    if (!this.cache.store(t.key, f.value, f.valueBytes, f.version, now + ttl, s, t.seq)) return false;
    this.counters.fills++;
    return true;
  }

  /** The read failed or its reply is not to be cached. */
  abandon(t: ReadToken): void { this.inflight.end(t); }

  /** This client changed `key` (or is about to): drop its copy and spoil reads older than `version` (0: all). */
  localWrite(key: string, version: number): void {
    this.cache.remove(key, 'write');
    this.inflight.invalidate(key, version);
  }

  /** A subscription (or re-subscription) was accepted: the stream's position is known from here on. */
  onSubscribed(node: string, r: { epoch: number; seq: number; heartbeatMs: number }): void {
    const s = this.stream(node);
    if (s.epoch !== 0 && s.epoch !== r.epoch) this.counters.epochChanges++;
    if (s.entries.size > 0) this.flush(s, 'epoch'); // should be empty: whatever the node vouched for is void now
    else s.gen++;
    s.unsupported = false;
    s.epoch = r.epoch;
    s.covered = r.seq;
    s.maxSeen = r.seq;
    s.heartbeatMs = r.heartbeatMs;
    s.status = 'synced';
    s.lastHeardAt = this.clock.now();
    const queued = s.queued ?? [];
    s.queued = undefined;
    for (const m of queued) this.advance(s, m);
  }

  /** The node cannot subscribe (it predates the L1): never cache from it. */
  onUnsupported(node: string): void {
    this.stream(node).unsupported = true;
  }

  /** A subscription request is going out: until its reply, the stream has no position. */
  onSubscribing(node: string): void {
    const s = this.stream(node);
    if (s.entries.size > 0) this.flush(s, 'connection');
    s.status = 'unsynced';
    s.queued = [];
  }

  /** An Invalidate or Heartbeat push from `node`. */
  onMessage(node: string, m: InvalidationMessage, heartbeat: boolean): void {
    const s = this.streams.get(node);
    if (s === undefined) return;
    this.counters.messagesReceived++;
    if (heartbeat) this.counters.heartbeatsReceived++;
    // Keys first, whatever the stream's state: a change is a change, and copies of the key may have
    // come from other nodes (hot keys).
    if (m.keys !== undefined) this.applyKeys(s, m.keys, m.versions ?? []);
    if (m.hot !== undefined && m.hotGen !== undefined && m.hotGen !== s.hotGen) {
      s.hotGen = m.hotGen;
      s.hot = new Set(m.hot);
      this.hot.setNode(node, m.hot);
    }
    if (s.status === 'unsynced') {
      // The subscribe reply is on its way and sets the position; what follows it is applied after.
      if (s.queued !== undefined && s.queued.length < MAX_QUEUED) s.queued.push({ from: m.from, to: m.to, epoch: m.epoch });
      return;
    }
    this.advance(s, m);
  }

  /** Moves the stream's position by one message, or starts a repair when one is missing. */
  private advance(s: NodeStream, m: { from: number; to: number; epoch: number }): void {
    const node = s.id;
    if (m.epoch !== s.epoch) {
      this.counters.epochChanges++;
      this.flush(s, 'epoch');
      s.status = 'unsynced';
      this.fx.resubscribe(node);
      return;
    }
    s.lastHeardAt = this.clock.now();
    if (s.status === 'repairing') { s.maxSeen = Math.max(s.maxSeen, m.to); return; }
    if (m.from > s.covered + 1) {
      this.counters.gapsDetected++;
      s.status = 'repairing';
      s.maxSeen = m.to;
      this.repair(s, s.covered);
      return;
    }
    s.covered = Math.max(s.covered, m.to);
  }

  /** The connection to `node` is gone: nothing it vouched for stands, and its position is lost. */
  onClosed(node: string): void {
    const s = this.streams.get(node);
    if (s === undefined) return;
    this.flush(s, 'connection');
    s.status = 'unsynced';
    s.queued = undefined;
  }

  /** `node` left the cluster (or this client): forget it. */
  onRemoved(node: string): void {
    const s = this.streams.get(node);
    if (s === undefined) return;
    this.flush(s, 'removed');
    s.status = 'unsynced';
    this.streams.delete(node);
    this.hot.setNode(node, []);
  }

  /** The ring changed: entries of keys whose owner moved go, and reads out now are not cached. */
  onTopology(moved: readonly MovedArc[]): number {
    this.topologyGen++;
    if (moved.length === 0) return 0;
    let n = 0;
    for (const e of [...this.cache.all()]) {
      const h = hashKey(e.key);
      if (moved.some((a) => arcContains(a, h))) { this.cache.remove(e.key, 'topology'); n++; }
    }
    return n;
  }

  /** Periodic: drops the entries of nodes silent past their timeout. `starved`: the timer itself ran late, so silence proves nothing. */
  tick(starved: boolean): void {
    if (starved) return;
    const now = this.clock.now();
    for (const s of this.streams.values()) {
      if (s.status === 'unsynced' || s.entries.size === 0) continue;
      if (now - s.lastHeardAt > s.timeoutMs) this.flush(s, 'silence');
    }
  }

  /** This client flushed every node (Corral.flush): nothing cached stands. */
  clearAll(): void {
    this.cache.clear('flush');
    this.inflight.invalidateAll();
  }

  private applyKeys(s: NodeStream, keys: ReadonlyArray<string | null>, versions: readonly number[]): void {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      this.counters.invalidationsReceived++;
      if (key === null || key === undefined) {
        // A FLUSH on that node: its keys are not told apart from others', so reads out anywhere are spoiled.
        this.flush(s, 'flush');
        this.inflight.invalidateAll();
        continue;
      }
      const v = versions[i] ?? 0;
      this.cache.invalidate(key, v);
      this.inflight.invalidate(key, v);
    }
  }

  private repair(s: NodeStream, after: number): void {
    const epoch = s.epoch;
    const stillOurs = () => this.streams.get(s.id) === s && s.status === 'repairing' && s.epoch === epoch;
    this.fx.replay(s.id, epoch, after).then((r) => {
      if (!stillOurs()) return;
      if (r.epoch !== epoch) {
        this.counters.epochChanges++;
        this.flush(s, 'epoch');
        s.status = 'unsynced';
        this.fx.resubscribe(s.id);
        return;
      }
      if ('lost' in r) {
        this.counters.replaysLost++;
        this.flush(s, 'replay');
        // Nothing from the node is held any more: the node's position when it answered is the new baseline.
        s.covered = Math.max(r.seq, s.maxSeen);
      } else {
        this.counters.rangesReplayed++;
        this.applyKeys(s, r.keys, r.versions);
        s.covered = Math.max(r.to, s.maxSeen);
      }
      s.status = 'synced';
    }, () => {
      if (!stillOurs()) return;
      this.counters.replaysFailed++;
      this.flush(s, 'replay');
      s.status = 'unsynced';
      this.fx.resubscribe(s.id);
    });
  }

  private flush(s: NodeStream, reason: FlushReason): void {
    const n = this.cache.dropStream(s, 'flush');
    s.gen++;
    this.counters.flushes[reason]++;
    this.counters.entriesDroppedByFlush += n;
  }
}
