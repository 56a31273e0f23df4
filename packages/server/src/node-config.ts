import { DefaultLimits, type Clock, type Limits } from '@corral/protocol';
import type { Logger } from 'pino';
import { validateGossipConfig, type GossipConfig, type HandoffConfig } from './cluster/cluster-config';
import type { HotKeyConfig } from './hotkeys/hot-key-config';
import type { InvalidationConfig } from './invalidation/invalidation-config';
import type { SnapshotMode } from './snapshot/snapshot-format';

// The invalidation and hot-key settings are part of NodeConfig: `corral node start` shows their defaults.
export { defaultInvalidationConfig, type InvalidationConfig } from './invalidation/invalidation-config';
export { defaultHotKeyConfig, type HotKeyConfig } from './hotkeys/hot-key-config';

/**
 * Everything a cache node can be told. All fields are optional in `CacheNode.start`. The limits
 * come from the protocol's DefaultLimits; `idleTimeoutMs: 0` means never close idle connections.
 */
export interface NodeConfig extends Limits {
  /** Interface to bind. Loopback by default: exposing a cache is a decision, not an accident. */
  host: string;
  /** TCP port; 0 picks a free one (read it back from `node.address`). */
  port: number;
  /** Bound on the store's accounted bytes (keys + values + per-entry overhead). */
  maxMemoryBytes: number;
  /** When set, admin ops (FLUSH) need a HELLO carrying this token. */
  adminToken?: string;
  /** Port for the Prometheus endpoint (/metrics, /healthz); 0 or absent = off. */
  metricsPort?: number;
  /** Interface for the metrics endpoint; defaults to `host`. */
  metricsHost?: string;
  /** Defaults to `${host}:${port}` once bound. */
  nodeId?: string;
  /** Defaults to pino JSON on stdout at `logLevel`. */
  logger?: Logger;
  /** Level for the default logger (ignored when `logger` is given); defaults to $CORRAL_LOG_LEVEL or info. */
  logLevel?: string;
  /** Default grace for `stop()` and for SIGTERM/SIGINT under runNode. */
  shutdownGraceMs: number;
  /** Time source for TTLs and versions; tests inject a manual clock. */
  clock?: Clock;
  /** How often active expiry runs. */
  expiryIntervalMs: number;
  /** Other members as host:port (static membership); the ring is built over them and this node. */
  peers?: string[];
  /** Virtual nodes per member; must be the same on every node and client (TOPOLOGY carries it). */
  vnodes?: number;
  /** Port for the Redis-compatible (RESP2) door; absent = off, 0 = pick a free one. */
  respPort?: number;
  /** TTL cap for writes a node takes as the fallback (gutter) of an unreachable owner. */
  gutterTtlMs: number;
  /** Timeout for requests this node forwards to other nodes (RESP door). */
  forwardTimeoutMs: number;
  /**
   * How long past the deadline a client put on a write (request meta) the node still applies it:
   * room for clock skew between clients and nodes. Later, the write is refused (E_DEADLINE_PASSED).
   */
  deadlineGraceMs: number;
  /** Membership by gossip (SWIM); absent = no gossip (a lone node, or a static --peers cluster). */
  gossip?: GossipConfig;
  /** Batching, throttling and read-through of key handoff when the ring changes (cluster/cluster-config.ts). */
  handoff?: Partial<HandoffConfig>;
  /** The host peers and clients dial when `host` is a wildcard (0.0.0.0): it names the member (host:port). */
  advertiseHost?: string;
  /** The invalidation stream behind client L1s: log size, heartbeat, tracking bound (invalidation/invalidation-config.ts). */
  invalidation?: Partial<InvalidationConfig>;
  /** Hot-key detection and copies on every node (hotkeys/hot-key-config.ts). */
  hotKeys?: Partial<HotKeyConfig>;
  /** Warm restarts (snapshot/): the hottest keys are written here on a graceful stop and loaded on start; absent = off. */
  snapshotFile?: string;
  /** 'entries' (default): values, versions and remaining TTLs; 'keys': key names only, for a warmer to reload. */
  snapshotMode: SnapshotMode;
  /** Most keys a snapshot holds (the hottest by LRU order). */
  snapshotMaxKeys: number;
}

