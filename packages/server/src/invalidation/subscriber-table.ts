import { CorralError, encodePush, PushKind, type Clock, type InvalidationMessage, type SubscribeMode } from '@corral/protocol';
import type { FaultInjector } from './fault-injector';
import type { InvalidationStream, StreamBatch } from './invalidation-stream';
import { Subscriber, type PushSink } from './subscriber';
import { TrackingTable } from './tracking-table';

export interface SubscriberTableOptions {
  stream: InvalidationStream;
  clock: Clock;
  heartbeatMs: number;
  maxTrackedKeys: number;
  pushBacklogBytes: number;
  faults: FaultInjector;
  /** The node's hot-key set, sent with heartbeats when its generation moves. */
  hotKeys: () => { gen: number; keys: string[] };
}

/** What the node counts about its subscribers (STATS and Prometheus read these). */
export interface SubscriberCounters {
  batchesPushed: number;
  keysPushed: number;
  bytesPushed: number;
  heartbeatsPushed: number;
  pushesDropped: number;
  pushesSkippedBacklog: number;
  trackedForgotten: number;
}

/**
 * The connections subscribed to this node's invalidation stream, and what each must be told. For
 * every batch of the stream it builds one message per subscriber that has something to hear:
 *   - broadcast: every key (under its prefixes); subscribers at the same position share one
 *     encoded frame, so a broadcast costs one encode, not one per subscriber;
 *   - tracking: the keys it read or wrote (until the bounded table forgets them, telling it so);
 *   - none: nothing but heartbeats (clients that only want hot keys).
 * Heartbeats bring everyone up to the stream's current seq, so a lost push shows up within a
 * heartbeat period even when nothing else changes.
 */
export class SubscriberTable {
  readonly counters: SubscriberCounters = {
    batchesPushed: 0, keysPushed: 0, bytesPushed: 0, heartbeatsPushed: 0, pushesDropped: 0, pushesSkippedBacklog: 0, trackedForgotten: 0,
  };
  private readonly subs = new Map<number, Subscriber>();
  private readonly tracking: TrackingTable;
  /** Tracking subscribers with pending keys (only they are visited per batch, besides broadcast ones). */
  private readonly dirty = new Set<Subscriber>();
  private broadcastCount = 0;

  constructor(private readonly o: SubscriberTableOptions) {
    this.tracking = new TrackingTable(o.maxTrackedKeys);
  }

  get size(): number { return this.subs.size; }
  get trackedKeys(): number { return this.tracking.size; }

  countByMode(): Record<SubscribeMode, number> {
    const out: Record<SubscribeMode, number> = { tracking: 0, broadcast: 0, none: 0 };
    for (const s of this.subs.values()) out[s.mode]++;
    return out;
  }

  /** Subscribes (or re-subscribes, replacing the earlier mode) the connection behind `sink`. */
  subscribe(sink: PushSink, mode: SubscribeMode, prefixes: readonly string[]): { epoch: number; seq: number; heartbeatMs: number; mode: SubscribeMode } {
    if (mode !== 'tracking' && mode !== 'broadcast' && mode !== 'none')
      throw new CorralError('E_BAD_ARGS', `INVALIDATIONS_SUBSCRIBE: mode must be tracking, broadcast or none (got ${String(mode)})`);
    if (mode !== 'broadcast' && prefixes.length > 0) throw new CorralError('E_BAD_ARGS', 'INVALIDATIONS_SUBSCRIBE: prefixes need mode broadcast');
    this.unsubscribe(sink.id);
    const seq = this.o.stream.seq;
    this.subs.set(sink.id, new Subscriber(sink, mode, prefixes, seq, this.o.clock.now()));
    if (mode === 'broadcast') this.broadcastCount++;
    return { epoch: this.o.stream.epoch, seq, heartbeatMs: this.o.heartbeatMs, mode };
  }

  unsubscribe(connId: number): boolean {
    const s = this.subs.get(connId);
    if (s === undefined) return false;
    this.subs.delete(connId);
    this.dirty.delete(s);
    if (s.mode === 'broadcast') this.broadcastCount--;
    this.tracking.untrackAll(s);
    return true;
  }

  /**
   * A read on connection `connId` (GET, GETS, MGET, HOT_GET), or a write (its L1 keeps what it
   * wrote): a tracking subscriber will hear when `key` changes.
   */
  noteRead(connId: number, key: string): void {
    const s = this.subs.get(connId);
    if (s === undefined || s.mode !== 'tracking') return;
    const evicted = this.tracking.track(s, key);
    if (evicted === undefined) return;
    // Forgotten keys are invalidated through the stream, so the log (and so a replay) has them too.
    this.counters.trackedForgotten++;
    this.o.stream.append(evicted.key, 0);
    for (const t of evicted.trackers) this.addPending(t, evicted.key, 0);
  }

  isTracking(connId: number): boolean {
    return this.subs.get(connId)?.mode === 'tracking';
  }

