import { Command } from 'commander';
import { DefaultLimits, formatBytes } from '@corral/protocol';
import { defaultHotKeyConfig, defaultInvalidationConfig, GOSSIP_PORT_OFFSET, runNode, type GossipConfig, type NodeConfig } from '@corral/server';
import { asBytes, asDuration, asFraction, asInt, asJsonObject, asPort, envOption, formatMs, parseAddress, positive } from '../options';

interface NodeStartFlags {
  host: string; port: number; maxMemory: number; maxKey: number; maxValue: number; maxFrame: number;
  maxConnections: number; idleTimeout: number; outputBufferSoft: number; outputBufferHard: number;
  outputBufferPause: number; adminToken?: string; metricsPort?: number; metricsHost: string; logLevel: string;
  peers?: string[]; vnodes?: number; respPort?: number; gutterTtl: number; forwardTimeout: number; deadlineGrace: number; shutdownGrace: number;
  gossip: boolean; seeds?: string[]; gossipPort?: number; advertiseHost?: string; clusterKey?: string;
  gossipInterval?: number; probeTimeout?: number; indirectProbes?: number; suspicionMult?: number; pushPullInterval?: number;
  retransmitMult?: number; joinTimeout?: number;
  handoffBatchKeys?: number; handoffBatchSize?: number; handoffRate?: number; handoffReadThroughTimeout?: number; handoffIdleTimeout?: number;
  snapshotFile?: string; snapshotMode: 'keys' | 'entries'; snapshotMaxKeys: number;
  invalidationLogEntries: number; invalidationLogSize: number; invalidationHeartbeat: number; trackingMaxKeys: number;
  invalidationPushBacklog: number;
  hotKeys: boolean; hotKeyThreshold: number; hotKeyHalfLife: number; hotKeyCoolFraction: number; hotKeyMaxKeys: number;
  hotKeyMaxCounted: number; hotKeyMaxCopies: number; hotKeyMaxCopySize: number; hotKeyPeerTimeout: number;
  configJson?: Record<string, unknown>;
}

const asPeerList = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => { parseAddress(x); return x; });

