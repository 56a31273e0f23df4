import { EventEmitter } from 'node:events';
import { DefaultLimits, Ops, checkKey, checkValue, encodeValue, systemClock, type Clock, type OpSpec } from '@corral/protocol';
import { DEFAULT_VNODES, loadRingHasher } from '@corral/ring';
import { ClusterRouter, type TopologyView } from './cluster-router';
import type { CallOptions, CorralEvents, CorralOptions, SetOptions, TtlOptions } from './corral-options';
import { discoverTopology } from './discovery';
import { clientError } from './errors';
import { dispatchMany, dispatchOne } from './keyed-dispatch';
import { L1Client } from './l1/l1-client';
import { resolveL1Options, type ResolvedL1Options } from './l1/l1-options';
import type { L1Stats } from './l1/l1-stats';
import type { NodeConnection } from './node-connection';
import {
  readBool, readEntry, readInt, readMap, readTtl, readValue, readValues, readVersion, readVersions, type Entry,
} from './replies';
import { SingleNodeRouter, plainRoute, type Route, type Router } from './router';
import type { Lock, LockOptions } from './stampede/distributed-lock';
import type { GetOrSetOptions } from './stampede/get-or-set-options';
import type { Loader } from './stampede/loader-run';
import { StampedeServices, type StampedeReport, type StampedeServicesOptions } from './stampede/stampede-services';
import type { BackgroundWarmer, BackgroundWarmerOptions } from './warm/background-warmer';
import { interleave, readSnapshotKeys } from './warm/snapshot-keys';
import type { WarmLoader, WarmOptions, WarmResult } from './warm/warmer';
import type { SetIfNewerOptions, UpdateOptions, WriteOptions } from './write/write-strategies';

export type { CallOptions, CorralEvents, CorralOptions, SetOptions, TtlOptions } from './corral-options';
export type { Entry } from './replies';

/**
 * The public API. It owns no socket: each call checks its arguments, encodes the value, asks the
 * router for the key's route (its owner, or a fallback while the owner's breaker is open), and
 * decodes the reply. The L1 and the rest arrive underneath it.
 *
 * It is an EventEmitter (see CorralEvents). 'error' is emitted only when someone listens, so a
 * cluster hiccup never becomes an unhandled 'error' that kills the process.
 */
export class Corral extends EventEmitter<CorralEvents> {
  /**
   * Connects to the first seed that answers, learns the cluster from it (TOPOLOGY) and connects to
   * every member that owns keys. A node without TOPOLOGY is used as a single node, as before.
   * Rejects with E_NOT_CONNECTED when no seed answers.
   */
  static async connect(options: CorralOptions): Promise<Corral> {
    const { seeds, clock, breaker, onNodeDown, stampede, writeBehind, l1, hotKeys, ...connOpts } = options;
    const near = resolveL1Options(l1, hotKeys); // validated before any connection is made
    const extras: StampedeServicesOptions = { ...(stampede && { stampede }), ...(writeBehind && { writeBehind }), ...(options.logger && { logger: options.logger }) };
    await loadRingHasher(); // first: a failure here must not leave a connection open
    const { conn, topology } = await discoverTopology(seeds, connOpts);
    if (!topology) return new Corral(new SingleNodeRouter(conn), clock, extras, near);
    const router = await ClusterRouter.create(topology, {
      connection: connOpts,
      ...(breaker && { breaker }),
      ...(onNodeDown && { onNodeDown }),
      ...(clock && { clock }),
    }, conn);
    return new Corral(router, clock, extras, near);
  }

  private stampedeServices: StampedeServices | undefined;
  private closingAfterWrites: Promise<void> | undefined;
  /** The near cache and hot-key reads (l1/); absent unless `l1` or `hotKeys` was asked for. */
  private readonly l1: L1Client | undefined;