  isSubscribed(connId: number): boolean {
    return this.subs.has(connId);
  }

  /** The stream's batch listener. */
  deliver(batch: StreamBatch): void {
    const { keys, versions, origins } = batch;
    let flushed = false;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (key === null) { flushed = true; continue; }
      const trackers = this.tracking.trackers(key);
      if (trackers === undefined) continue;
      const own = origins?.[i] ?? 0;
      for (const t of trackers) if (t.sink.id !== own) this.addPending(t, key, versions[i]!);
    }
    if (flushed) {
      this.tracking.clear();
      for (const s of this.subs.values()) if (s.mode === 'tracking') this.addPending(s, null, 0);
    }
    if (this.broadcastCount > 0) this.deliverBroadcast(batch);
    for (const s of this.dirty) {
      const { keys: k, versions: v } = s.takePending();
      this.send(s, PushKind.Invalidate, { epoch: this.o.stream.epoch, from: s.sentUpTo + 1, to: batch.to, keys: k, versions: v }, undefined);
    }
    this.dirty.clear();
  }

  /** Every subscriber hears the stream's current seq (and the hot keys when they changed). */
  heartbeat(): void {
    this.o.stream.flush();
    const seq = this.o.stream.seq;
    const now = this.o.clock.now();
    const hot = this.o.hotKeys();
    const frames = new Map<string, { body: InvalidationMessage; frame: Buffer }>();
    for (const s of this.subs.values()) {
      const hotChanged = s.hotGenSent !== hot.gen;
      // Told everything recently anyway: the batch it got was its heartbeat.
      if (!hotChanged && s.sentUpTo === seq && now - s.lastSentAt < this.o.heartbeatMs / 2) continue;
      const id = `${s.sentUpTo}|${hotChanged ? 1 : 0}`;
      let f = frames.get(id);
      if (f === undefined) {
        const body: InvalidationMessage = { epoch: this.o.stream.epoch, from: s.sentUpTo + 1, to: seq, hotGen: hot.gen };
        if (hotChanged) body.hot = hot.keys;
        f = { body, frame: encodePush(PushKind.Heartbeat, body) };
        frames.set(id, f);
      }
      if (this.send(s, PushKind.Heartbeat, f.body, f.frame)) s.hotGenSent = hot.gen;
    }
  }

  subscribers(): IterableIterator<Subscriber> { return this.subs.values(); }

  private deliverBroadcast(batch: StreamBatch): void {
    // Subscribers without prefixes at the same position get the same bytes: encode once per position.
    // Those that made some of the changes get a list of their own, without those (NOLOOP).
    const shared = new Map<number, { body: InvalidationMessage; frame: Buffer }>();
    const writers = batch.origins === undefined ? undefined : new Set(batch.origins);
    for (const s of this.subs.values()) {
      if (s.mode !== 'broadcast') continue;
      if (s.prefixes.length === 0 && !this.dirty.has(s) && !writers?.has(s.sink.id)) {
        let f = shared.get(s.sentUpTo);
        if (f === undefined) {
          const body: InvalidationMessage = { epoch: this.o.stream.epoch, from: s.sentUpTo + 1, to: batch.to, keys: batch.keys, versions: batch.versions };
          f = { body, frame: encodePush(PushKind.Invalidate, body) };
          shared.set(s.sentUpTo, f);
        }
        this.send(s, PushKind.Invalidate, f.body, f.frame);
        continue;
      }
      for (let i = 0; i < batch.keys.length; i++) {
        const key = batch.keys[i]!;
        if (batch.origins?.[i] === s.sink.id) continue;
        if (key === null || s.wants(key)) this.addPending(s, key, batch.versions[i]!);
      }
    }
  }

  private addPending(s: Subscriber, key: string | null, version: number): void {
    s.pendingKeys.push(key);
    s.pendingVersions.push(version);
    this.dirty.add(s);
  }

  /**
   * Sends one message and moves the subscriber's position to its end whether or not it went out:
   * a dropped (fault) or skipped (backlog) message then shows as a gap in the next one, and the
   * client replays it instead of this node buffering for a reader that does not read.
   */
  private send(s: Subscriber, kind: number, body: InvalidationMessage, frame: Buffer | undefined): boolean {
    if (body.to < body.from && kind === PushKind.Invalidate) return false; // subscribed after all of it
    s.sentUpTo = Math.max(s.sentUpTo, body.to);
    s.lastSentAt = this.o.clock.now();
    if (this.o.faults.drop()) { this.counters.pushesDropped++; return false; }
    if (s.sink.outputBytes() > this.o.pushBacklogBytes) { this.counters.pushesSkippedBacklog++; return false; }
    const f = frame ?? encodePush(kind, body);
    s.sink.push(f);
    this.counters.bytesPushed += f.length;
    if (kind === PushKind.Heartbeat) this.counters.heartbeatsPushed++;
    else { this.counters.batchesPushed++; this.counters.keysPushed += body.keys?.length ?? 0; }
    return true;
  }
}
