import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CorralError, encodeError, systemClock } from '@corral/protocol';
import { DEFAULT_VNODES } from '@corral/ring';
import { CommandExecutor } from './command-executor';
import { ExpiryScheduler } from './expiry-scheduler';
import { LeaseService } from './leases/lease-service';
import { LockService } from './locks/lock-service';
import { createNodeLogger, type Logger } from './logger';
import { MemoryStore } from './memory-store';
import { MetricsServer } from './metrics-server';
import { resolveNodeConfig, type NodeConfig } from './node-config';
import { NodeConnection, type ConnectionServices } from './node-connection';
import { NodeMetrics } from './node-metrics';

export interface NodeAddress { host: string; port: number }

export interface StopOptions {
  /** How long in-flight work may take before remaining connections are destroyed; defaults to shutdownGraceMs. */
  graceMs?: number;
}

/**
 * A cache node: the store, the native-protocol listener, active expiry and metrics. `start` resolves
 * once it listens; `stop` is graceful (stop accepting, answer what was sent, end sockets, destroy
 * after the grace period) and idempotent.
 */
export class CacheNode {
  readonly store: MemoryStore;
  readonly executor: CommandExecutor;
  readonly metrics: NodeMetrics;
  readonly config: NodeConfig;
  readonly leases: LeaseService;
  readonly locks: LockService;
  private readonly log: Logger;
  private readonly server: Server;
  private readonly connections = new Set<NodeConnection>();
  private readonly expiry: ExpiryScheduler;
  private readonly services: ConnectionServices;
  private readonly startedAt: number;
  private metricsServer: MetricsServer | undefined;
  private bound: NodeAddress | undefined;
  private id = '';
  private nextConnId = 1;
  private stopping: Promise<void> | undefined;

  private constructor(config: NodeConfig) {
    this.config = config;
    const clock = config.clock ?? systemClock;
    this.startedAt = clock.now();
    this.log = config.logger ?? createNodeLogger(config.logLevel);
    this.store = new MemoryStore({ maxMemoryBytes: config.maxMemoryBytes, clock });
    this.metrics = new NodeMetrics(this.store, this.log.child({ component: 'executor' }));
    this.leases = new LeaseService({ store: this.store, clock, registry: this.metrics.registry });
    this.locks = new LockService({ versions: this.store.versionClock, clock, registry: this.metrics.registry });
    this.executor = new CommandExecutor({
      leases: this.leases,
      locks: this.locks,
      store: this.store,
      limits: config,
      nodeId: () => this.id,
      adminToken: config.adminToken,
      observer: this.metrics,
      extraStats: () => this.nodeStats(clock.now()),
      topology: () => this.topology(),
    });
    this.services = { executor: this.executor, limits: config, metrics: this.metrics, log: this.log.child({ component: 'conn' }) };
    this.expiry = new ExpiryScheduler(this.store, config.expiryIntervalMs);
    // allowHalfOpen: a client that sends its last requests and then half-closes still gets the replies.
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  static async start(partial: Partial<NodeConfig> = {}): Promise<CacheNode> {
    const node = new CacheNode(resolveNodeConfig(partial));
    await node.listen();
    return node;
  }

  get address(): NodeAddress {
    if (!this.bound) throw new Error('the node is not listening');
    return this.bound;
  }

  get nodeId(): string { return this.id; }
  get connectionCount(): number { return this.connections.size; }
  get metricsPort(): number | undefined { return this.metricsServer?.port; }

  stop(opts: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(opts.graceMs ?? this.config.shutdownGraceMs);
    return this.stopping;
  }

  private async listen(): Promise<void> {
    const { host, port } = this.config;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.log.child({ component: 'listener' }).error({ err }, 'listener_error'));
    const addr = this.server.address() as AddressInfo;
    this.bound = { host, port: addr.port };
    this.id = this.config.nodeId ?? `${host}:${addr.port}`;
    this.expiry.start();
    const mport = this.config.metricsPort;
    if (mport) {
      this.metrics.includeProcessMetrics();
      this.metricsServer = await MetricsServer.start({
        registry: this.metrics.registry, host: this.config.metricsHost ?? host, port: mport, healthy: () => !this.stopping,
        log: this.log.child({ component: 'metrics' }),
      });
    }
    this.log.child({ component: 'store' }).info({ maxMemoryBytes: this.config.maxMemoryBytes }, 'store_ready');
    this.log.child({ component: 'listener' }).info({ host, port: addr.port, nodeId: this.id }, 'node_listening');
  }

  private accept(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.config.maxConnections) {
      this.metrics.connectionDropped('too_many_connections');
      this.log.child({ component: 'listener' }).warn(
        { remote: `${socket.remoteAddress}:${socket.remotePort}`, limit: this.config.maxConnections }, 'conn_rejected');
      socket.on('error', () => undefined);
      socket.end(encodeError(0, new CorralError('E_TOO_MANY_CONNECTIONS', `the node is at its limit of ${this.config.maxConnections} connections`)));
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    const conn = new NodeConnection(socket, this.nextConnId++, this.services);
    this.connections.add(conn);
    this.metrics.connectionOpened();
    void conn.closed.then(() => this.connections.delete(conn));
  }

  /**
   * Alone for now: one member, epoch 1. A member id is the data address clients dial and the ring
   * hashes, so it is host:port even when nodeId says something else.
   */
  private topology(): { epoch: number; vnodes: number; members: Array<{ id: string; state: 'alive'; incarnation: number }> } {
    const { host, port } = this.address;
    return { epoch: 1, vnodes: DEFAULT_VNODES, members: [{ id: `${host}:${port}`, state: 'alive', incarnation: 0 }] };
  }

  private nodeStats(now: number): Record<string, number | string> {
    const mem = process.memoryUsage();
    return {
      nodeId: this.id,
      uptimeMs: Math.round(now - this.startedAt),
      ...this.metrics.stats(),
      ...this.leases.stats(),
      ...this.locks.stats(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      externalBytes: mem.external,
    };
  }

  private async shutdown(graceMs: number): Promise<void> {
    const log = this.log.child({ component: 'node' });
    log.info({ graceMs, connections: this.connections.size }, 'node_stopping');
    this.expiry.stop();
    // Parked LGETs get a miss and queued LOCKs E_SHUTTING_DOWN; a turn of the loop lets those replies out before the drain.
    this.leases.close();
    this.locks.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.beginDrain();
    const deadline = setTimeout(() => {
      for (const c of this.connections) c.forceClose();
    }, graceMs);
    await Promise.all([...this.connections].map((c) => c.closed));
    await closed;
    clearTimeout(deadline);
    await this.metricsServer?.close();
    log.info({ nodeId: this.id }, 'node_stopped');
  }
}
