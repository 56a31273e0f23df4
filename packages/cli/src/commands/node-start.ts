import { Command } from 'commander';
import { DefaultLimits, formatBytes } from '@corral/protocol';
import { runNode, type NodeConfig } from '@corral/server';
import { asBytes, asDuration, asInt, asPort, envOption, parseAddress } from '../options';

interface NodeStartFlags {
  host: string; port: number; maxMemory: number; maxKey: number; maxValue: number; maxFrame: number;
  maxConnections: number; idleTimeout: number; outputBufferSoft: number; outputBufferHard: number;
  outputBufferPause: number; adminToken?: string; metricsPort?: number; metricsHost: string; logLevel: string;
  peers?: string[]; vnodes?: number; respPort?: number; gutterTtl: number; forwardTimeout: number; shutdownGrace: number;
}

const asPeerList = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => { parseAddress(x); return x; });

export function nodeStartCommand(): Command {
  const L = DefaultLimits;
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
    .addOption(envOption('--shutdown-grace <duration>', 'on SIGTERM, how long in-flight work may take before connections are cut', 'CORRAL_SHUTDOWN_GRACE').argParser(asDuration).default(5_000, '5s'))
    .addOption(envOption('--log-level <level>', 'pino log level: trace, debug, info, warn, error', 'CORRAL_LOG_LEVEL').default('info'))
    .action(async (f: NodeStartFlags) => {
      const config: Partial<NodeConfig> = {
        host: f.host, port: f.port, maxMemoryBytes: f.maxMemory,
        maxKeyBytes: f.maxKey, maxValueBytes: f.maxValue, maxFrameBytes: f.maxFrame,
        maxConnections: f.maxConnections, idleTimeoutMs: f.idleTimeout,
        outputBufferSoftBytes: f.outputBufferSoft, outputBufferHardBytes: f.outputBufferHard,
        outputBufferPauseMs: f.outputBufferPause, adminToken: f.adminToken,
        metricsPort: f.metricsPort, metricsHost: f.metricsHost, logLevel: f.logLevel,
        peers: f.peers, vnodes: f.vnodes, respPort: f.respPort, gutterTtlMs: f.gutterTtl,
        forwardTimeoutMs: f.forwardTimeout, shutdownGraceMs: f.shutdownGrace,
      };
      await runNode(config);
    });
}
