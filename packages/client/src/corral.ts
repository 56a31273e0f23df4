import { DefaultLimits, Ops, checkKey, checkValue, encodeValue, systemClock, type Clock } from '@corral/protocol';
import type { BackoffOptions } from './backoff';
import { clientError } from './errors';
import type { Logger } from './logger';
import type { NodeConnection, RequestOptions } from './node-connection';
import {
  readBool, readEntry, readInt, readMap, readTtl, readValue, readValues, readVersion, readVersions, type Entry,
} from './replies';
import { SingleNodeRouter, type Router } from './router';
import { connectFirstSeed } from './seeds';

export interface CorralOptions {
  /** "host:port" of nodes to try, in order; the first that completes a handshake is used. */
  seeds: readonly string[];
  /** Shows up in the node's logs. Default `corral-client:<pid>`. */
  name?: string;
  /** The node's admin token (needed for flush() when the node has one). */
  auth?: string;
  /** Default per-call timeout in ms (default 1000); 0 = none. */
  timeoutMs?: number;
  /** Bound on TCP connect + handshake, per attempt (default 2000). */
  connectTimeoutMs?: number;
  /** Bound on the graceful part of close() (default 2000). */
  closeTimeoutMs?: number;
  /** Reconnect backoff: full jitter under min(capMs, baseMs·2ⁿ) (default 50 ms, 2 s). */
  reconnect?: Partial<BackoffOptions>;
  /** Calls made while disconnected wait in a queue of at most this many (default 1000); 0 = fail fast. */
  maxOfflineQueue?: number;
  /** pino-shaped; nothing is logged without one. */
  logger?: Logger;
  /** For tests. */
  clock?: Clock;
}

/** Every call takes these. */
export type CallOptions = RequestOptions;

export interface TtlOptions extends CallOptions {
  /** Time to live in ms; absent, 0 or Infinity = no expiry. */
  ttlMs?: number;
}

export interface SetOptions extends TtlOptions {
  /** Only if the key is absent. */
  nx?: boolean;
  /** Only if the key is present. */
  xx?: boolean;
}

export type { Entry } from './replies';

/**
 * The public API. It owns no socket: each call checks its arguments, encodes the value, asks the
 * router which connection owns the key, and decodes the reply. Cluster routing, the L1 and the
 * rest arrive underneath it.
 */
export class Corral {
  /** Connects to the first seed that answers. Rejects with E_NOT_CONNECTED when none does. */
  static async connect(options: CorralOptions): Promise<Corral> {
    const { seeds, clock, ...connOpts } = options;
    const conn = await connectFirstSeed(seeds, connOpts);
    return new Corral(new SingleNodeRouter(conn), clock);
  }

  constructor(private readonly router: Router, private readonly clock: Clock = systemClock) {}

  async get<T = unknown>(key: string, opts: CallOptions = {}): Promise<T | undefined> {
    const conn = this.route(key);
    return readValue('GET', await conn.request(Ops.GET, [key], opts)) as T | undefined;
  }

  /** Resolves with the entry's new version, or undefined when an nx/xx condition was not met. */
  async set(key: string, value: unknown, opts: SetOptions = {}): Promise<number | undefined> {
    if (opts.nx && opts.xx) throw clientError('E_BAD_ARGS', 'nx (only if absent) and xx (only if present) cannot both hold');
    const conn = this.route(key);
    const { bytes, flags } = encode(conn, value);
    const o: Record<string, unknown> = { flags, ...ttl(opts.ttlMs) };
    if (opts.nx) o.nx = true;
    if (opts.xx) o.xx = true;
    return readVersion('SET', await conn.request(Ops.SET, [key, bytes, o], opts));
  }

  /** Resolves true when the key existed. */
  async del(key: string, opts: CallOptions = {}): Promise<boolean> {
    const conn = this.route(key);
    return readBool('DEL', await conn.request(Ops.DEL, [key], opts));
  }

  /** Values in the caller's order, undefined for each miss. */
  async mget<T = unknown>(keys: readonly string[], opts: CallOptions = {}): Promise<Array<T | undefined>> {
    const out = new Array<T | undefined>(keys.length);
    await Promise.all(this.byNode(keys, (k) => k).map(async ({ conn, items, indexes }) => {
      const values = readValues('MGET', await conn.request(Ops.MGET, [items], opts), items.length);
      indexes.forEach((i, j) => { out[i] = values[j] as T | undefined; });
    }));
    return out;
  }

  /** Versions in the caller's order. Each key is written atomically; the batch as a whole is not. */
  async mset(entries: ReadonlyArray<readonly [string, unknown]> | Readonly<Record<string, unknown>>, opts: TtlOptions = {}): Promise<number[]> {
    const list: ReadonlyArray<readonly [string, unknown]> = Array.isArray(entries) ? entries : Object.entries(entries);
    const o = ttl(opts.ttlMs);
    const out = new Array<number>(list.length);
    await Promise.all(this.byNode(list, (e) => e[0]).map(async ({ conn, items, indexes }) => {
      const wire = items.map(([k, v]) => { const { bytes, flags } = encode(conn, v); return [k, bytes, flags]; });
      const args = Object.keys(o).length > 0 ? [wire, o] : [wire];
      const versions = readVersions('MSET', await conn.request(Ops.MSET, args, opts), items.length);
      indexes.forEach((i, j) => { out[i] = versions[j]!; });
    }));
    return out;
  }

