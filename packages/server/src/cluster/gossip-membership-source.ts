import { Membership, type Member, type MembershipOptions } from '@corral/coordinator';
import { CorralError } from '@corral/protocol';
import type { Logger } from 'pino';
import type { ClusterMember } from './cluster-view';
import { GOSSIP_DEFAULTS, type GossipConfig } from './cluster-config';

export interface GossipSourceOptions {
  /** The member id: the node's data address host:port, which clients dial and the ring hashes. */
  selfId: string;
  host: string;
  port: number;
  advertiseHost?: string;
  config: GossipConfig;
  /** Gossiped with the alive message so tools can show every member's other ports. */
  meta: Record<string, unknown>;
  logger: Logger;
  /** Receives the member table after every visible change (ClusterView.update). */
  onMembers: (members: ClusterMember[]) => void;
}

/** A JOIN waits at most this long for a seed to answer, so the admin op cannot hang. */
const JOIN_OP_TIMEOUT_MS = 15_000;

/**
 * Feeds the node's ClusterView from SWIM gossip. A Membership cannot join after it started, so
 * joining a running node to a cluster (CLUSTER_JOIN) and going back to being alone after a drain
 * replace it with a fresh one on the same port; the incarnation rules make that safe: a node the
 * cluster remembers as left or dead outbids its old record by refuting it.
 */
export class GossipMembershipSource {
  private membership: Membership;
  private readonly log: Logger;
  /** While true, member changes are not passed on (see leave()). */
  private holding = false;
  private stopped = false;
  private boundPort: number;

  constructor(private readonly o: GossipSourceOptions) {
    this.log = o.logger.child({ component: 'gossip' });
    this.boundPort = o.port;
    this.membership = this.create(o.config.seeds ?? [], o.config.joinTimeoutMs ?? 0);
  }

  get gossipAddr(): string { return this.membership.gossipAddr; }
  members(): Member[] { return this.membership.members(); }
  stats(): ReturnType<Membership['stats']> { return this.membership.stats(); }

  /** Members other than this node that are alive or suspect. */
  livePeers(): Member[] {
    return this.membership.aliveMembers().filter((m) => m.id !== this.o.selfId);
  }

  /**
   * Binds the gossip port and resolves; joining the seeds goes on in the background (a node whose
   * seeds are down still serves, alone, and joins when one answers). Bind errors reject.
   */
  async start(): Promise<void> {
    const m = this.membership;
    const bound = new Promise<void>((resolve) => m.once('change', () => resolve()));
    const started = m.start();
    started.then(
      () => { if ((this.o.config.seeds ?? []).length > 0) this.log.info({ members: m.aliveMembers().length }, 'gossip_joined'); },
      (err: unknown) => {
        if (this.stopped || m !== this.membership) return;
        // --join-timeout ran out (the Membership stopped itself): keep serving alone, joinable later.
        this.log.error({ err }, 'gossip_join_failed');
        this.replace([], 0).catch((e: unknown) => this.log.error({ err: e }, 'gossip_restart_failed'));
      },
    );
    await Promise.race([bound, started]);
    this.boundPort = Number(m.gossipAddr.slice(m.gossipAddr.lastIndexOf(':') + 1)) || this.boundPort;
    this.log.info({ gossipAddr: m.gossipAddr, seeds: this.o.config.seeds ?? [] }, 'gossip_listening');
  }

  /**
   * Joins the cluster the seeds belong to. A node that already has peers is refused unless the
   * seeds are among them (then it is a no-op), so a member cannot be moved between clusters by
   * accident.
   */
  async join(seeds: string[]): Promise<Member[]> {
    const peers = this.livePeers();
    if (peers.length > 0) {
      if (peers.some((p) => seeds.includes(p.gossipAddr))) return this.members();
      throw new CorralError('E_BAD_ARGS', `${this.o.selfId} is already in a cluster with ${peers.length} other member(s); remove it first`);
    }
    await this.replace(seeds, JOIN_OP_TIMEOUT_MS);
    return this.members();
  }