export function nodeStartCommand(): Command {
  const L = DefaultLimits;
  const I = defaultInvalidationConfig;
  const H = defaultHotKeyConfig;
  return new Command('start')
    .description('start a cache node daemon in the foreground (SIGTERM/SIGINT shut it down gracefully)')
    .addOption(envOption('--host <addr>', 'address to bind; keep loopback unless the network is trusted', 'CORRAL_HOST').default('127.0.0.1'))
    .addOption(envOption('--port <port>', 'TCP port for the native protocol (0 = pick a free one)', 'CORRAL_PORT').argParser(asPort).default(7070))
    .addOption(envOption('--max-memory <size>', 'bound on accounted bytes (keys + values + per-entry overhead); LRU evicts above it', 'CORRAL_MAX_MEMORY').argParser(asBytes).default(256 * 1024 * 1024, '256mb'))
    .addOption(envOption('--max-key <bytes>', 'longest key in UTF-8 bytes (E_KEY_TOO_LONG)', 'CORRAL_MAX_KEY').argParser(asBytes).default(L.maxKeyBytes))
    .addOption(envOption('--max-value <size>', 'largest value (E_VALUE_TOO_LARGE)', 'CORRAL_MAX_VALUE').argParser(asBytes).default(L.maxValueBytes, formatBytes(L.maxValueBytes)))
    .addOption(envOption('--max-frame <size>', 'largest frame; checked from the header before allocating, closes the connection', 'CORRAL_MAX_FRAME').argParser(asBytes).default(L.maxFrameBytes, formatBytes(L.maxFrameBytes)))
    .addOption(envOption('--max-connections <n>', 'connections accepted at once (E_TOO_MANY_CONNECTIONS above it)', 'CORRAL_MAX_CONNECTIONS').argParser(asInt).default(L.maxConnections))
    .addOption(envOption('--idle-timeout <duration>', 'close a connection idle this long (e.g. 5m; 0 = never)', 'CORRAL_IDLE_TIMEOUT').argParser(asDuration).default(L.idleTimeoutMs, '5m'))
    .addOption(envOption('--output-buffer-soft <size>', 'unread reply bytes at which the node stops reading a connection', 'CORRAL_OUTPUT_BUFFER_SOFT').argParser(asBytes).default(L.outputBufferSoftBytes, formatBytes(L.outputBufferSoftBytes)))
    .addOption(envOption('--output-buffer-hard <size>', 'unread reply bytes at which the connection is dropped', 'CORRAL_OUTPUT_BUFFER_HARD').argParser(asBytes).default(L.outputBufferHardBytes, formatBytes(L.outputBufferHardBytes)))
    .addOption(envOption('--output-buffer-pause <duration>', 'how long a connection may stay paused for unread replies before it is dropped', 'CORRAL_OUTPUT_BUFFER_PAUSE').argParser(asDuration).default(L.outputBufferPauseMs, '10s'))
    .addOption(envOption('--admin-token <token>', 'require this token (HELLO auth) for admin ops such as FLUSH', 'CORRAL_ADMIN_TOKEN'))
    .addOption(envOption('--metrics-port <port>', 'serve Prometheus metrics on http://<metrics-host>:<port>/metrics (off when absent)', 'CORRAL_METRICS_PORT').argParser(asPort))
    .addOption(envOption('--metrics-host <addr>', 'address for the metrics endpoint', 'CORRAL_METRICS_HOST').default('127.0.0.1'))
    .addOption(envOption('--peers <list>', 'static membership: comma-separated host:port of the other nodes (the ring is built over them and this node)', 'CORRAL_PEERS').argParser(asPeerList))
    .addOption(envOption('--vnodes <n>', 'virtual nodes per member on the hash ring; the same on every node', 'CORRAL_VNODES').argParser(asInt))
    .addOption(envOption('--resp-port <port>', 'serve the Redis-compatible (RESP2) door on this port; keys owned elsewhere are forwarded', 'CORRAL_RESP_PORT').argParser(asPort))
    .addOption(envOption('--gutter-ttl <duration>', 'TTL cap for writes this node takes while standing in for an unreachable owner', 'CORRAL_GUTTER_TTL').argParser(asDuration).default(10_000, '10s'))
    .addOption(envOption('--forward-timeout <duration>', 'timeout for requests forwarded to the owning node', 'CORRAL_FORWARD_TIMEOUT').argParser(asDuration).default(2_000, '2s'))
    .addOption(envOption('--deadline-grace <duration>', 'clients put a deadline (their timeout, wall clock) on every write; a write that reaches this node later than that plus this grace is refused (E_DEADLINE_PASSED) instead of applied after writes made since: keep it above the clock skew between clients and nodes', 'CORRAL_DEADLINE_GRACE').argParser(asDuration).default(250, '250ms'))
    .addOption(envOption('--shutdown-grace <duration>', 'on SIGTERM, how long in-flight work may take before connections are cut', 'CORRAL_SHUTDOWN_GRACE').argParser(asDuration).default(5_000, '5s'))
    .addOption(envOption('--log-level <level>', 'pino log level: trace, debug, info, warn, error', 'CORRAL_LOG_LEVEL').default('info'))
    // Membership by gossip (see docs/operations.md for what each timing trades).
    .addOption(envOption('--seeds <list>', 'gossip: comma-separated gossip addresses (host:gossip-port) of members to join through; none = start alone (the first node, or one to add later with `corral cluster add`)', 'CORRAL_SEEDS').argParser(asPeerList))
    .addOption(envOption('--gossip-port <port>', `UDP+TCP port for gossip (default: --port + ${GOSSIP_PORT_OFFSET}, i.e. 7946 for 7070; 0 when --port is 0)`, 'CORRAL_GOSSIP_PORT').argParser(asPort))
    .addOption(envOption('--advertise-host <addr>', 'the address other nodes and clients dial when --host is a wildcard (0.0.0.0); it names this member (host:port)', 'CORRAL_ADVERTISE_HOST'))
    .addOption(envOption('--cluster-key <secret>', 'shared secret: every gossip packet carries an HMAC-SHA256, packets without a valid one are dropped (same on every node)', 'CORRAL_CLUSTER_KEY'))
    .addOption(envOption('--no-gossip', 'do not gossip: run alone, or with a static --peers list', 'CORRAL_NO_GOSSIP'))
    .addOption(envOption('--gossip-interval <duration>', 'gossip protocol period: each node probes one member per period (default 1s; shorter detects failures sooner, sends more packets)', 'CORRAL_GOSSIP_INTERVAL').argParser(asDuration))
    .addOption(envOption('--probe-timeout <duration>', 'wait this long for a probe\'s ack before asking others to probe (default 500ms, at most half the period; must be under the period)', 'CORRAL_PROBE_TIMEOUT').argParser(asDuration))
    .addOption(envOption('--indirect-probes <n>', 'members asked to probe a member that did not ack (default 3; more = fewer false suspicions, more packets)', 'CORRAL_INDIRECT_PROBES').argParser(asInt))
    .addOption(envOption('--suspicion-mult <n>', 'a suspect is declared dead after mult x max(1, log10 n) periods (default 4; smaller = faster failover, more false deaths)', 'CORRAL_SUSPICION_MULT').argParser(asInt))
    .addOption(envOption('--push-pull-interval <duration>', 'full-state TCP exchange with a random member, repairs what gossip missed (default 30s)', 'CORRAL_PUSH_PULL_INTERVAL').argParser(asDuration))
    .addOption(envOption('--retransmit-mult <n>', 'each membership update rides on mult x log10(n+1) packets (default 4)', 'CORRAL_RETRANSMIT_MULT').argParser(asInt))
    .addOption(envOption('--join-timeout <duration>', 'give up joining the seeds after this long and stay alone (default 0: keep retrying in the background)', 'CORRAL_JOIN_TIMEOUT').argParser(asDuration))
    // Handoff: how keys move when the ring changes.
    .addOption(envOption('--handoff-batch-keys <n>', 'most entries per handoff batch (default 1000)', 'CORRAL_HANDOFF_BATCH_KEYS').argParser(asInt))
    .addOption(envOption('--handoff-batch-size <size>', 'most bytes per handoff batch (default 1mb, at most half of --max-frame)', 'CORRAL_HANDOFF_BATCH_SIZE').argParser(asBytes))
    .addOption(envOption('--handoff-rate <size>', 'throttle outgoing handoff to this many bytes per second (default 64mb; 0 = unthrottled)', 'CORRAL_HANDOFF_RATE').argParser(asBytes))
    .addOption(envOption('--handoff-read-through-timeout <duration>', 'a miss for a key still arriving asks its previous owner; answer as a miss after this long (default 500ms)', 'CORRAL_HANDOFF_READ_THROUGH_TIMEOUT').argParser(asDuration))
    .addOption(envOption('--handoff-idle-timeout <duration>', 'stop reading through to a previous owner silent this long (default 30s)', 'CORRAL_HANDOFF_IDLE_TIMEOUT').argParser(asDuration))
    // Warm restarts (docs/stampede.md#snapshots).
    .addOption(envOption('--snapshot-file <path>', 'on a graceful stop write the hottest keys here (atomically), and load them on start, so a planned restart is not cold; a corrupt file is logged and skipped', 'CORRAL_SNAPSHOT_FILE'))
    .addOption(envOption('--snapshot-mode <mode>', '"entries": keys with values, versions and remaining TTLs; "keys": key names only, for `corral warm --from-snapshot` to reload from the origin', 'CORRAL_SNAPSHOT_MODE').choices(['entries', 'keys']).default('entries'))
    .addOption(envOption('--snapshot-max-keys <n>', 'most keys in a snapshot: the hottest by LRU order', 'CORRAL_SNAPSHOT_MAX_KEYS').argParser(asInt).default(1_000_000))
    // The invalidation stream behind client L1s (docs/l1.md#the-stream).
    .addOption(envOption('--invalidation-log-entries <n>', 'changes kept in the invalidation log for replays (INVALIDATIONS_SINCE); an L1 client whose gap reaches back further drops everything it holds from this node', 'CORRAL_INVALIDATION_LOG_ENTRIES').argParser(positive(asInt)).default(I.logMaxEntries))
    .addOption(envOption('--invalidation-log-size <size>', 'byte bound on the same log (keys may be long): the oldest changes go when either bound is reached', 'CORRAL_INVALIDATION_LOG_SIZE').argParser(positive(asBytes)).default(I.logMaxBytes, formatBytes(I.logMaxBytes)))
    .addOption(envOption('--invalidation-heartbeat <duration>', 'every L1 subscriber hears from the node at least this often, even when nothing changed; clients drop the node\'s L1 entries after 3 silent periods, so this bounds how long a lost push goes unnoticed (shorter = fresher, more packets)', 'CORRAL_INVALIDATION_HEARTBEAT').argParser(positive(asDuration)).default(I.heartbeatMs, formatMs(I.heartbeatMs)))
    .addOption(envOption('--invalidation-push-backlog <size>', 'unsent output at which a subscriber\'s invalidation pushes are skipped rather than buffered (it sees a gap and replays)', 'CORRAL_INVALIDATION_PUSH_BACKLOG').argParser(positive(asBytes)).default(I.pushBacklogBytes, formatBytes(I.pushBacklogBytes)))
    .addOption(envOption('--tracking-max-keys <n>', 'L1 tracking mode: most keys remembered with the connections that read them; past it the oldest key is invalidated at its readers and forgotten', 'CORRAL_TRACKING_MAX_KEYS').argParser(positive(asInt)).default(I.maxTrackedKeys))
    // Hot keys: detected by read counts, copied to every node (docs/l1.md#hot-keys).
    .addOption(envOption('--no-hot-keys', 'do not count reads, detect hot keys or copy them to the other nodes', 'CORRAL_NO_HOT_KEYS'))
    .addOption(envOption('--hot-key-threshold <n>', 'a key turns hot when its decayed read count reaches this (+1 per read, halved every --hot-key-half-life: a steady r reads/s settles at about 1.44 x r x half-life in seconds)', 'CORRAL_HOT_KEY_THRESHOLD').argParser(positive(asInt)).default(H.threshold))
    .addOption(envOption('--hot-key-half-life <duration>', 'read counts halve every this long (longer = bursts count for longer, hot keys cool more slowly)', 'CORRAL_HOT_KEY_HALF_LIFE').argParser(positive(asDuration)).default(H.halfLifeMs, formatMs(H.halfLifeMs)))
    .addOption(envOption('--hot-key-cool-fraction <fraction>', 'a hot key cools once its count (reads here plus reads its copies served) falls below threshold x this; in (0, 1]', 'CORRAL_HOT_KEY_COOL_FRACTION').argParser(asFraction).default(H.coolFraction))
    .addOption(envOption('--hot-key-max-keys <n>', 'most keys this node keeps hot (copied to every node) at once; further crossings are only logged', 'CORRAL_HOT_KEY_MAX_KEYS').argParser(positive(asInt)).default(H.maxHotKeys))
    .addOption(envOption('--hot-key-max-counted <n>', 'keys whose reads are counted at once; past it the coldest are swept out', 'CORRAL_HOT_KEY_MAX_COUNTED').argParser(positive(asInt)).default(H.maxCounted))
    .addOption(envOption('--hot-key-max-copies <n>', 'most copies of other owners\' hot keys this node holds', 'CORRAL_HOT_KEY_MAX_COPIES').argParser(positive(asInt)).default(H.maxCopies))
    .addOption(envOption('--hot-key-max-copy-size <size>', 'bytes those copies may take; they are kept apart from the store, on top of --max-memory', 'CORRAL_HOT_KEY_MAX_COPY_SIZE').argParser(positive(asBytes)).default(H.maxCopyBytes, formatBytes(H.maxCopyBytes)))
    .addOption(envOption('--hot-key-peer-timeout <duration>', 'timeout of node-to-node hot-key requests (HOT_SYNC, fetching a copy, replays)', 'CORRAL_HOT_KEY_PEER_TIMEOUT').argParser(positive(asDuration)).default(H.peerTimeoutMs, formatMs(H.peerTimeoutMs)))
    // Escape hatch for NodeConfig fields without a flag (node-config.ts).
    .addOption(envOption('--config-json <json>', 'advanced: NodeConfig fields that no flag sets, as a JSON object merged into the configuration (e.g. \'{"expiryIntervalMs":50}\'); a field a flag sets, given or by default, is refused: use the flag', 'CORRAL_CONFIG_JSON').argParser(asJsonObject))
    .action(async (f: NodeStartFlags) => {
      const config: Partial<NodeConfig> = {
        host: f.host, port: f.port, maxMemoryBytes: f.maxMemory,
        maxKeyBytes: f.maxKey, maxValueBytes: f.maxValue, maxFrameBytes: f.maxFrame,
        maxConnections: f.maxConnections, idleTimeoutMs: f.idleTimeout,
        outputBufferSoftBytes: f.outputBufferSoft, outputBufferHardBytes: f.outputBufferHard,
        outputBufferPauseMs: f.outputBufferPause, adminToken: f.adminToken,
        metricsPort: f.metricsPort, metricsHost: f.metricsHost, logLevel: f.logLevel,
        peers: f.peers, vnodes: f.vnodes, respPort: f.respPort, gutterTtlMs: f.gutterTtl,
        forwardTimeoutMs: f.forwardTimeout, deadlineGraceMs: f.deadlineGrace, shutdownGraceMs: f.shutdownGrace, advertiseHost: f.advertiseHost,
        gossip: gossipConfig(f),
        handoff: {
          batchKeys: f.handoffBatchKeys, batchBytes: f.handoffBatchSize, maxBytesPerSec: f.handoffRate,
          readThroughTimeoutMs: f.handoffReadThroughTimeout, idleTimeoutMs: f.handoffIdleTimeout,
        },
        snapshotFile: f.snapshotFile, snapshotMode: f.snapshotMode, snapshotMaxKeys: f.snapshotMaxKeys,
        invalidation: {
          logMaxEntries: f.invalidationLogEntries, logMaxBytes: f.invalidationLogSize, heartbeatMs: f.invalidationHeartbeat,
          maxTrackedKeys: f.trackingMaxKeys, pushBacklogBytes: f.invalidationPushBacklog,
        },
        hotKeys: {
          enabled: f.hotKeys, threshold: f.hotKeyThreshold, halfLifeMs: f.hotKeyHalfLife, coolFraction: f.hotKeyCoolFraction,
          maxHotKeys: f.hotKeyMaxKeys, maxCounted: f.hotKeyMaxCounted, maxCopies: f.hotKeyMaxCopies, maxCopyBytes: f.hotKeyMaxCopySize,
          peerTimeoutMs: f.hotKeyPeerTimeout,
        },
      };
      await runNode(withConfigJson(config, f.configJson));
    });
}

