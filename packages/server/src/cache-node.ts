import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CorralError, encodeError, encodePush, Ops, PushKind, systemClock, validateArgs, type OpName } from '@corral/protocol';
import { loadRingHasher } from '@corral/ring';
import { ClusterAgent } from './cluster/cluster-agent';
import { clusterHandlers } from './cluster/cluster-handlers';
import { registerClusterMetrics } from './cluster/cluster-metrics';
import { clusterStatus } from './cluster/cluster-status';
import { ClusterView, type ClusterMember, type Topology } from './cluster/cluster-view';
import { KeyOwnership, requestKeys } from './cluster/key-ownership';
import { PeerPool } from './cluster/peer-link';
import { newConnectionContext } from './connection-context';
import { RespDoor, type RespBackend } from './resp';
import { CommandExecutor } from './command-executor';
import { ExpiryScheduler } from './expiry-scheduler';
import { HotKeyService } from './hotkeys/hot-key-service';
import { InvalidationService } from './invalidation/invalidation-service';
import { LeaseService } from './leases/lease-service';
import { LockService } from './locks/lock-service';
import { createNodeLogger, type Logger } from './logger';
import { MemoryStore } from './memory-store';
import { MetricsServer } from './metrics-server';
import { resolveNodeConfig, type NodeConfig } from './node-config';
import { NodeConnection, type ConnectionServices } from './node-connection';
import { NodeMetrics } from './node-metrics';
import { NodeSnapshot } from './snapshot/node-snapshot';
import { snapshotHandlers } from './snapshot/snapshot-handlers';

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
  /** The invalidation stream behind client L1s (invalidation/). */
  readonly invalidation: InvalidationService;
  /** Hot keys: counted here, copied to every node (hotkeys/). */
  readonly hotKeys: HotKeyService;
  /** Warm restarts (--snapshot-file); absent when off. */
  readonly snapshot: NodeSnapshot | undefined;
  private readonly log: Logger;
  private readonly server: Server;
  private readonly connections = new Set<NodeConnection>();
  private readonly expiry: ExpiryScheduler;
  private readonly services: ConnectionServices;
  private readonly startedAt: number;
  private metricsServer: MetricsServer | undefined;
  private clusterView: ClusterView | undefined;
  private clusterAgent: ClusterAgent | undefined;
  private respDoor: RespDoor | undefined;
  private readonly peers: PeerPool;
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
    this.snapshot = config.snapshotFile === undefined ? undefined : new NodeSnapshot({
      file: config.snapshotFile, mode: config.snapshotMode, maxKeys: config.snapshotMaxKeys, clock, limits: config,
      log: this.log.child({ component: 'snapshot' }), registry: this.metrics.registry,
    });
    this.invalidation = new InvalidationService({
      store: this.store, clock, config: config.invalidation, registry: this.metrics.registry, logger: this.log, maxFrameBytes: config.maxFrameBytes,
    });
    this.hotKeys = new HotKeyService({
      store: this.store, clock, config: config.hotKeys, invalidation: this.invalidation, view: () => this.clusterView, selfId: () => this.id,
      logger: this.log, registry: this.metrics.registry, maxFrameBytes: config.maxFrameBytes,
      ...(config.adminToken !== undefined && { adminToken: config.adminToken }),
    });
    this.executor = new CommandExecutor({
      onRead: (key, ctx) => { this.invalidation.noteRead(ctx.id, key); this.hotKeys.noteRead(key); },
      onWrite: (op, args, ctx) => this.invalidation.beginWrite(op, args, ctx.id),
      leases: this.leases,
      locks: this.locks,
      store: this.store,
      limits: config,
      nodeId: () => this.id,
      adminToken: config.adminToken,
      observer: this.metrics,
      extraStats: () => this.nodeStats(clock.now()),
      topology: () => this.cluster.topology(),
      ownership: new KeyOwnership(() => this.clusterView, config.gutterTtlMs),
      readThrough: {
        source: (key, localVersion) => this.clusterAgent?.readThrough.source(key, localVersion),
        fetch: (key, source) => this.clusterAgent!.readThrough.fetch(key, source),
      },
      extraHandlers: {
        ...this.invalidation.handlers(),
        ...this.hotKeys.handlers(),
        ...clusterHandlers(() => this.clusterAgent, this.store, () => this.clusterStatus()),
        ...snapshotHandlers(() => this.snapshot, config.maxFrameBytes),
      },
    });
    this.services = {
      executor: this.executor, limits: config, deadlineGraceMs: config.deadlineGraceMs, metrics: this.metrics, log: this.log.child({ component: 'conn' }),
    };
    this.expiry = new ExpiryScheduler(this.store, config.expiryIntervalMs);
    this.peers = new PeerPool({ timeoutMs: config.forwardTimeoutMs, retryAfterMs: 500, maxFrameBytes: config.maxFrameBytes });
    // allowHalfOpen: a client that sends its last requests and then half-closes still gets the replies.
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  static async start(partial: Partial<NodeConfig> = {}): Promise<CacheNode> {
    await loadRingHasher();
    const node = new CacheNode(resolveNodeConfig(partial));
    // Before listening (and before joining a cluster): no client may see the node half loaded.
    await node.snapshot?.load(node.store);
    try {
      await node.listen();
    } catch (e) {
      // Whatever did bind must not keep the process alive half-started.
      await node.stop({ graceMs: 0 }).catch(() => undefined);
      throw e;
    }
    return node;
  }

  get address(): NodeAddress {
    if (!this.bound) throw new Error('the node is not listening');
    return this.bound;
  }

  get nodeId(): string { return this.id; }
  get connectionCount(): number { return this.connections.size; }
  get metricsPort(): number | undefined { return this.metricsServer?.port; }
  get respPort(): number | undefined { return this.respDoor?.port; }
  /** Gossip, handoff and drains (cluster/); exists once the node listens. */
  get agent(): ClusterAgent | undefined { return this.clusterAgent; }

  /** Members, epoch and ring as this node sees them. */
  get cluster(): ClusterView {
    if (!this.clusterView) throw new Error('the node is not listening');
    return this.clusterView;
  }

  /** Replaces the member table (gossip feeds this); clients get a topology push when the epoch moves. */
  setMembers(members: readonly ClusterMember[]): boolean {
    return this.cluster.update(members);
  }

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
    const selfAddr = `${this.config.advertiseHost ?? host}:${addr.port}`;
    this.id = this.config.nodeId ?? selfAddr;
    this.clusterView = this.createClusterView(selfAddr);
    this.clusterView.on('change', () => this.pushTopology());
    this.expiry.start();
    this.invalidation.start();
    this.hotKeys.start();
    if (this.config.respPort !== undefined) {
      this.respDoor = await RespDoor.start({
        host, port: this.config.respPort, backend: this.respBackend(), logger: this.log,
        limits: { maxBulkBytes: this.config.maxValueBytes, maxArgs: 1024 * 1024, maxInlineBytes: 64 * 1024 },
        maxConnections: this.config.maxConnections, idleTimeoutMs: this.config.idleTimeoutMs,
        outputBufferSoftBytes: this.config.outputBufferSoftBytes, outputBufferHardBytes: this.config.outputBufferHardBytes,
        outputBufferPauseMs: this.config.outputBufferPauseMs, onDrop: (reason) => this.metrics.connectionDropped(reason),
      });
    }
    const mport = this.config.metricsPort;
    if (mport) {
      this.metrics.includeProcessMetrics();
      this.metricsServer = await MetricsServer.start({
        registry: this.metrics.registry, host: this.config.metricsHost ?? host, port: mport, healthy: () => !this.stopping,
        log: this.log.child({ component: 'metrics' }),
      });
    }
    this.clusterAgent = new ClusterAgent({
      view: this.clusterView, store: this.store, clock: this.config.clock ?? systemClock, logger: this.log,
      host, dataPort: addr.port, maxFrameBytes: this.config.maxFrameBytes, opsTotal: () => this.metrics.opsTotal,
      meta: { node: this.id, ...(this.respDoor && { resp: this.respDoor.port }), ...(this.metricsServer && { metrics: this.metricsServer.port }) },
      ...(this.config.advertiseHost !== undefined && { advertiseHost: this.config.advertiseHost }),
      ...(this.config.gossip && { gossip: this.config.gossip }),
      ...(this.config.handoff && { handoff: this.config.handoff }),
      ...(this.config.adminToken !== undefined && { adminToken: this.config.adminToken }),
    });
    registerClusterMetrics(this.metrics.registry, this.clusterAgent, this.clusterView);
    await this.clusterAgent.start();
    this.log.child({ component: 'store' }).info({ maxMemoryBytes: this.config.maxMemoryBytes }, 'store_ready');
    this.log.child({ component: 'listener' }).info(
      { host, port: addr.port, nodeId: this.id, respPort: this.respDoor?.port, metricsPort: this.metricsServer?.port,
        members: this.clusterView.topology().members.length, epoch: this.clusterView.epoch,
        ...(this.clusterAgent.gossip && { gossipAddr: this.clusterAgent.gossip.gossipAddr }) }, 'node_listening');
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
    this.invalidation.attach(conn);
    this.metrics.connectionOpened();
    void conn.closed.then(() => this.connections.delete(conn));
  }

  /** A member id is the data address clients dial and the ring hashes: host:port, even when nodeId says otherwise. */
  private createClusterView(self: string): ClusterView {
    const { peers, vnodes } = this.config;
    return peers && peers.length > 0
      ? ClusterView.fromPeers(self, peers, vnodes)
      : new ClusterView(self, [{ id: self, state: 'alive', incarnation: 0 }], vnodes);
  }

  private clusterStatus(): unknown {
    if (!this.clusterAgent) throw new CorralError('E_SHUTTING_DOWN', 'the node is not listening');
    return clusterStatus(this.clusterAgent, this.cluster, this.store, this.id, {
      data: this.address.port, ...(this.respDoor && { resp: this.respDoor.port }), ...(this.metricsServer && { metrics: this.metricsServer.port }),
    });
  }

  private pushTopology(): void {
    const t: Topology = this.cluster.topology();
    this.log.child({ component: 'cluster' }).info({ epoch: t.epoch, members: t.members.map((m) => `${m.id}:${m.state}`) }, 'topology_changed');
    const frame = encodePush(PushKind.Topology, t);
    for (const c of this.connections) c.sendPush(frame);
  }

  /**
   * The RESP door runs native ops: keys this node owns go to the local executor, the others are
   * forwarded to their owner over a PeerLink, so a Redis client can use the whole cluster from
   * any node.
   */
  private respBackend(): RespBackend {
    const ctx = newConnectionContext(0, 'resp');
    ctx.admin = this.config.adminToken === undefined;
    return {
      exec: (name: OpName, args: unknown[]) => {
        const op = Ops[name];
        const invalid = validateArgs(op, args, this.config);
        if (invalid) throw invalid;
        const view = this.cluster;
        const key = requestKeys(op, args)[0];
        if (key !== undefined && view.clustered) {
          const owner = view.ownerOf(key);
          if (owner !== view.selfId) return this.peers.get(owner).request(op, args);
        }
        return this.executor.execute(op, args, ctx);
      },
      dbsize: () => this.store.size,
      info: () => {
        const st = this.store.stats() as unknown as Record<string, number>;
        return {
          Server: { redis_version: '7.0.0', corral_version: '0.1.0', node_id: this.id, tcp_port: this.respDoor?.port ?? 0, process_id: process.pid },
          Clients: { connected_clients: this.connections.size },
          Memory: { used_memory: st.bytesUsed ?? 0, maxmemory: this.config.maxMemoryBytes, maxmemory_policy: 'allkeys-lru', used_memory_rss: process.memoryUsage().rss },
          Stats: { keyspace_hits: st.hits ?? 0, keyspace_misses: st.misses ?? 0, evicted_keys: st.evictions ?? 0, expired_keys: st.expirations ?? 0 },
          Cluster: { cluster_enabled: this.cluster.clustered ? 1 : 0, corral_epoch: this.cluster.epoch, corral_members: this.cluster.topology().members.length },
          Keyspace: { db0: `keys=${this.store.size},expires=0,avg_ttl=0` },
        };
      },
    };
  }

  private nodeStats(now: number): Record<string, number | string> {
    const mem = process.memoryUsage();
    return {
      nodeId: this.id,
      uptimeMs: Math.round(now - this.startedAt),
      ...this.metrics.stats(),
      ...this.leases.stats(),
      ...this.locks.stats(),
      ...this.invalidation.stats(),
      ...this.hotKeys.stats(),
      ...this.snapshot?.stats(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      externalBytes: mem.external,
    };
  }

  private async shutdown(graceMs: number): Promise<void> {
    const log = this.log.child({ component: 'node' });
    log.info({ graceMs, connections: this.connections.size }, 'node_stopping');
    // Leave first: the members drop this node from their rings within a round trip, instead of
    // suspecting it for seconds while clients fail over.
    await this.clusterAgent?.stop().catch((err: unknown) => log.warn({ err }, 'cluster_leave_failed'));
    this.expiry.stop();
    // Parked LGETs get a miss and queued LOCKs E_SHUTTING_DOWN; a turn of the loop lets those replies out before the drain.
    this.leases.close();
    this.locks.close();
    this.hotKeys.stop();
    this.invalidation.stop();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const respClosed = this.respDoor?.close(graceMs);
    this.peers.closeAll();
    for (const c of this.connections) c.beginDrain();
    const deadline = setTimeout(() => {
      for (const c of this.connections) c.forceClose();
    }, graceMs);
    await Promise.all([...this.connections].map((c) => c.closed));
    await closed;
    await respClosed;
    clearTimeout(deadline);
    // After the drain, so every write that was answered is in it.
    // A node that never listened (a failed start) must not replace a good snapshot.
    if (this.bound) await this.snapshot?.save(this.store, this.id);
    await this.metricsServer?.close();
    log.info({ nodeId: this.id }, 'node_stopped');
  }
}