  /**
   * Announces the leave and waits until the members acknowledged it (bounded by two protocol
   * periods). The ClusterView hears about it only afterwards: clients re-route when this node
   * pushes the new topology, and by then every member already agrees, so none of them answers a
   * re-routed request with E_NOT_OWNER from the older ring.
   */
  async leave(): Promise<void> {
    this.holding = true;
    try {
      await this.membership.leave();
    } finally {
      this.holding = false;
      this.o.onMembers(toClusterMembers(this.membership.members()));
    }
  }

  /** After a drain: a fresh membership with no seeds, so the node serves alone and can be added again. */
  async restartAlone(): Promise<void> {
    await this.replace([], 0);
  }

  /**
   * Test hook: cuts this node's gossip off from everyone (every packet and push-pull in or out
   * fails; timers keep running, so it declares the others dead as they declare it dead) or heals
   * it. Only gossip: node-to-node data links are not affected.
   */
  _testIsolate(isolated: boolean): void {
    this.membership._testIsolate(isolated);
  }

  /** Leaves (if it has peers) and closes the sockets. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.livePeers().length > 0) await this.membership.leave().catch(() => undefined);
    await this.membership.stop();
  }

  private async replace(seeds: string[], joinTimeoutMs: number): Promise<void> {
    await this.membership.stop();
    if (this.stopped) throw new CorralError('E_SHUTTING_DOWN');
    this.membership = this.create(seeds, joinTimeoutMs);
    try {
      await this.membership.start();
    } catch (err) {
      this.log.warn({ err, seeds }, 'gossip_join_failed');
      await this.membership.stop();
      if (this.stopped) throw new CorralError('E_SHUTTING_DOWN');
      this.membership = this.create([], 0);
      await this.membership.start();
      throw new CorralError('E_NOT_CONNECTED', `no seed answered a join within ${joinTimeoutMs} ms (${seeds.join(', ')}); is the cluster key the same?`);
    }
    this.log.info({ gossipAddr: this.membership.gossipAddr, seeds, members: this.membership.aliveMembers().length }, seeds.length ? 'gossip_joined' : 'gossip_alone');
  }

  private create(seeds: string[], joinTimeoutMs: number): Membership {
    const c = this.o.config;
    const opts: MembershipOptions = {
      id: this.o.selfId,
      host: c.host ?? this.o.host,
      // A replacement reuses the port the first one bound, so the address peers know stays valid.
      port: this.boundPort,
      seeds,
      meta: this.o.meta,
      joinTimeoutMs,
      logger: this.o.logger, // Membership adds component: 'gossip' itself
      ...(this.o.advertiseHost !== undefined && { advertiseHost: this.o.advertiseHost }),
      ...(c.clusterKey !== undefined && { clusterKey: c.clusterKey }),
      ...pickDefined(c, ['protocolPeriodMs', 'probeTimeoutMs', 'indirectProbes', 'suspicionMult', 'pushPullIntervalMs', 'retransmitMult']),
    };
    // A shorter period alone must not leave the default probe timeout longer than the period.
    if (c.probeTimeoutMs === undefined && c.protocolPeriodMs !== undefined)
      opts.probeTimeoutMs = Math.min(GOSSIP_DEFAULTS.probeTimeoutMs, Math.floor(c.protocolPeriodMs / 2));
    const m = new Membership(opts);
    m.on('change', (members) => {
      if (m === this.membership && !this.holding) this.o.onMembers(toClusterMembers(members));
    });
    return m;
  }
}

/** ClusterView members: the gossip address rides in meta so TOPOLOGY shows it to tools. */
export function toClusterMembers(members: readonly Member[]): ClusterMember[] {
  return members.map((m) => ({ id: m.id, state: m.state, incarnation: m.incarnation, meta: { ...m.meta, gossip: m.gossipAddr } }));
}

function pickDefined<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