/**
 * Merges --config-json into the configuration the flags made. The JSON may only add fields no flag
 * set (nested objects merge field by field), so a flag, or its default, never silently overrides it
 * and it never silently overrides a flag.
 */
export function withConfigJson(fromFlags: Partial<NodeConfig>, json: Record<string, unknown> | undefined): Partial<NodeConfig> {
  if (json === undefined) return fromFlags;
  const clashes: string[] = [];
  const merge = (mine: Record<string, unknown>, theirs: Record<string, unknown>, path: string): Record<string, unknown> => {
    const out = { ...mine };
    for (const [k, v] of Object.entries(theirs)) {
      const m = mine[k];
      if (isPlainObject(m) && isPlainObject(v)) out[k] = merge(m, v, `${path}${k}.`);
      else if (m !== undefined) clashes.push(`${path}${k}`);
      else out[k] = v;
    }
    return out;
  };
  const merged = merge(fromFlags as Record<string, unknown>, json, '');
  if (clashes.length > 0)
    throw new Error(`--config-json sets ${clashes.join(', ')}, which ${clashes.length === 1 ? 'a flag sets' : 'flags set'} (given or by default): use the flag instead`);
  return merged as Partial<NodeConfig>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Gossip is the default way a cluster forms; a static --peers list or --no-gossip turns it off. */
function gossipConfig(f: NodeStartFlags): GossipConfig | undefined {
  if (!f.gossip || (f.peers && f.peers.length > 0)) {
    if (f.seeds && f.seeds.length > 0) throw new Error('--seeds needs gossip: drop --peers / --no-gossip, or drop --seeds');
    return undefined;
  }
  return {
    port: f.gossipPort, seeds: f.seeds, clusterKey: f.clusterKey,
    protocolPeriodMs: f.gossipInterval, probeTimeoutMs: f.probeTimeout, indirectProbes: f.indirectProbes,
    suspicionMult: f.suspicionMult, pushPullIntervalMs: f.pushPullInterval, retransmitMult: f.retransmitMult, joinTimeoutMs: f.joinTimeout,
  };
}