  constructor(private readonly router: Router, private readonly clock: Clock = systemClock,
    private readonly extras: StampedeServicesOptions = {}, l1?: ResolvedL1Options) {
    super();
    this.l1 = l1 && new L1Client({
      router, routeOf: this.routeFn, shouldRetry: this.retryFn, options: l1, clock,
      ...(extras.logger && { logger: extras.logger }),
    });
    if (router instanceof ClusterRouter) {
      router.on('topology', (epoch, members) => this.emit('topology', epoch, members));
      router.on('node:up', (id) => this.emit('node:up', id));
      router.on('node:down', (id) => this.emit('node:down', id));
      router.on('breaker', (c) => this.emit('breaker', c));
      router.on('error', (e) => { if (this.listenerCount('error') > 0) this.emit('error', e); });
    }
  }

  async get<T = unknown>(key: string, opts: CallOptions = NO_OPTIONS): Promise<T | undefined> {
    if (this.l1) return this.l1.get(key, opts) as T | undefined;
    return this.one(key, Ops.GET, () => [key], opts, (r) => readValue('GET', r) as T | undefined);
  }

  /** Resolves with the entry's new version, or undefined when an nx/xx condition was not met. */
  async set(key: string, value: unknown, opts: SetOptions = NO_OPTIONS): Promise<number | undefined> {
    if (opts.nx && opts.xx) throw clientError('E_BAD_ARGS', 'nx (only if absent) and xx (only if present) cannot both hold');
    const t = ttl(opts.ttlMs);
    return this.one(key, Ops.SET, (route) => {
      const { bytes, flags } = encode(route.conn, value);
      const o: Record<string, unknown> = { flags };
      if (t.ttlMs !== undefined) o.ttlMs = t.ttlMs;
      if (opts.nx) o.nx = true;
      if (opts.xx) o.xx = true;
      return [key, bytes, o];
    }, opts, (r) => readVersion('SET', r));
  }

  /** Resolves true when the key existed. */
  async del(key: string, opts: CallOptions = NO_OPTIONS): Promise<boolean> {
    return this.one(key, Ops.DEL, () => [key], opts, (r) => readBool('DEL', r));
  }

  /** Values in the caller's order, undefined for each miss. Keys are split by node and asked in parallel. */
  async mget<T = unknown>(keys: readonly string[], opts: CallOptions = {}): Promise<Array<T | undefined>> {
    if (this.l1) return this.l1.mget(keys, opts) as Promise<Array<T | undefined>>;
    return this.many(keys, (k) => k, async (route, items) =>
      readValues('MGET', await route.request(Ops.MGET, [items], opts), items.length) as Array<T | undefined>);
  }

  /** Versions in the caller's order. Each key is written atomically; the batch as a whole is not. */
  async mset(entries: ReadonlyArray<readonly [string, unknown]> | Readonly<Record<string, unknown>>, opts: TtlOptions = {}): Promise<number[]> {
    const list: ReadonlyArray<readonly [string, unknown]> = Array.isArray(entries) ? entries : Object.entries(entries);
    const o = ttl(opts.ttlMs);
    const send = () => this.many(list, (e) => e[0], async (route, items) => {
      const wire = items.map(([k, v]) => { const { bytes, flags } = encode(route.conn, v); return [k, bytes, flags]; });
      const args = Object.keys(o).length > 0 ? [wire, o] : [wire];
      return readVersions('MSET', await route.request(Ops.MSET, args, opts), items.length);
    });
    return this.l1 ? this.l1.writeMany(list.map((e) => e[0]), send) : send();
  }

  /** The value with its version (for cas) and remaining TTL (Infinity = none), or undefined. */
  async gets<T = unknown>(key: string, opts: CallOptions = {}): Promise<Entry<T> | undefined> {
    return this.one(key, Ops.GETS, () => [key], opts, (r) => readEntry(r) as Entry<T> | undefined);
  }

  /**
   * Writes only if the entry is still at `version` (from gets). Resolves with the new version;
   * rejects with E_CAS_MISMATCH when someone else wrote (or deleted) it in between.
   */
  async cas(key: string, value: unknown, version: number, opts: TtlOptions = {}): Promise<number> {
    const t = ttl(opts.ttlMs);
    const v = await this.one(key, Ops.SET, (route) => {
      const { bytes, flags } = encode(route.conn, value);
      return [key, bytes, { flags, ifVersion: version, ...t }];
    }, opts, (r) => readVersion('SET', r));
    if (v === undefined) throw clientError('E_CAS_MISMATCH', `${key} is not at version ${version}`, { key, version });
    return v;
  }

