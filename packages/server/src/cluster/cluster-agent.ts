import { EventEmitter } from 'node:events';
import type { Clock } from '@corral/protocol';
import type { HashRing } from '@corral/ring';
import type { Logger } from 'pino';
import type { MemoryStore } from '../memory-store';
import { resolveHandoffConfig, gossipPortFor, type GossipConfig, type HandoffConfig } from './cluster-config';
import type { ClusterView } from './cluster-view';
import { DrainCoordinator } from './drain-coordinator';
import { GossipMembershipSource } from './gossip-membership-source';
import { HandoffReceiver } from './handoff-receiver';
import { HandoffSender } from './handoff-sender';
import { OpsRate } from './ops-rate';
import { PeerPool } from './peer-link';
import type { ReadThrough } from './read-through';

export interface ClusterAgentOptions {
  view: ClusterView;
  store: MemoryStore;
  clock: Clock;
  logger: Logger;
  /** Bind host of the node; gossip binds there too unless gossip.host says otherwise. */
  host: string;
  advertiseHost?: string;
  dataPort: number;
  /** Gossip on when present. */
  gossip?: GossipConfig;
  handoff?: Partial<HandoffConfig>;
  maxFrameBytes: number;
  /** Sent in the HELLO of node-to-node links: the cluster ops are admin ops. */
  adminToken?: string;
  /** Gossiped with the alive message (resp and metrics ports, node name). */
  meta: Record<string, unknown>;
  /** Requests served so far, for ops/s. */
  opsTotal: () => number;
}

export interface ClusterAgentEvents {
  /** A drain finished; with `exit` the process should stop (runNode exits 0). */
  drained: [info: { exit: boolean }];
}

/**
 * The node's part in the cluster: gossip membership feeding the ClusterView, the handoff sender
 * and receiver reacting to every ring change, and graceful drains. CacheNode owns one and routes
 * the cluster ops (HANDOFF, HANDOFF_GET, CLUSTER_*) to it.
 */
export class ClusterAgent extends EventEmitter<ClusterAgentEvents> {
  readonly gossip: GossipMembershipSource | undefined;
  readonly sender: HandoffSender;
  readonly receiver: HandoffReceiver;
  readonly drain: DrainCoordinator;
  readonly handoffConfig: HandoffConfig;
  private readonly bulkPeers: PeerPool;
  private readonly quickPeers: PeerPool;
  private readonly opsRate: OpsRate;
  /** Each member's state at the last view change, to see who went dead or came back. */
  private memberStates = new Map<string, string>();
  private readonly onViewChange = (c: { ring: HashRing; prev: HashRing }) => this.ringChanged(c.prev, c.ring);

  constructor(private readonly o: ClusterAgentOptions) {
    super();
    const log = o.logger.child({ component: 'handoff' });
    this.handoffConfig = resolveHandoffConfig(o.handoff, o.maxFrameBytes);
    const c = this.handoffConfig;
    const hello = o.adminToken === undefined ? {} : { auth: o.adminToken };
    this.bulkPeers = new PeerPool({ timeoutMs: c.batchTimeoutMs, retryAfterMs: 200, maxFrameBytes: o.maxFrameBytes, hello });
    this.quickPeers = new PeerPool({ timeoutMs: c.readThroughTimeoutMs, retryAfterMs: 500, maxFrameBytes: o.maxFrameBytes, hello });
    if (o.gossip) {
      this.gossip = new GossipMembershipSource({
        selfId: o.view.selfId,
        host: o.gossip.host ?? o.host,
        port: gossipPortFor(o.dataPort, o.gossip.port),
        ...(o.advertiseHost !== undefined && { advertiseHost: o.advertiseHost }),
        config: o.gossip,
        meta: o.meta,
        logger: o.logger,
        onMembers: (members) => o.view.update(members),
      });
    }
    this.sender = new HandoffSender({ store: o.store, view: o.view, peers: this.bulkPeers, noticePeers: this.quickPeers, config: c, clock: o.clock, logger: log });
    this.drain = new DrainCoordinator({
      gossip: this.gossip, sender: this.sender, store: o.store, clock: o.clock, logger: log,
      onDrained: (exit) => void this.afterDrain(exit),
    });
    this.receiver = new HandoffReceiver({
      store: o.store, view: o.view, peers: this.quickPeers, config: c, clock: o.clock, logger: log,
      accepting: () => this.drain.accepting,
    });
    this.opsRate = new OpsRate(o.opsTotal, () => o.clock.now());
  }

  /** What the executor uses to answer misses for keys still arriving. */
  readonly readThrough: ReadThrough = {
    source: (key, localVersion) => this.receiver.readThroughSource(key, localVersion),
    fetch: (key, source) => this.receiver.readThrough(key, source),
  };

  async start(): Promise<void> {
    this.memberStates = new Map(this.o.view.topology().members.map((m) => [m.id, m.state]));
    this.o.view.on('change', this.onViewChange);
    this.receiver.start();
    this.opsRate.start();
    await this.gossip?.start();
  }

  /** Leaves the cluster (when gossiping with others) and stops every timer and link. Idempotent. */
  async stop(): Promise<void> {
    this.o.view.off('change', this.onViewChange);
    this.sender.stop();
    this.receiver.stop();
    this.opsRate.stop();
    await this.gossip?.stop();
    this.bulkPeers.closeAll();
    this.quickPeers.closeAll();
  }

  opsPerSec(): number { return this.opsRate.perSecond(); }

  private ringChanged(prev: HashRing, next: HashRing): void {
    this.dropLinksThroughOutages();
    const self = this.o.view.selfId;
    // A node that was alone owned everything in its own eyes; what it gains on joining was with the others.
    const joinedFromAlone = this.gossip !== undefined && prev.size === 1 && prev.has(self) && next.size > 1 && next.has(self);
    this.receiver.onRingChange(prev, next, joinedFromAlone);
    this.sender.onRingChange();
  }

  /**
   * Closes the node-to-node links to members declared dead, and to members back from dead or from
   * having left: a socket that lived through the outage (a partition, a frozen process) is stuck in
   * TCP's retransmission backoff for seconds after the network is back, and read-throughs and
   * handoff batches on it would time out. Fresh links are dialled on next use.
   */
  private dropLinksThroughOutages(): void {
    const now = new Map(this.o.view.topology().members.map((m) => [m.id, m.state]));
    for (const [id, before] of this.memberStates) {
      const after = now.get(id);
      if (after === before || id === this.o.view.selfId) continue;
      // (A member back from `left` is a new process: a restart. Links to the old one are dead, and a
      // failed attempt while it was away would fail the first notices to the new one fast.)
      if (after === undefined || after === 'dead' || before === 'dead' || before === 'left') {
        this.bulkPeers.drop(id);
        this.quickPeers.drop(id);
      }
    }
    this.memberStates = now;
  }

  private async afterDrain(exit: boolean): Promise<void> {
    if (!exit) {
      try {
        await this.gossip?.restartAlone();
      } catch (err) {
        this.o.logger.error({ err }, 'gossip_restart_failed');
      }
    }
    this.emit('drained', { exit });
  }
}