export const defaultNodeConfig: Readonly<NodeConfig> = Object.freeze({
  host: '127.0.0.1',
  port: 7070,
  maxMemoryBytes: 256 * 1024 * 1024,
  ...DefaultLimits,
  shutdownGraceMs: 5_000,
  expiryIntervalMs: 100,
  gutterTtlMs: 10_000,
  forwardTimeoutMs: 2_000,
  deadlineGraceMs: 250,
  snapshotMode: 'entries',
  snapshotMaxKeys: 1_000_000,
});

/** Bytes a SET frame needs around its key and value (frame array, op, options map). */
const SET_FRAME_SLACK = 256;

/** Fills defaults and rejects combinations that cannot work, with a message naming the field. */
export function resolveNodeConfig(partial: Partial<NodeConfig> = {}): NodeConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c = { ...defaultNodeConfig, ...defined } as NodeConfig;
  const positive = ['maxMemoryBytes', 'maxKeyBytes', 'maxValueBytes', 'maxFrameBytes', 'maxConnections',
    'outputBufferSoftBytes', 'outputBufferHardBytes', 'outputBufferPauseMs', 'expiryIntervalMs', 'gutterTtlMs', 'forwardTimeoutMs'] as const;
  for (const k of positive)
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) throw new RangeError(`${k} must be a positive integer, got ${String(c[k])}`);
  for (const k of ['idleTimeoutMs', 'shutdownGraceMs', 'deadlineGraceMs'] as const)
    if (!Number.isSafeInteger(c[k]) || c[k] < 0) throw new RangeError(`${k} must be an integer >= 0, got ${String(c[k])}`);
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new RangeError(`port must be 0..65535, got ${c.port}`);
  if (c.metricsPort !== undefined && (!Number.isInteger(c.metricsPort) || c.metricsPort < 0 || c.metricsPort > 65535))
    throw new RangeError(`metricsPort must be 0..65535, got ${c.metricsPort}`);
  if (c.maxFrameBytes > 0xffffffff) throw new RangeError('maxFrameBytes must fit the 4-byte frame header');
  if (c.maxKeyBytes + c.maxValueBytes + SET_FRAME_SLACK > c.maxFrameBytes)
    throw new RangeError(`maxFrameBytes (${c.maxFrameBytes}) must exceed maxKeyBytes + maxValueBytes + ${SET_FRAME_SLACK}, ` +
      'or the largest allowed value could never be sent');
  if (c.outputBufferHardBytes < c.outputBufferSoftBytes)
    throw new RangeError('outputBufferHardBytes must be >= outputBufferSoftBytes');
  if (c.respPort !== undefined && (!Number.isInteger(c.respPort) || c.respPort < 0 || c.respPort > 65535))
    throw new RangeError(`respPort must be 0..65535, got ${c.respPort}`);
  for (const p of c.peers ?? [])
    if (!/^[^\s:]+:\d{1,5}$/.test(p) && !/^\[[^\]]+\]:\d{1,5}$/.test(p)) throw new RangeError(`peer "${p}" is not host:port`);
  if (c.vnodes !== undefined && (!Number.isSafeInteger(c.vnodes) || c.vnodes <= 0)) throw new RangeError('vnodes must be a positive integer');
  if (c.snapshotMode !== 'entries' && c.snapshotMode !== 'keys') throw new RangeError(`snapshotMode must be "keys" or "entries", got ${String(c.snapshotMode)}`);
  if (!Number.isSafeInteger(c.snapshotMaxKeys) || c.snapshotMaxKeys <= 0 || c.snapshotMaxKeys > 0xffffffff)
    throw new RangeError(`snapshotMaxKeys must be an integer in 1..${0xffffffff}, got ${String(c.snapshotMaxKeys)}`);
  if (c.snapshotFile === '') throw new RangeError('snapshotFile must not be empty (omit it to turn snapshots off)');
  if (c.adminToken === '') throw new RangeError('adminToken must not be empty (omit it to disable admin auth)');
  if (c.gossip) {
    if (c.peers && c.peers.length > 0) throw new RangeError('choose static peers (--peers) or gossip (--seeds), not both');
    validateGossipConfig(c.gossip);
  }
  return c;
}