  /** Sets a new TTL (0 or Infinity = none) without reading the value; true when the key existed. */
  async touch(key: string, ttlMs: number, opts: CallOptions = {}): Promise<boolean> {
    const t = ttl(ttlMs).ttlMs ?? 0;
    return this.one(key, Ops.TOUCH, () => [key, t], opts, (r) => readBool('TOUCH', r));
  }

  async exists(key: string, opts: CallOptions = {}): Promise<boolean> {
    return this.one(key, Ops.EXISTS, () => [key], opts, (r) => readBool('EXISTS', r));
  }

  /** Remaining ms; Infinity when the key does not expire; undefined when it is missing. */
  async ttl(key: string, opts: CallOptions = {}): Promise<number | undefined> {
    return this.one(key, Ops.TTL, () => [key], opts, readTtl);
  }

  /** Adds `delta` to an integer (a missing key counts as 0); `ttlMs` applies only when the key is created. */
  async incrBy(key: string, delta: number, opts: TtlOptions = {}): Promise<number> {
    const o = ttl(opts.ttlMs);
    const args = Object.keys(o).length > 0 ? [key, delta, o] : [key, delta];
    return this.one(key, Ops.INCRBY, () => args, opts, (r) => readInt('INCRBY', r));
  }

  /** Round trip to every node; resolves with the slowest, in ms. */
  async ping(opts: CallOptions = {}): Promise<number> {
    const rtts = await Promise.all(this.router.connections().map(async (conn) => {
      const t0 = this.clock.now();
      const reply = await conn.request(Ops.PING, [], opts);
      if (reply !== 'PONG') throw clientError('E_INTERNAL', `unexpected PING reply from ${conn.node}`);
      return this.clock.now() - t0;
    }));
    return Math.max(0, ...rtts);
  }

  /**
   * One node's counters and gauges, as it reports them. In a cluster that is the first member in
   * id order, not a sum (a sum of gauges such as uptime means nothing): use statsByNode() there.
   */
  async stats(opts: CallOptions = {}): Promise<Record<string, unknown>> {
    const conn = this.router.connections()[0];
    if (!conn) throw clientError('E_NOT_CONNECTED', 'no node to ask');
    const node = readMap('STATS', await conn.request(Ops.STATS, [], opts));
    return this.l1 ? { ...node, l1: this.l1.stats() } : node;
  }

  /** What the near cache did in this client: hits, misses, refused fills, gaps, replays, flushes, hot reads. Undefined without an L1. */
  l1Stats(): L1Stats | undefined {
    return this.l1?.stats();
  }

  /**
   * Every node's stats, by node id, asked in parallel. A node that does not answer does not fail
   * the whole call (tools want the rest): its entry is `{ error: { code, message } }` instead.
   */
  async statsByNode(opts: CallOptions = {}): Promise<Record<string, Record<string, unknown>>> {
    const nodes = this.router instanceof ClusterRouter
      ? this.router.memberConnections()
      : this.router.connections().map((c): [string, NodeConnection] => [plainRoute(c).node, c]);
    const entries = await Promise.all(nodes.map(async ([id, conn]): Promise<[string, Record<string, unknown>]> => {
      try {
        return [id, readMap('STATS', await conn.request(Ops.STATS, [], opts))];
      } catch (e) {
        return [id, { error: { code: (e as { code?: unknown }).code ?? 'E_INTERNAL', message: (e as Error).message } }];
      }
    }));
    return Object.fromEntries(entries);
  }

