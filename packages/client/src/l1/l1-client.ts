import { decodeValue, Ops, systemClock, type Clock, type OpSpec } from '@corral/protocol';
import { movedArcs, type HashRing } from '@corral/ring';
import { ClusterRouter } from '../cluster-router';
import type { CallOptions } from '../corral-options';
import { dispatchOne, type RouteOf, type ShouldRetry } from '../keyed-dispatch';
import { silentLogger, type Logger } from '../logger';
import type { NodeConnection } from '../node-connection';
import { plainRoute, type Route, type Router } from '../router';
import { CoherenceTracker, type Fill } from './coherence-tracker';
import type { ResolvedL1Options } from './l1-options';
import type { L1Stats } from './l1-stats';
import { MemberWatch } from './member-watch';
import { NearCache } from './near-cache';

export interface L1ClientOptions {
  router: Router;
  routeOf: RouteOf;
  shouldRetry: ShouldRetry;
  options: ResolvedL1Options;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
}

/** A hot read that could not be made (not hot there, node down): the caller goes to the owner. */
const NOT_HOT = Symbol('not hot');

/**
 * The near cache as Corral uses it: reads answered from the L1 when a node vouches for the copy,
 * otherwise read with GETS (the version and TTL go with the entry) from the owner, or for a hot
 * key from any member (HOT_GET); the reply is cached unless the coherence rules say it may be
 * stale. Writes through this client drop the local copy before they leave and again when they are
 * answered (read-your-writes); a SET's value is put back in at the version the node gave it.
 */
export class L1Client {
  readonly tracker: CoherenceTracker;
  private readonly cache: NearCache;
  private readonly watch: MemberWatch;
  private readonly clock: Clock;
  private readonly random: () => number;
  private ring: HashRing | undefined;
  private readonly onTopologyFn = () => this.onTopology();

  constructor(private readonly o: L1ClientOptions) {
    const opts = o.options;
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.cache = new NearCache(opts);
    this.tracker = new CoherenceTracker(this.cache, this.clock, {
      replay: (node, epoch, seq) => this.watch.replay(node, epoch, seq),
      resubscribe: (node) => this.watch.resubscribe(node),
    }, opts.maxTtlMs, opts.heartbeatTimeoutMs);
    this.watch = new MemberWatch(() => this.members(), this.tracker, { mode: opts.mode, prefixes: opts.prefixes }, this.clock, o.logger ?? silentLogger);
    if (o.router instanceof ClusterRouter) {
      this.ring = o.router.ring;
      o.router.on('topology', this.onTopologyFn);
    }
    this.watch.start();
  }

  /** A read through the L1. Synchronous on a hit (the caller is async anyway). */
  get(key: string, opts: CallOptions): unknown {
    if (this.o.options.enabled && this.cacheable(key)) {
      const e = this.cache.lookup(key, this.clock.now());
      if (e !== undefined) { this.tracker.counters.hits++; return e.value; }
      this.tracker.counters.misses++;
    }
    return this.load(key, opts);
  }

  async mget(keys: readonly string[], opts: CallOptions): Promise<unknown[]> {
    // Each miss is its own GETS (they leave together, one write per node): the version and TTL of
    // every key are needed to cache it, which MGET does not give.
    return Promise.all(keys.map((k) => this.get(k, opts)));
  }

  /**
   * A write of one key by this client (SET, DEL, INCRBY, …). `send` is Corral's own dispatch; the
   * L1 wraps it. A successful plain SET puts its value back in at the version the node returned,
   * unless an invalidation to a newer version came in meanwhile.
   */
  async write<R>(key: string, op: OpSpec, args: (route: Route) => unknown[], opts: CallOptions, read: (reply: unknown) => R): Promise<R> {
    // The copy stays until the node answers: a read made while the write is out may return either
    // value (the write has not happened yet as far as the caller can tell), and dropping it early
    // would send every read of a busy key to the node for the whole round trip.
    return dispatchOne(key, this.o.routeOf, this.o.shouldRetry, async (route) => {
      const a = args(route);
      const fillable = this.o.options.enabled && op === Ops.SET && !route.fallback && this.cacheable(key);
      const token = fillable ? this.tracker.beginRead(key, route.node) : undefined;
      let reply: unknown;
      try {
        reply = await route.request(op, a, opts);
      } catch (e) {
        if (token) this.tracker.abandon(token);
        this.tracker.localWrite(key, 0);
        throw e;
      }
      if (token !== undefined && typeof reply === 'number') {
        // Reads still out that left before this write must not put the old value back; the copy is
        // overwritten in place (no map churn), or dropped when a newer change already spoiled it.
        this.tracker.inflight.invalidate(key, reply);
        if (!this.tracker.fill(token, setFill(a, reply))) this.cache.invalidate(key, reply);
      } else {
        if (token) this.tracker.abandon(token);
        this.tracker.localWrite(key, 0);
      }
      return read(reply);
    });
  }

  /** Writes of many keys (MSET): their copies go before and after. */
  async writeMany<R>(keys: readonly string[], send: () => Promise<R>): Promise<R> {
    for (const k of keys) this.tracker.localWrite(k, 0);
    try {
      return await send();
    } finally {
      for (const k of keys) this.tracker.localWrite(k, 0);
    }
  }

  /** This client flushed the nodes. */
  flushed(): void { this.tracker.clearAll(); }

