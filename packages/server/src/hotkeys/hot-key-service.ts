import { Ops, type Clock, type InvalidationReplay } from '@corral/protocol';
import type { Registry } from 'prom-client';
import type { ClusterView } from '../cluster/cluster-view';
import { PeerPool } from '../cluster/peer-link';
import type { ConnectionContext } from '../connection-context';
import type { InvalidationService } from '../invalidation/invalidation-service';
import { monotonicCounter, readGauge } from '../metric-mirrors';
import type { Logger } from '../logger';
import type { MemoryStore } from '../memory-store';
import { HotCopyTable } from './hot-copy-table';
import { HotFanout } from './hot-fanout';
import { HotFollower, type HotSyncMessage } from './hot-follower';
import { resolveHotKeyConfig, type HotKeyConfig } from './hot-key-config';
import { HotKeyCounter } from './hot-key-counter';
import { ReadSampler } from './read-sampler';

type Handler = (args: unknown[], ctx: ConnectionContext) => unknown;
export type HotKeyOpName = 'HOT_GET' | 'HOTKEYS' | 'HOT_SYNC';

export interface HotKeyServiceOptions {
  store: MemoryStore;
  clock: Clock;
  config?: Partial<HotKeyConfig>;
  invalidation: InvalidationService;
  view: () => ClusterView | undefined;
  selfId: () => string;
  adminToken?: string;
  logger: Logger;
  registry: Registry;
  maxFrameBytes: number;
}

interface HotEntry { since: number; served: number }
interface Fetch { owner: string; gen: number; poisoned: boolean; promise: Promise<unknown> }

/** Keys above the threshold remembered for the crossing log; past it crossings are not logged. */
const MAX_ABOVE = 1_000;
/**
 * Above this many reads per second at the node, reads are counted one in up to MAX_SAMPLE_EVERY
 * (ReadSampler): at the default threshold a key turning hot is still sampled ~170 times a second.
 */
const SAMPLE_ABOVE_READS_PER_SEC = 20_000;
const MAX_SAMPLE_EVERY = 8;

/**
 * Hot keys served by every node. As owner: counts reads per key (decaying), logs
 * `cache_stampede_detected` when a key's count crosses the threshold, and while a key is hot tells
 * the other nodes (HotFanout) so any of them answers HOT_GET for it. As a peer: follows the owners'
 * HOT_SYNC streams (HotFollower), keeps copies fetched on first read (HotCopyTable), and puts every
 * change of a key it served into its own invalidation stream, so the L1s that read the key here
 * hear of it like any other change.
 */
export class HotKeyService {
  readonly config: HotKeyConfig;
  readonly counter: HotKeyCounter;
  readonly copies: HotCopyTable;
  readonly follower: HotFollower;
  private readonly fanout: HotFanout;
  private readonly pool: PeerPool;
  private readonly log: Logger;
  private readonly hot = new Map<string, HotEntry>();
  private hotGen = 0;
  /** Keys at or above the threshold, hot or not (not owned, set full): each crossing is logged once. */
  private readonly above = new Set<string>();
  private readonly fetches = new Map<string, Fetch>();
  private timer: NodeJS.Timeout | undefined;
  private readonly counts = { detected: 0, ownerReads: 0, copyReads: 0, fetched: 0, notHot: 0, cooled: 0 };
  private readonly sampler: ReadSampler;

  constructor(private readonly o: HotKeyServiceOptions) {
    this.config = resolveHotKeyConfig(o.config);
    this.log = o.logger.child({ component: 'hotkeys' });
    this.counter = new HotKeyCounter(o.clock, this.config.halfLifeMs, this.config.maxCounted);
    this.copies = new HotCopyTable(o.clock, this.config.maxCopies, this.config.maxCopyBytes);
    this.pool = new PeerPool({
      timeoutMs: this.config.peerTimeoutMs, retryAfterMs: 500, maxFrameBytes: o.maxFrameBytes,
      ...(o.adminToken !== undefined && { hello: { auth: o.adminToken } }),
    });
    const heartbeatMs = o.invalidation.config.heartbeatMs;
    this.follower = new HotFollower(o.clock, 3 * heartbeatMs + 100, {
      invalidate: (owner, key, version) => this.invalidateCopy(owner, key, version),
      dropOwner: (owner, keep) => this.dropOwner(owner, keep),
      replay: (owner, epoch, seq) => this.pool.get(owner).request(Ops.INVALIDATIONS_SINCE, [epoch, seq]) as Promise<InvalidationReplay>,
    });
    this.fanout = new HotFanout({
      selfId: o.selfId, pool: this.pool, clock: o.clock, heartbeatMs, stream: o.invalidation.stream, faults: o.invalidation.faults,
      peers: () => this.peers(),
      hot: () => ({ gen: this.hotGen, keys: this.hot }),
      onReads: (reads) => { for (const [k, n] of reads) if (this.hot.has(k)) this.counter.hit(k, n); },
    });
    o.invalidation.stream.onBatch((b) => { if (this.isClustered()) this.fanout.deliver(b); });
    o.invalidation.setHotKeys(() => ({ gen: this.hotGen, keys: [...this.hot.keys()] }));
    this.sampler = new ReadSampler(o.clock.now(), SAMPLE_ABOVE_READS_PER_SEC,
      Math.max(1, Math.min(MAX_SAMPLE_EVERY, Math.floor(this.config.threshold / 100))));
    this.registerMetrics(o.registry);
  }

