import { EventEmitter } from 'node:events';
import { CorralError, Ops, PushKind, type Clock } from '@corral/protocol';
import { hashKey, loadRingHasher, type HashRing } from '@corral/ring';
import { breakerOptions, type BreakerOptions, type BreakerState, type BreakerStateChange } from './circuit-breaker';
import { clientError } from './errors';
import { silentLogger, type Logger } from './logger';
import { MemberConnection } from './member-connection';
import type { NodeConnection, NodeConnectionOptions, PushEvent } from './node-connection';
import { chooseRoute, type NodeDownPolicy } from './route-choice';
import { parseAddress } from './seeds';

/** How long a call waits before asking again a node that answered E_NOT_OWNER from an older ring. */
export const NODE_BEHIND_RETRY_MS = 50;
import type { Route, Router } from './router';
import { copyTopology, parseTopology, ringOf, type Topology, type TopologyMember } from './topology';

export interface ClusterRouterOptions {
  /** Options of every member's connection (name, auth, timeouts, reconnect, logger). */
  connection?: Omit<NodeConnectionOptions, 'host' | 'port'>;
  breaker?: Partial<BreakerOptions>;
  /** Where a down node's keys go: its fallback (default) or nowhere (E_CIRCUIT_OPEN). */
  onNodeDown?: NodeDownPolicy;
  clock?: Clock;
}

export interface ClusterRouterEvents {
  topology: [epoch: number, members: TopologyMember[]];
  'node:up': [id: string];
  'node:down': [id: string];
  breaker: [change: BreakerStateChange];
  error: [error: Error];
}

/** A member as tools see it: its place in the topology and, for members that own keys, its breaker. */
export interface MemberView extends TopologyMember {
  breaker?: BreakerState;
}

export interface TopologyView extends Omit<Topology, 'members'> {
  members: MemberView[];
}

/**
 * Routes keys over the cluster's hash ring: one MemberConnection per member that owns keys, the
 * ring rebuilt from every newer topology (TOPOLOGY replies and pushes), and a key whose owner's
 * breaker is open sent to the next member of its preference list that is up.
 *
 * Epochs only move forward: a topology no newer than the one in use is ignored, so pushes that
 * race a refresh, or arrive from every member at once, apply once.
 */
export class ClusterRouter extends EventEmitter<ClusterRouterEvents> implements Router {
  private readonly members = new Map<string, MemberConnection>();
  private ringValue: HashRing | undefined;
  private topo: Topology | undefined;
  private refreshing: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;
  private adoptable: NodeConnection | undefined;
  private readonly policy: NodeDownPolicy;
  private readonly logger: Logger;
  private readonly isUp = (id: string): boolean => this.members.get(id)?.breaker.isClosed ?? false;

  /**
   * Builds the router from a topology and waits for the first connection attempt to every member
   * (each bounded by connectTimeoutMs), so calls made right after do not pile up in offline queues.
   * `seed`, the connection the topology came over, is kept for the member it is connected to.
   */
  static async create(topology: Topology, opts: ClusterRouterOptions = {}, seed?: NodeConnection): Promise<ClusterRouter> {
    let router: ClusterRouter;
    try {
      await loadRingHasher();
      router = new ClusterRouter(opts);
    } catch (e) {
      await seed?.close();
      throw e;
    }
    router.adoptable = seed;
    try {
      if (!router.apply(topology, 'the seed'))
        throw clientError('E_INTERNAL', `topology epoch ${topology.epoch} has no member that owns keys`);
    } catch (e) {
      await router.close();
      throw e;
    } finally {
      const unused = router.adoptable;
      router.adoptable = undefined;
      if (unused) await unused.close();
    }
    await Promise.all([...router.members.values()].map((m) => m.ready));
    return router;
  }

  private constructor(private readonly opts: ClusterRouterOptions) {
    super();
    this.policy = opts.onNodeDown ?? 'fallback';
    if (this.policy !== 'fallback' && this.policy !== 'fail-fast')
      throw clientError('E_BAD_ARGS', `onNodeDown must be 'fallback' or 'fail-fast' (got ${String(this.policy)})`);
    this.logger = opts.connection?.logger ?? silentLogger;
    breakerOptions(opts.breaker); // throws now rather than at the first member
  }

