import { CorralError, type Clock, type InvalidationReplay, type OpSpec, type SubscribeMode } from '@corral/protocol';
import { requestKeys } from '../cluster/key-ownership';
import type { Registry } from 'prom-client';
import type { ConnectionContext } from '../connection-context';
import type { Logger } from '../logger';
import type { ChangeCause, MemoryStore } from '../memory-store';
import type { NodeConnection } from '../node-connection';
import { FaultInjector } from './fault-injector';
import { resolveInvalidationConfig, type InvalidationConfig } from './invalidation-config';
import { InvalidationLog } from './invalidation-log';
import { monotonicCounter, readGauge } from '../metric-mirrors';
import { InvalidationStream } from './invalidation-stream';
import type { PushSink } from './subscriber';
import { SubscriberTable } from './subscriber-table';

type Handler = (args: unknown[], ctx: ConnectionContext) => unknown;
export type InvalidationOpName = 'INVALIDATIONS_SUBSCRIBE' | 'INVALIDATIONS_SINCE' | 'INVALIDATIONS_UNSUBSCRIBE' | 'INVALIDATION_FAULTS';

export interface InvalidationServiceOptions {
  store: MemoryStore;
  clock: Clock;
  config?: Partial<InvalidationConfig>;
  registry: Registry;
  logger: Logger;
  /** A replay larger than half a frame is answered "lost": the client flushes instead. */
  maxFrameBytes: number;
  /** The node's hot-key set (hotkeys/), which heartbeats carry. */
  hotKeys?: () => { gen: number; keys: string[] };
}

/**
 * The node's invalidation stream and everything around it: the store's changes go in, subscribed
 * connections are pushed what they must hear (batched per event-loop turn), heartbeats keep them
 * sure nothing was lost, the log answers replays, and the test hook drops pushes for the nemesis.
 * Connections are attached as they are accepted, so a subscription can find its socket.
 */
export class InvalidationService {
  readonly stream: InvalidationStream;
  readonly subscribers: SubscriberTable;
  readonly faults = new FaultInjector();
  readonly config: InvalidationConfig;
  private readonly sinks = new Map<number, PushSink>();
  private readonly unwatch: () => void;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private hotKeys: () => { gen: number; keys: string[] };
  private readonly counts = { appended: 0, replays: 0, replaysLost: 0, cuts: 0 };
  /** The write running now, if a subscriber made it (see beginWrite). */
  private origin: { conn: number; keys: readonly string[] } | undefined;
  private readonly endWrite = (): void => { this.origin = undefined; };

  constructor(private readonly o: InvalidationServiceOptions) {
    this.config = resolveInvalidationConfig(o.config);
    this.log = o.logger.child({ component: 'invalidation' });
    this.hotKeys = o.hotKeys ?? (() => ({ gen: 0, keys: [] }));
    this.stream = new InvalidationStream(new InvalidationLog(this.config.logMaxEntries, this.config.logMaxBytes), {
      onError: (err) => this.log.error({ err }, 'invalidation_listener_failed'),
    });
    this.subscribers = new SubscriberTable({
      stream: this.stream, clock: o.clock, heartbeatMs: this.config.heartbeatMs, maxTrackedKeys: this.config.maxTrackedKeys,
      pushBacklogBytes: this.config.pushBacklogBytes, faults: this.faults, hotKeys: () => this.hotKeys(),
    });
    this.stream.onBatch((b) => this.subscribers.deliver(b));
    // watch, not onChange: it is additive, and leases and handoff watch the same store.
    this.unwatch = o.store.watch((key, cause) => this.onStoreChange(key, cause));
    this.registerMetrics(o.registry);
  }

  /** The hot-key service is built after this one; it plugs its set in here. */
  setHotKeys(fn: () => { gen: number; keys: string[] }): void { this.hotKeys = fn; }