  /** Starts the heartbeat and follows ring changes; the view exists once the node listens. */
  start(): void {
    this.o.view()?.on('change', () => this.onRingChange());
    this.timer ??= setInterval(() => this.tick(), this.o.invalidation.config.heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.pool.closeAll();
  }

  /** Every read this node serves from its store (GET, GETS, MGET, HOT_GET at the owner). */
  noteRead(key: string): void {
    if (!this.config.enabled) return;
    const n = this.sampler.note();
    if (n === 0) return;
    const count = this.counter.hit(key, n);
    if (count < this.config.threshold) return;
    const h = this.hot.get(key);
    if (h !== undefined) { h.served += n; return; }
    if (this.above.has(key) || this.above.size >= MAX_ABOVE) return;
    this.above.add(key);
    this.counts.detected++;
    const copied = this.isClustered() && this.owns(key) && this.hot.size < this.config.maxHotKeys;
    this.log.warn({ key, count: Math.round(count), threshold: this.config.threshold, copied }, 'cache_stampede_detected');
    if (!copied) return;
    this.hot.set(key, { since: this.o.clock.now(), served: 1 });
    this.hotGen++;
  }

  handlers(): Record<HotKeyOpName, Handler> {
    return {
      HOT_GET: (a, ctx) => this.hotGet(a[0] as string, ctx),
      HOT_SYNC: (a) => {
        const o = (a[4] ?? {}) as { keys?: string[]; versions?: unknown; flush?: boolean; hot?: string[]; hotGen?: number };
        const versions = Array.isArray(o.versions) ? o.versions.map((v) => (typeof v === 'number' ? v : 0)) : [];
        const m: HotSyncMessage = {
          epoch: a[1] as number, fromSeq: a[2] as number, toSeq: a[3] as number, keys: o.keys ?? [], versions, flush: o.flush === true,
          ...(o.hot !== undefined && { hot: o.hot }), ...(o.hotGen !== undefined && { hotGen: o.hotGen }),
        };
        return { reads: this.follower.onSync(a[0] as string, m) };
      },
      HOTKEYS: () => this.report(),
    };
  }

  stats(): Record<string, number> {
    return {
      hotKeys: this.hot.size,
      hotKeysDetected: this.counts.detected,
      hotReadSampleEvery: this.sampler.sampleEvery,
      hotCopies: this.copies.size,
      hotCopyBytes: this.copies.byteSize,
      hotOwnerReads: this.counts.ownerReads,
      hotCopyReads: this.counts.copyReads,
      hotCopyFetches: this.counts.fetched,
      hotNotHotReplies: this.counts.notHot,
      hotSyncsSent: this.fanout.counters.syncsSent,
      hotSyncsReceived: this.follower.counters.syncs,
      hotSyncGaps: this.follower.counters.gaps,
      hotSyncReplays: this.follower.counters.replays,
      hotSyncReplaysLost: this.follower.counters.replaysLost,
    };
  }

  report(): unknown {
    const now = this.o.clock.now();
    return {
      node: this.o.selfId(),
      hot: [...this.hot].map(([key, h]) => ({ key, count: Math.round(this.counter.peek(key)), sinceMs: Math.round(now - h.since), reads: h.served })),
      copies: this.copies.list().map((c) => ({ key: c.key, owner: c.owner, reads: c.served, version: c.version })),
      top: this.counter.top(10),
    };
  }

  private hotGet(key: string, ctx: ConnectionContext): unknown {
    this.o.invalidation.noteRead(ctx.id, key); // tracking subscribers hear of it from here
    const owner = this.ownerOf(key);
    if (owner === this.o.selfId()) {
      this.counts.ownerReads++;
      this.noteRead(key);
      const e = this.o.store.gets(key);
      return e === undefined ? null : [e.value, e.flags, e.version, e.ttlMs];
    }
    if (!this.follower.canServe(owner)) { this.counts.notHot++; return false; }
    const copy = this.copies.get(key, (k) => this.o.invalidation.append(k, 0));
    if (copy !== undefined) {
      this.counts.copyReads++;
      copy.served++;
      this.follower.noteServed(owner, key);
      const ttl = copy.expiresAt === 0 ? -1 : Math.max(1, Math.ceil(copy.expiresAt - this.o.clock.now()));
      return [copy.value, copy.flags, copy.version, ttl];
    }
    if (!this.follower.isHot(owner, key)) { this.counts.notHot++; return false; }
    this.follower.noteServed(owner, key);
    return this.fetch(owner, key);
  }

  /** Reads a hot key from its owner and keeps the copy, unless it changed while the read was out. */
  private fetch(owner: string, key: string): Promise<unknown> {
    const running = this.fetches.get(key);
    if (running !== undefined && running.owner === owner) return running.promise;
    this.counts.fetched++;
    const f: Fetch = { owner, gen: this.follower.generation(owner), poisoned: false, promise: Promise.resolve() };
    f.promise = this.pool.get(owner).request(Ops.GETS, [key]).then((r) => {
      if (this.fetches.get(key) === f) this.fetches.delete(key);
      if (!Array.isArray(r)) return null;
      const [value, flags, version, ttlMs] = r as [Buffer, number, number, number];
      if (!f.poisoned && f.gen === this.follower.generation(owner) && this.follower.canServe(owner) && this.follower.isHot(owner, key))
        this.copies.put(key, owner, value, flags, version, ttlMs);
      return r;
    }, () => {
      if (this.fetches.get(key) === f) this.fetches.delete(key);
      return false; // the client asks the owner itself
    });
    this.fetches.set(key, f);
    return f.promise;
  }

  private invalidateCopy(owner: string, key: string, version: number): void {
    const f = this.fetches.get(key);
    if (f !== undefined && f.owner === owner) f.poisoned = true;
    this.copies.invalidate(key, version);
    // Always, copy or not: a reply from a fetch may be on its way to a client that will keep it.
    this.o.invalidation.append(key, version);
  }

  private dropOwner(owner: string, keep: (key: string) => boolean = () => false): void {
    const gone = new Set(this.copies.dropOwner(owner, keep));
    for (const k of this.follower.hotKeysOf(owner)) if (!keep(k)) gone.add(k);
    for (const [k, f] of this.fetches) if (f.owner === owner && !keep(k)) f.poisoned = true;
    for (const k of gone) this.o.invalidation.append(k, 0);
  }

  private tick(): void {
    if (!this.config.enabled) return;
    this.sampler.tick(this.o.clock.now());
    const cool = this.config.threshold * this.config.coolFraction;
    for (const key of this.above) {
      if (this.counter.peek(key) >= cool && (!this.hot.has(key) || this.owns(key))) continue;
      this.above.delete(key);
      if (this.hot.delete(key)) { this.hotGen++; this.counts.cooled++; this.log.info({ key }, 'hot_key_cooled'); }
    }
    if (this.isClustered()) this.fanout.heartbeat();
    this.follower.tick();
  }

  private onRingChange(): void {
    for (const key of this.hot.keys()) if (!this.owns(key)) { this.hot.delete(key); this.above.delete(key); this.hotGen++; }
    for (const { key } of this.copies.dropMoved((k) => this.ownerOf(k))) this.o.invalidation.append(key, 0);
  }

  private peers(): string[] {
    const view = this.o.view();
    if (view === undefined) return [];
    return view.ring.members().map((m) => m.id).filter((id) => id !== view.selfId);
  }

  private ownerOf(key: string): string {
    const view = this.o.view();
    return view !== undefined && view.clustered ? view.ownerOf(key) : this.o.selfId();
  }

  private owns(key: string): boolean { return this.ownerOf(key) === this.o.selfId(); }
  private isClustered(): boolean { return this.o.view()?.clustered ?? false; }

  private registerMetrics(r: Registry): void {
    monotonicCounter(r, 'corral_hot_keys_detected_total', 'Keys whose read count crossed the hot threshold (cache_stampede_detected)', () => this.counts.detected);
    monotonicCounter(r, 'corral_hot_copy_reads_total', 'HOT_GET reads served from a copy of another owner\'s key', () => this.counts.copyReads);
    monotonicCounter(r, 'corral_hot_owner_reads_total', 'HOT_GET reads served by the key\'s owner', () => this.counts.ownerReads);
    monotonicCounter(r, 'corral_hot_copy_fetches_total', 'Copies fetched from their owner', () => this.counts.fetched);
    monotonicCounter(r, 'corral_hot_syncs_sent_total', 'HOT_SYNC messages sent to peers', () => this.fanout.counters.syncsSent);
    monotonicCounter(r, 'corral_hot_sync_gaps_total', 'Gaps seen in owners\' HOT_SYNC streams', () => this.follower.counters.gaps);
    monotonicCounter(r, 'corral_hot_sync_replays_lost_total', 'Gaps no replay could repair (copies dropped)', () => this.follower.counters.replaysLost);
    readGauge(r, 'corral_hot_keys', 'Hot keys this node owns', () => this.hot.size);
    readGauge(r, 'corral_hot_copies', 'Copies of other owners\' hot keys held here', () => this.copies.size);
  }
}