  get epoch(): number { return this.topo?.epoch ?? -1; }
  get ring(): HashRing { return this.ringValue!; }

  routeFor(key: string): Route {
    const choice = chooseRoute(this.ring, hashKey(key), this.isUp, this.policy);
    if (choice.kind === 'circuit-open')
      throw clientError('E_CIRCUIT_OPEN', `the circuit breaker for ${choice.node}, the owner of the key, is open`, { node: choice.node, key });
    const routes = this.member(choice.node).routes(this.epoch);
    return choice.kind === 'fallback' ? routes.fallback : routes.owner;
  }

  connectionFor(key: string): NodeConnection { return this.routeFor(key).conn; }

  /** In member id order. */
  connections(): readonly NodeConnection[] {
    return [...this.members.keys()].sort().map((id) => this.members.get(id)!.conn);
  }

  /** The key's owner under the current ring, whether or not it is up. */
  ownerOf(key: string): string { return this.ring.ownerOf(key); }

  topology(): TopologyView {
    const t = copyTopology(this.topo!);
    return {
      epoch: t.epoch,
      vnodes: t.vnodes,
      members: t.members.map((m) => {
        const state = this.members.get(m.id)?.breaker.state;
        return state ? { ...m, breaker: state } : m;
      }),
    };
  }

  /** Member connections by id, in id order: what statsByNode asks. */
  memberConnections(): Array<[id: string, conn: NodeConnection]> {
    return [...this.members.keys()].sort().map((id) => [id, this.members.get(id)!.conn]);
  }

  /**
   * Whether a failed keyed call is worth routing again (Corral does, once):
   *  - E_NOT_OWNER from a node with a newer ring: bring ours up to date (asking that node first: it
   *    is the one known to have the newer view), then yes if the epoch moved. From a node with an
   *    older ring: yes after NODE_BEHIND_RETRY_MS, the time gossip takes to bring it up. From a node
   *    at the same epoch it is surfaced: the nodes disagree, and a retry would ask the same question.
   *  - E_NOT_CONNECTED (never sent) while the node's breaker is open: yes, to the fallback.
   */
  async shouldRetry(err: unknown, route: Route): Promise<boolean> {
    if (!(err instanceof CorralError) || route.epoch === undefined) return false;
    // Never sent (see onBreaker): routing it again sends it to the fallback, or fails it fast.
    if (err.code === 'E_NOT_CONNECTED') return !route.fallback && this.ring.size > 1 && !this.isUp(route.node);
    if (err.code !== 'E_NOT_OWNER') return false;
    const theirs = err.details?.['epoch'];
    if (typeof theirs !== 'number' || theirs === route.epoch) return false;
    if (theirs < route.epoch) {
      // The node is behind us (it has not heard of the change our ring already has, e.g. a member
      // that just came back): gossip brings it up in a few ms, so ask it again after a moment.
      await new Promise((r) => setTimeout(r, NODE_BEHIND_RETRY_MS));
      return true;
    }
    // Calls sent under the old ring fail together: one refresh serves them all.
    if (this.epoch < theirs) await this.refresh(route.node);
    return this.epoch > route.epoch;
  }