  stats(): L1Stats {
    const c = this.tracker.counters;
    const total = c.hits + c.misses;
    return {
      enabled: this.o.options.enabled,
      mode: this.o.options.mode,
      ...c,
      flushes: { ...c.flushes },
      readsByNode: { ...c.readsByNode },
      hotReadsByNode: { ...c.hotReadsByNode },
      entries: this.cache.size,
      bytes: this.cache.byteSize,
      hitRatio: total === 0 ? 0 : c.hits / total,
      dropped: { ...this.cache.dropped },
      hotKeys: this.tracker.hot.size,
      namespaces: this.cache.byNamespace(),
      nodes: Object.fromEntries(this.tracker.nodes().map((id) => {
        const st = this.tracker.stream(id);
        return [id, { status: st.status, epoch: st.epoch, seq: st.covered, entries: st.entries.size, hotKeys: st.hot.size }];
      })),
    };
  }

  /** The hot keys the nodes announced. */
  hotKeys(): string[] { return this.tracker.hot.keys(); }

  close(): void {
    this.watch.close();
    if (this.o.router instanceof ClusterRouter) this.o.router.off('topology', this.onTopologyFn);
  }

  private async load(key: string, opts: CallOptions): Promise<unknown> {
    if (this.o.options.hotKeys && this.tracker.hot.ownerOf(key) !== undefined) {
      const v = await this.hotRead(key, opts);
      if (v !== NOT_HOT) return v;
    }
    return dispatchOne(key, this.o.routeOf, this.o.shouldRetry, async (route) => {
      const token = this.tracker.beginRead(key, route.node);
      let reply: unknown;
      try {
        reply = await route.request(Ops.GETS, [key], opts);
      } catch (e) {
        this.tracker.abandon(token);
        throw e;
      }
      const f = getsFill(reply);
      this.countRead(route.node, f !== undefined);
      // A gutter's copy is not the owner's: its stream does not cover the key once the owner is back.
      if (route.fallback || !this.o.options.enabled || !this.cacheable(key)) this.tracker.abandon(token);
      else this.tracker.fill(token, f);
      return f?.value;
    });
  }

  /** Reads a hot key from some member (its owner included); NOT_HOT sends the caller to the owner. */
  private async hotRead(key: string, opts: CallOptions): Promise<unknown> {
    const pick = this.pickHotNode();
    if (pick === undefined) return NOT_HOT;
    const [node, conn] = pick;
    const token = this.tracker.beginRead(key, node);
    let reply: unknown;
    try {
      reply = await conn.request(Ops.HOT_GET, [key], opts);
    } catch {
      this.tracker.abandon(token);
      this.tracker.counters.hotReadsRefused++;
      return NOT_HOT;
    }
    if (reply === false) {
      this.tracker.abandon(token);
      this.tracker.counters.hotReadsRefused++;
      return NOT_HOT;
    }
    this.tracker.counters.hotReads++;
    const hb = this.tracker.counters.hotReadsByNode;
    hb[node] = (hb[node] ?? 0) + 1;
    const f = getsFill(reply);
    this.countRead(node, f !== undefined);
    if (this.o.options.enabled && this.cacheable(key)) this.tracker.fill(token, f);
    else this.tracker.abandon(token);
    return f?.value;
  }

  /** Broadcast with prefixes: the nodes tell this client only of keys under them, so only those may be kept. */
  private cacheable(key: string): boolean {
    const p = this.o.options.prefixes;
    if (p.length === 0) return true;
    for (const x of p) if (key.startsWith(x)) return true;
    return false;
  }

  private pickHotNode(): [string, NodeConnection] | undefined {
    const up = this.members().filter(([, c]) => c.state === 'ready');
    if (up.length === 0) return undefined;
    const preferred = this.o.options.prefer === undefined ? undefined : up.find(([id]) => id === this.o.options.prefer);
    return preferred ?? up[Math.floor(this.random() * up.length)];
  }

  private countRead(node: string, found: boolean): void {
    const c = this.tracker.counters;
    c.readsByNode[node] = (c.readsByNode[node] ?? 0) + 1;
    if (found) c.l2Hits++; else c.l2Misses++;
  }

  private members(): Array<[string, NodeConnection]> {
    const r = this.o.router;
    if (r instanceof ClusterRouter) return r.memberConnections();
    return r.connections().map((c): [string, NodeConnection] => [plainRoute(c).node, c]);
  }

  private onTopology(): void {
    const r = this.o.router as ClusterRouter;
    const next = r.ring;
    const prev = this.ring;
    this.ring = next;
    this.watch.scan();
    if (prev !== undefined) this.tracker.onTopology(movedArcs(prev, next));
  }
}

/** GETS reply → what the L1 keeps; undefined for a miss. */
function getsFill(reply: unknown): Fill | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [bytes, flags, version, ttlMs] = reply as [Uint8Array, number, number, number];
  return { value: decodeValue(bytes, flags), valueBytes: bytes.length, version, ttlMs };
}

/** A SET's own arguments → what the L1 keeps, decoded afresh so the caller's object is not shared. */
function setFill(args: unknown[], version: number): Fill {
  const bytes = args[1] as Buffer;
  const o = (args[2] ?? {}) as { flags?: number; ttlMs?: number };
  // decodeValue copies, so the caller's buffer is not shared either.
  return { value: decodeValue(bytes, o.flags ?? 0), valueBytes: bytes.length, version, ttlMs: o.ttlMs ?? 0 };
}
