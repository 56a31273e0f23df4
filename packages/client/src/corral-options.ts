/** The options and events of Corral, kept apart from the calls that use them. */
import type { Clock } from '@corral/protocol';
import type { BreakerOptions, BreakerStateChange } from './circuit-breaker';
import type { HotKeyReadOptions, L1Options } from './l1/l1-options';
import type { NodeConnectionOptions, RequestOptions } from './node-connection';
import type { NodeDownPolicy } from './route-choice';
import type { CacheBreakerStateChange } from './stampede/cache-breaker';
import type { StampedeOptions } from './stampede/get-or-set-options';
import type { WriteBehindOptions } from './write/write-behind-queue';
import type { TopologyMember } from './topology';

/** Options every member connection gets as given (documented on NodeConnectionOptions). */
type SharedConnectionOptions = Pick<NodeConnectionOptions,
  'name' | 'auth' | 'timeoutMs' | 'connectTimeoutMs' | 'closeTimeoutMs' | 'reconnect' | 'maxOfflineQueue' | 'logger'>;

export interface CorralOptions extends SharedConnectionOptions {
  /**
   * "host:port" of nodes to try, in order. The first that completes a handshake and answers
   * TOPOLOGY gives the cluster's members; the client then connects to each of them.
   */
  seeds: readonly string[];
  /**
   * Each node's circuit breaker: open after `failureThreshold` consecutive connection errors or
   * timeouts (default 3), probe again after `openMs` (default 1000).
   */
  breaker?: Partial<BreakerOptions>;
  /**
   * While a node's breaker is open: 'fallback' (default) sends its keys to the next node of their
   * preference list, as a gutter (reads there are usually misses, writes get a short TTL);
   * 'fail-fast' rejects them with E_CIRCUIT_OPEN.
   */
  onNodeDown?: NodeDownPolicy;
  /** For tests. */
  clock?: Clock;
  /** getOrSet defaults, the cache-level breaker and the origin limiter (stampede/). */
  stampede?: StampedeOptions;
  /** The database writer behind writeBehind(), and its queue bounds (write/). */
  writeBehind?: WriteBehindOptions;
  /**
   * The near cache (l1/): values kept in this process, dropped when the nodes say they changed;
   * `true` for the defaults. See docs/l1.md for the guarantees and their cost.
   */
  l1?: L1Options | boolean;
  /** Read hot keys from any member (on by default with `l1`); `prefer` a member for local affinity. */
  hotKeys?: HotKeyReadOptions | boolean;
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

export interface CorralEvents {
  /** A newer topology is in use (from a push or a refresh); keys are routed by it from now on. */
  topology: [epoch: number, members: TopologyMember[]];
  /** A node's breaker closed again after its probe succeeded. */
  'node:up': [id: string];
  /** A node's breaker opened: its keys go to their fallback (or fail with E_CIRCUIT_OPEN). */
  'node:down': [id: string];
  /** Every breaker transition, half-open included (for tools and tests). */
  breaker: [change: BreakerStateChange];
  /** Trouble that belongs to no call (a failed refresh, a bad push). Only emitted when someone listens. */
  error: [error: Error];
  /** The cache-level breaker of getOrSet changed state (closed, open: loaders go straight to the origin, half-open). */
  cacheBreaker: [change: CacheBreakerStateChange];
}