  /** Asks the members for TOPOLOGY, `preferred` first, then those that are up; applies the first answer. */
  refresh(preferred?: string): Promise<void> {
    this.refreshing ??= this.fetchTopology(preferred).finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  close(): Promise<void> {
    this.closePromise ??= Promise.all([...this.members.values()].map((m) => m.close())).then(() => undefined);
    return this.closePromise;
  }

  private async fetchTopology(preferred: string | undefined): Promise<void> {
    const all = [...this.members.values()];
    const first = all.filter((m) => m.id === preferred);
    const rest = all.filter((m) => m.id !== preferred);
    const order = [...first, ...rest.filter((m) => m.breaker.isClosed), ...rest.filter((m) => !m.breaker.isClosed)];
    const failures: string[] = [];
    for (const m of order) {
      if (this.closePromise) return;
      try {
        this.apply(parseTopology(await m.request(Ops.TOPOLOGY, [])), m.id);
        return;
      } catch (e) {
        failures.push(`${m.id}: ${(e as Error).message}`);
      }
    }
    if (this.closePromise) return; // closing failed them all: nothing to report
    this.report(clientError('E_NOT_CONNECTED', `no member answered TOPOLOGY (${failures.join('; ')})`), 'topology refresh failed');
  }

  /** Switches to `t` if it is newer; returns whether it did. */
  private apply(t: Topology, source: string): boolean {
    if (this.closePromise || t.epoch <= this.epoch) return false;
    const ring = ringOf(t);
    if (ring.size === 0) {
      this.report(clientError('E_INTERNAL', `topology epoch ${t.epoch} from ${source} has no member that owns keys; keeping epoch ${this.epoch}`),
        'topology ignored');
      return false;
    }
    const added = ring.members().map((m) => m.id).filter((id) => !this.members.has(id));
    const undialable = added.filter((id) => !this.adoptableFor(id) && !isAddress(id));
    if (undialable.length > 0) {
      this.report(clientError('E_INTERNAL', `topology epoch ${t.epoch} from ${source} names members that are not host:port: ${undialable.join(', ')}`),
        'topology ignored');
      return false;
    }
    for (const id of added) this.add(id);
    const gone = [...this.members.keys()].filter((id) => !ring.has(id));
    // The new ring goes in before departed members close, so no call is routed to a closing connection.
    this.ringValue = ring;
    this.topo = copyTopology(t);
    for (const id of gone) this.remove(id);
    this.logger.info({ epoch: t.epoch, members: ring.size, from: source, added, removed: gone }, 'topology_changed');
    this.emit('topology', t.epoch, copyTopology(t).members);
    return true;
  }

  /** The seed connection, if it is connected to member `id` (named by its HELLO, or by its address). */
  private adoptableFor(id: string): NodeConnection | undefined {
    const seed = this.adoptable;
    return seed && (seed.hello?.node === id || seed.node === id) ? seed : undefined;
  }

  private add(id: string): void {
    const adopt = this.adoptableFor(id);
    if (adopt) this.adoptable = undefined;
    const m = new MemberConnection({
      id,
      connection: this.opts.connection ?? {},
      ...(this.opts.breaker && { breaker: this.opts.breaker }),
      ...(this.opts.clock && { clock: this.opts.clock }),
      ...(adopt && { adopt }),
    });
    m.on('push', (p) => this.onPush(m, p));
    m.on('stateChange', (c) => this.onBreaker(c));
    m.on('error', (e) => this.emitError(e)); // the connection has logged it already
    this.members.set(id, m);
  }

  /** Closed gracefully: calls already sent to it still get their replies. */
  private remove(id: string): void {
    const m = this.members.get(id);
    if (!m) return;
    this.members.delete(id);
    void m.close().then(() => m.removeAllListeners());
  }

  private member(id: string): MemberConnection {
    const m = this.members.get(id);
    if (!m) throw clientError('E_INTERNAL', `the ring names ${id} but there is no connection to it`);
    return m;
  }

  private onPush(m: MemberConnection, p: PushEvent): void {
    if (p.kind !== PushKind.Topology) return;
    try {
      this.apply(parseTopology(p.body), m.id);
    } catch (e) {
      this.report(e as Error, 'bad topology push');
    }
  }

  private onBreaker(c: BreakerStateChange): void {
    // Calls already waiting for the dead node's connection would otherwise sit out their whole
    // timeout and fail; they were never sent, so they go where new calls go. A single node has
    // nowhere else to send them: they keep waiting for it, as they always did.
    if (c.state === 'open' && this.ring.size > 1) {
      this.members.get(c.node)?.conn.rejectQueued(clientError('E_NOT_CONNECTED',
        `the circuit breaker for ${c.node} opened before the request could be sent`, { node: c.node }));
    }
    this.emit('breaker', c);
    if (c.state === 'open' && c.previous === 'closed') this.emit('node:down', c.node);
    else if (c.state === 'closed') this.emit('node:up', c.node);
  }

  /** Logged always; emitted only to listeners, so nobody's process dies of an unheard 'error'. */
  private report(err: Error, msg: string): void {
    this.logger.warn({ code: (err as { code?: unknown }).code, err: err.message }, msg);
    this.emitError(err);
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function isAddress(id: string): boolean {
  try {
    parseAddress(id);
    return true;
  } catch {
    return false;
  }
}