  /** The value with its version (for cas) and remaining TTL (Infinity = none), or undefined. */
  async gets<T = unknown>(key: string, opts: CallOptions = {}): Promise<Entry<T> | undefined> {
    const conn = this.route(key);
    return readEntry(await conn.request(Ops.GETS, [key], opts)) as Entry<T> | undefined;
  }

  /**
   * Writes only if the entry is still at `version` (from gets). Resolves with the new version;
   * rejects with E_CAS_MISMATCH when someone else wrote (or deleted) it in between.
   */
  async cas(key: string, value: unknown, version: number, opts: TtlOptions = {}): Promise<number> {
    const conn = this.route(key);
    const { bytes, flags } = encode(conn, value);
    const o = { flags, ifVersion: version, ...ttl(opts.ttlMs) };
    const v = readVersion('SET', await conn.request(Ops.SET, [key, bytes, o], opts));
    if (v === undefined) throw clientError('E_CAS_MISMATCH', `${key} is not at version ${version}`, { key, version });
    return v;
  }

  /** Sets a new TTL (0 or Infinity = none) without reading the value; true when the key existed. */
  async touch(key: string, ttlMs: number, opts: CallOptions = {}): Promise<boolean> {
    const conn = this.route(key);
    return readBool('TOUCH', await conn.request(Ops.TOUCH, [key, ttl(ttlMs).ttlMs ?? 0], opts));
  }

  async exists(key: string, opts: CallOptions = {}): Promise<boolean> {
    const conn = this.route(key);
    return readBool('EXISTS', await conn.request(Ops.EXISTS, [key], opts));
  }

  /** Remaining ms; Infinity when the key does not expire; undefined when it is missing. */
  async ttl(key: string, opts: CallOptions = {}): Promise<number | undefined> {
    const conn = this.route(key);
    return readTtl(await conn.request(Ops.TTL, [key], opts));
  }

  /** Adds `delta` to an integer (a missing key counts as 0); `ttlMs` applies only when the key is created. */
  async incrBy(key: string, delta: number, opts: TtlOptions = {}): Promise<number> {
    const conn = this.route(key);
    const o = ttl(opts.ttlMs);
    const args = Object.keys(o).length > 0 ? [key, delta, o] : [key, delta];
    return readInt('INCRBY', await conn.request(Ops.INCRBY, args, opts));
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

  /** The node's counters and gauges, as it reports them. */
  async stats(opts: CallOptions = {}): Promise<Record<string, unknown>> {
    // One node for now. A cluster needs a per-node breakdown; that will be a method of its own
    // (statsByNode), so this one keeps its shape.
    const conn = this.router.connections()[0];
    if (!conn) throw clientError('E_NOT_CONNECTED', 'no node to ask');
    return readMap('STATS', await conn.request(Ops.STATS, [], opts));
  }

  /** Removes every entry on every node (admin: needs `auth` when the node has a token); resolves with the count. */
  async flush(opts: CallOptions = {}): Promise<number> {
    const counts = await Promise.all(this.router.connections().map(async (conn) =>
      readInt('FLUSH', await conn.request(Ops.FLUSH, [], opts))));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Graceful, bounded and idempotent; see NodeConnection.close. */
  close(): Promise<void> {
    return this.router.close();
  }

  /**
   * Checks the key against the owner's limits before anything is sent: an oversized key would cost
   * a round trip to learn the same thing.
   */
  private route(key: string): NodeConnection {
    const conn = this.router.connectionFor(key);
    const err = checkKey(key, conn.limits ?? DefaultLimits);
    if (err) throw err;
    return conn;
  }

  /** Groups items by the connection that owns their key, remembering each one's place in the caller's order. */
  private byNode<I>(items: readonly I[], keyOf: (item: I) => string): Array<{ conn: NodeConnection; items: I[]; indexes: number[] }> {
    const groups = new Map<NodeConnection, { conn: NodeConnection; items: I[]; indexes: number[] }>();
    items.forEach((item, i) => {
      const conn = this.route(keyOf(item));
      let g = groups.get(conn);
      if (!g) groups.set(conn, (g = { conn, items: [], indexes: [] }));
      g.items.push(item);
      g.indexes.push(i);
    });
    return [...groups.values()];
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

/** The wire's ttlMs field: left out when absent (the node rejects nil options); Infinity means none, which the wire spells 0. */
function ttl(ttlMs: number | undefined): { ttlMs?: number } {
  if (ttlMs === undefined) return {};
  if (ttlMs === Infinity) return { ttlMs: 0 };
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 0)
    throw clientError('E_BAD_ARGS', `ttlMs must be a whole number of ms >= 0, or Infinity (got ${ttlMs})`);
  return { ttlMs };
}