  /** Removes every entry on every node (admin: needs `auth` when the node has a token); resolves with the count. */
  async flush(opts: CallOptions = {}): Promise<number> {
    const counts = await Promise.all(this.router.connections().map(async (conn) =>
      readInt('FLUSH', await conn.request(Ops.FLUSH, [], opts))));
    this.l1?.flushed();
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * The cluster as this client routes it: ring epoch, vnodes, and each member with its state and
   * its breaker. Without a cluster router (a node that predates TOPOLOGY, or a custom router), the
   * router's connections as alive members of epoch 0.
   */
  topology(): TopologyView {
    if (this.router instanceof ClusterRouter) return this.router.topology();
    return {
      epoch: 0,
      vnodes: DEFAULT_VNODES,
      members: this.router.connections().map((c) => ({ id: plainRoute(c).node, state: 'alive' as const, incarnation: 0, breaker: 'closed' as const })),
    };
  }

  /** The node that owns `key` under the current ring, whether or not it is up. */
  ownerOf(key: string): string {
    return this.router instanceof ClusterRouter ? this.router.ownerOf(key) : this.routeOf(key).node;
  }

  /** Graceful, bounded and idempotent; see NodeConnection.close. */
  // Stampede prevention, locks, write strategies and warming: thin doors onto stampede/, write/, warm/.

  /**
   * The value of `key`, loading it with `loader` on a miss: one loader call per key in this
   * process (coalescing) and, through node leases, in the whole fleet; stale-while-revalidate
   * within graceMs, XFetch early refresh, soft/hard timeouts. See GetOrSetOptions.
   */
  getOrSet<T>(key: string, loader: Loader<T>, opts?: GetOrSetOptions): Promise<T> {
    return this.stampede.getOrSet.getOrSet(key, loader, opts);
  }

  /** What getOrSet, locks and the write paths did in this client. */
  stampedeStats(): StampedeReport {
    return this.stampede.report();
  }

  /** A lock with a TTL and a fencing token that only goes up; E_LOCK_HELD if still held after waitMs. */
  lock(name: string, opts?: LockOptions): Promise<Lock> {
    return this.stampede.locks.lock(name, opts);
  }

  /** `write(value)` to the database, then the value to the cache. */
  writeThrough(key: string, value: unknown, write: (value: unknown) => Promise<void>, opts?: WriteOptions): Promise<number | undefined> {
    return this.stampede.writes.writeThrough(key, value, write, opts);
  }

  /** `write()` to the database, then delete the key. */
  writeAround(key: string, write: () => Promise<void>): Promise<void> {
    return this.stampede.writes.writeAround(key, write);
  }

  /** The value to the cache now, to the database (CorralOptions.writeBehind.write) soon; see WriteBehindQueue for what a crash loses. */
  writeBehind(key: string, value: unknown, opts?: WriteOptions): Promise<number | undefined> {
    return this.stampede.writes.writeBehind(key, value, opts);
  }

  /** Sends every queued write-behind write now and waits for them. */
  flushWrites(): Promise<void> {
    return this.stampede.writeBehindQueue().flush();
  }

  /** Stores only if `sourceVersion` is newer than the entry's; undefined when it is not. */
  setIfNewer(key: string, value: unknown, sourceVersion: number, opts?: SetIfNewerOptions): Promise<number | undefined> {
    return this.stampede.writes.setIfNewer(key, value, sourceVersion, opts);
  }

  /** Read-modify-write as a bounded CAS loop. */
  update<T>(key: string, fn: (current: T | undefined) => T | undefined | Promise<T | undefined>, opts?: UpdateOptions): Promise<T | undefined> {
    return this.stampede.writes.update(key, fn, opts);
  }

  /** Loads `keys` that are not cached yet, `concurrency` at a time. */
  warm(keys: Iterable<string>, loader: WarmLoader, opts?: WarmOptions): Promise<WarmResult> {
    return this.stampede.warm(keys, loader, opts);
  }

  /**
   * Starts a background warmer: it tracks getOrSet accesses with decaying counters and reloads hot
   * keys through `loader` shortly before they expire, through the lease (once per expiry fleet-wide).
   * `warmer.stop()` or `close()` ends it.
   */
  startWarmer(opts: BackgroundWarmerOptions): BackgroundWarmer {
    return this.stampede.startWarmer(opts);
  }

  /**
   * The keys the nodes' snapshots ask to reload from the origin (`--snapshot-mode keys`, or entries
   * that expired while a node was down), hottest first across nodes: `warm(await cache.snapshotKeys(), load)`.
   */
  async snapshotKeys(opts: CallOptions = {}): Promise<string[]> {
    return interleave(await Promise.all(this.router.connections().map((c) => readSnapshotKeys(c, opts))));
  }

  /**
   * Graceful, bounded and idempotent; see NodeConnection.close. Background warmers stop first (no
   * new refreshes; running ones finish), then queued write-behind writes flush, while the cache is
   * still reachable.
   */
  close(): Promise<void> {
    this.l1?.close();
    const warmersStopped = this.stampedeServices?.stopWarmers();
    const flushing = this.stampedeServices?.closeWrites();
    if (flushing === undefined && warmersStopped === undefined) return this.router.close();
    this.closingAfterWrites ??= Promise.all([warmersStopped, flushing]).then(() => this.router.close());
    return this.closingAfterWrites;
  }

  private get stampede(): StampedeServices {
    if (this.stampedeServices === undefined) {
      const calls = { call: (key: string, op: OpSpec, args: unknown[], opts: CallOptions = {}) => this.one(key, op, () => args, opts, (r) => r) };
      this.stampedeServices = new StampedeServices(calls, this, this.clock, this.extras);
      this.stampedeServices.getOrSet.breaker.on('stateChange', (c) => this.emit('cacheBreaker', c));
    }
    return this.stampedeServices;
  }

  /**
   * Checks the key against the node's limits before anything is sent: an oversized key would cost
   * a round trip to learn the same thing.
   */
  private routeOf(key: string): Route {
    const route = this.router.routeFor ? this.router.routeFor(key) : plainRoute(this.router.connectionFor(key));
    const err = checkKey(key, route.conn.limits ?? DefaultLimits);
    if (err) throw err;
    return route;
  }

  private readonly routeFn = (key: string): Route => this.routeOf(key);
  private readonly retryFn = (err: unknown, route: Route): Promise<boolean> =>
    this.router.shouldRetry ? this.router.shouldRetry(err, route) : Promise.resolve(false);

  /** A call about one key: `args` is built per route, since values are checked against that node's limits. */
  private one<R>(key: string, op: OpSpec, args: (route: Route) => unknown[], opts: CallOptions, read: (reply: unknown) => R): Promise<R> {
    // Every write of one key, whichever API made it (set, cas, incrBy, getOrSet's LSET…), keeps the L1 in step.
    if (this.l1 && op.mutates) return this.l1.write(key, op, args, opts, read);
    return dispatchOne(key, this.routeFn, this.retryFn, async (route) => read(await route.request(op, args(route), opts)));
  }

  private many<I, R>(items: readonly I[], keyOf: (item: I) => string, send: (route: Route, items: I[]) => Promise<R[]>): Promise<R[]> {
    return dispatchMany(items, keyOf, this.routeFn, this.retryFn, send);
  }
}

/** Encodes a value and checks it against the owner's limit, so an oversized value never leaves the process. */
function encode(conn: NodeConnection, value: unknown): { bytes: Buffer; flags: number } {
  let encoded: { bytes: Buffer; flags: number };
  try {
    encoded = encodeValue(value);
  } catch (e) {
    throw clientError('E_BAD_ARGS', `the value cannot be cached: ${(e as Error).message}`, undefined, e);
  }
  const err = checkValue(encoded.bytes, conn.limits ?? DefaultLimits);
  if (err) throw err;
  return encoded;
}

/** The options of a call made without any: one shared object rather than one per call (get and set are the hot paths). */
const NO_OPTIONS: Readonly<SetOptions> = Object.freeze({});

/** The wire's ttlMs field: left out when absent (the node rejects nil options); Infinity means none, which the wire spells 0. */
function ttl(ttlMs: number | undefined): { ttlMs?: number } {
  if (ttlMs === undefined) return {};
  if (ttlMs === Infinity) return { ttlMs: 0 };
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 0)
    throw clientError('E_BAD_ARGS', `ttlMs must be a whole number of ms >= 0, or Infinity (got ${ttlMs})`);
  return { ttlMs };
}