  start(): void {
    this.timer ??= setInterval(() => this.subscribers.heartbeat(), this.config.heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unwatch();
    this.stream.flush();
  }

  /** A connection was accepted: it may subscribe later. Forgotten when it closes. */
  attach(conn: NodeConnection): void {
    const id = conn.ctx.id;
    this.sinks.set(id, {
      id,
      get name() { return conn.ctx.clientName; },
      push: (frame) => conn.sendPush(frame),
      outputBytes: () => conn.pendingOutputBytes,
      cut: () => conn.forceClose(),
    });
    void conn.closed.then(() => {
      this.sinks.delete(id);
      this.subscribers.unsubscribe(id);
    });
  }

  /** A read on a connection: tracking subscribers must hear when the key changes. */
  noteRead(connId: number, key: string): void {
    this.subscribers.noteRead(connId, key);
  }

  /**
   * A write is about to run on connection `connId` (the executor's onWrite hook; the returned
   * function runs after it). The changes it makes to its own keys are marked as that connection's:
   * its L1 drops or refills them when the reply comes, so they are not pushed back to it (Redis's
   * NOLOOP, always on). A tracking subscriber also stays on the keys it wrote: its L1 may keep the
   * value, so it must hear of the next change.
   */
  beginWrite(op: OpSpec, args: unknown[], connId: number): (() => void) | undefined {
    if (!this.subscribers.isSubscribed(connId)) return undefined;
    const keys = requestKeys(op, args);
    if (this.subscribers.isTracking(connId)) for (const key of keys) this.subscribers.noteRead(connId, key);
    this.origin = { conn: connId, keys };
    return this.endWrite;
  }

  /** A change that is not the store's own (a hot copy dropped): into the stream like any other. */
  append(key: string | null, version: number): number {
    this.counts.appended++;
    return this.stream.append(key, version);
  }

  handlers(): Record<InvalidationOpName, Handler> {
    return {
      INVALIDATIONS_SUBSCRIBE: (a, ctx) => {
        const sink = this.sinks.get(ctx.id);
        if (sink === undefined) throw new CorralError('E_BAD_ARGS', 'INVALIDATIONS_SUBSCRIBE: this connection cannot receive pushes (native protocol only)');
        const o = (a[0] ?? {}) as { mode?: string; prefixes?: string[] };
        return this.subscribers.subscribe(sink, (o.mode ?? 'tracking') as SubscribeMode, o.prefixes ?? []);
      },
      INVALIDATIONS_SINCE: (a) => this.since(a[0] as number, a[1] as number),
      INVALIDATIONS_UNSUBSCRIBE: (_a, ctx) => this.subscribers.unsubscribe(ctx.id),
      INVALIDATION_FAULTS: (a) => {
        if (!this.config.testHooks) throw new CorralError('E_UNKNOWN_OP', 'INVALIDATION_FAULTS is a test hook: start the node with invalidation.testHooks');
        const o = (a[0] ?? {}) as { dropPerMille?: number; cut?: string };
        if (o.dropPerMille !== undefined) {
          if (o.dropPerMille > 1000) throw new CorralError('E_BAD_ARGS', 'dropPerMille must be 0..1000');
          this.faults.dropPerMille = o.dropPerMille;
        }
        const cut = o.cut === undefined ? 0 : this.cut(o.cut);
        this.log.warn({ dropPerMille: this.faults.dropPerMille, cut, prefix: o.cut }, 'invalidation_faults');
        return { dropPerMille: this.faults.dropPerMille, dropped: this.faults.dropped, cut };
      },
    };
  }

  /** Replays the log after `seq`, or says it cannot: another epoch (a restart), a range already overwritten, or too large. */
  since(epoch: number, seq: number): InvalidationReplay {
    this.counts.replays++;
    const current = this.stream.seq;
    const lost = (): InvalidationReplay => { this.counts.replaysLost++; return { epoch: this.stream.epoch, lost: true, seq: current }; };
    if (epoch !== this.stream.epoch || seq > current) return lost();
    if (this.stream.log.bytesSince(seq) > this.o.maxFrameBytes / 2) return lost();
    const range = this.stream.log.since(seq, current);
    if (range === undefined) return lost();
    return { epoch: this.stream.epoch, ...range };
  }

  stats(): Record<string, number> {
    const c = this.subscribers.counters;
    const modes = this.subscribers.countByMode();
    return {
      invalidationEpoch: this.stream.epoch,
      invalidationSeq: this.stream.seq,
      invalidationLogEntries: this.stream.log.size,
      invalidationSubscribers: this.subscribers.size,
      invalidationSubscribersTracking: modes.tracking,
      invalidationSubscribersBroadcast: modes.broadcast,
      invalidationTrackedKeys: this.subscribers.trackedKeys,
      invalidationBatchesPushed: c.batchesPushed,
      invalidationKeysPushed: c.keysPushed,
      invalidationBytesPushed: c.bytesPushed,
      invalidationHeartbeatsPushed: c.heartbeatsPushed,
      invalidationPushesDropped: c.pushesDropped,
      invalidationPushesSkippedBacklog: c.pushesSkippedBacklog,
      invalidationTrackedForgotten: c.trackedForgotten,
      invalidationReplays: this.counts.replays,
      invalidationReplaysLost: this.counts.replaysLost,
    };
  }

  private onStoreChange(key: string | null, cause: ChangeCause): void {
    // The version lets an L1 keep a copy it already has at that version.
    const version = key !== null && (cause === 'set' || cause === 'incr') ? this.o.store.peek(key)?.version ?? 0 : 0;
    // Only the write's own keys are its own: what it evicts or expires on the way is news to it too.
    const o = this.origin;
    const origin = o !== undefined && key !== null && cause !== 'evict' && cause !== 'expire' && o.keys.includes(key) ? o.conn : 0;
    this.counts.appended++;
    this.stream.append(key, version, origin);
  }

  private cut(prefix: string): number {
    let n = 0;
    for (const s of this.sinks.values()) if (s.name?.startsWith(prefix)) { s.cut(); n++; }
    this.counts.cuts += n;
    return n;
  }

  private registerMetrics(r: Registry): void {
    const c = this.subscribers.counters;
    monotonicCounter(r, 'corral_invalidations_total', 'Changes appended to the invalidation stream', () => this.counts.appended);
    monotonicCounter(r, 'corral_invalidation_batches_pushed_total', 'Invalidate pushes sent to subscribers', () => c.batchesPushed);
    monotonicCounter(r, 'corral_invalidation_keys_pushed_total', 'Keys carried by Invalidate pushes', () => c.keysPushed);
    monotonicCounter(r, 'corral_invalidation_bytes_pushed_total', 'Bytes of Invalidate and Heartbeat pushes', () => c.bytesPushed);
    monotonicCounter(r, 'corral_invalidation_heartbeats_pushed_total', 'Heartbeat pushes sent', () => c.heartbeatsPushed);
    monotonicCounter(r, 'corral_invalidation_pushes_dropped_total', 'Pushes dropped by the fault injector (test hook)', () => c.pushesDropped);
    monotonicCounter(r, 'corral_invalidation_pushes_skipped_total', 'Pushes skipped for a connection with a send backlog (the client replays)', () => c.pushesSkippedBacklog);
    monotonicCounter(r, 'corral_invalidation_tracked_forgotten_total', 'Keys the tracking table forgot (and invalidated) to stay bounded', () => c.trackedForgotten);
    monotonicCounter(r, 'corral_invalidation_replays_total', 'INVALIDATIONS_SINCE requests', () => this.counts.replays);
    monotonicCounter(r, 'corral_invalidation_replays_lost_total', 'Replays the log could not answer (the client flushes)', () => this.counts.replaysLost);
    readGauge(r, 'corral_invalidation_subscribers', 'Connections subscribed to the invalidation stream', () => this.subscribers.size);
    readGauge(r, 'corral_invalidation_tracked_keys', 'Keys in the tracking table', () => this.subscribers.trackedKeys);
    readGauge(r, 'corral_invalidation_log_entries', 'Entries in the invalidation log', () => this.stream.log.size);
    readGauge(r, 'corral_invalidation_seq', 'The newest sequence number of the invalidation stream', () => this.stream.seq);
  }
}
