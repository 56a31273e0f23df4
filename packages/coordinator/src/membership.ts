import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';
import { AckTable } from './ack-table';
import { advertisedHost, formatHostPort, parseHostPort, type HostPort } from './address';
import { CancellableDelay } from './cancellable-delay';
import { systemClock } from './clock';
import { CoordinatorError } from './errors';
import { GossipEnvelope } from './gossip-envelope';
import { GossipQueue } from './gossip-queue';
import { announceLeave } from './leave-announcer';
import { ClusterView } from './cluster-view';
import { MemberTable } from './member-table';
import { MAX_ID_LENGTH, encodedMetaSize } from './message-codec';
import type { ProbeMessage } from './messages';
import { pushPullIntervalFor, resolveTimings, retransmitLimit, type Timings } from './options';
import { PausableClock } from './pausable-clock';
import { PeriodicTimer } from './periodic-timer';
import { withPiggyback } from './piggyback';
import { ProbeScheduler } from './probe-scheduler';
import { pushPullExchange } from './push-pull-client';
import { PushPullServer, type PushPullMessage } from './push-pull-server';
import { SeedJoiner } from './seed-joiner';
import { createStats, type MembershipStats } from './stats';
import { SuspicionTimers } from './suspicion-timers';
import type { Member, MemberState, MembershipOptions } from './types';
import { UdpChannel } from './udp-channel';

const SILENT_LOGGER = pino({ level: 'silent' });

/** Ping-req relays and leave pings waiting for acks; far above what a healthy node needs. */
const MAX_PENDING_ACKS = 1024;
/** Concurrent inbound push-pull exchanges. */
const MAX_PUSH_PULL_CONNECTIONS = 16;
/** An ephemeral UDP port may already be taken for TCP; memberlist retries the pair the same way. */
const BIND_ATTEMPTS = 10;

type Lifecycle = 'new' | 'starting' | 'running' | 'left' | 'stopped';

export interface MembershipEvents {
  change: [members: Member[]];
  member: [member: Member, prev?: MemberState];
}

/**
 * SWIM membership over UDP with TCP push-pull anti-entropy (see docs/gossip.md).
 *
 * Events: 'change' (all members, sorted by id) after any visible change, coalesced per microtask;
 * 'member' (member, previous state) for each change as it is applied.
 */
/** Protocol periods between reconnect attempts to a member held dead. */
const RECONNECT_PERIODS = 5;
/** Members each gossip round sends pending updates to (memberlist's GossipNodes). */
const GOSSIP_FANOUT = 3;

export class Membership extends EventEmitter<MembershipEvents> {
  private readonly id: string;
  private readonly timings: Timings;
  private readonly clock: PausableClock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly envelope: GossipEnvelope;
  private readonly counters: MembershipStats = createStats();
  private readonly queue: GossipQueue;
  private readonly acks: AckTable;
  private readonly suspicions: SuspicionTimers;
  private readonly delay: CancellableDelay;
  private readonly udp: UdpChannel;
  private readonly server: PushPullServer;
  private readonly probes: ProbeScheduler;
  private readonly pushPullTimer: PeriodicTimer;
  private readonly reapTimer: PeriodicTimer;
  private readonly reconnectTimer: PeriodicTimer;
  private readonly gossipTimer: PeriodicTimer;
  /** Aborted by stop() so in-flight TCP exchanges end with it. */
  private readonly stopping = new AbortController();
  private view: ClusterView | undefined;
  private joiner: SeedJoiner | undefined;
  private lifecycle: Lifecycle = 'new';
  private addr = '';
  private meta: Record<string, unknown>;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private changeScheduled = false;
  /** Push-pulls in flight, by kind (one of each at a time). */
  private readonly inFlight = new Set<'pushPull' | 'reconnect'>();
  private isolated = false;

  constructor(private readonly opts: MembershipOptions) {
    super();
    if (typeof opts.id !== 'string' || opts.id.length === 0 || opts.id.length > MAX_ID_LENGTH) {
      throw new CoordinatorError('E_BAD_OPTIONS', `id must be 1..${MAX_ID_LENGTH} characters`);
    }
    for (const seed of opts.seeds ?? []) {
      if (!parseHostPort(seed)) throw new CoordinatorError('E_BAD_OPTIONS', `seed ${JSON.stringify(seed)} is not host:port`);
    }
    this.id = opts.id;
    this.timings = resolveTimings(opts);
    this.meta = this.checkedMeta(opts.meta ?? {});
    this.clock = new PausableClock(opts.clock ?? systemClock);
    this.random = opts.random ?? Math.random;
    this.logger = (opts.logger ?? SILENT_LOGGER).child({ component: 'gossip', node: opts.id });
    this.envelope = new GossipEnvelope(opts.clusterKey);
    this.queue = new GossipQueue(this.timings.maxMembers);
    this.acks = new AckTable(this.clock, MAX_PENDING_ACKS);
    this.suspicions = new SuspicionTimers(this.clock);
    this.delay = new CancellableDelay(this.clock);
    this.udp = new UdpChannel({
      envelope: this.envelope,
      maxPacketBytes: this.timings.maxPacketBytes,
      maxMembers: this.timings.maxMembers,
      stats: this.counters,
      logger: this.logger,
      onMessage: (msg, from) => this.onProbeMessage(msg, from),
    });
    this.server = new PushPullServer({
      envelope: this.envelope,
      stats: this.counters,
      logger: this.logger,
      maxFrameBytes: this.timings.maxPushPullBytes,
      maxMembers: this.timings.maxMembers,
      timeoutMs: this.timings.pushPullTimeoutMs,
      maxConnections: MAX_PUSH_PULL_CONNECTIONS,
      handle: (msg) => this.onPushPullRequest(msg),
    });
    this.probes = new ProbeScheduler(
      {
        liveOthers: () => this.view?.table.liveOthers() ?? [],
        sendPing: (to, seq) => this.sendTo(to.gossipAddr, { type: 'ping', seq, from: this.id, target: to.id, updates: this.view?.hintsAbout(to.id) ?? [] }),
        sendPingReq: (via, target, seq) =>
          this.sendTo(via.gossipAddr, { type: 'ping-req', seq, from: this.id, target: target.id, targetAddr: target.gossipAddr, updates: [] }),
        onProbeFailed: (target) => {
          if (this.lifecycle === 'running') this.view?.suspect(target.id);
        },
      },
      this.acks,
      this.clock,
      this.timings,
      this.counters,
      this.random,
    );
    this.pushPullTimer = new PeriodicTimer(
      this.clock,
      () => pushPullIntervalFor(this.view?.table.countLive() ?? 1, this.timings.pushPullIntervalMs),
      () => this.pushPullWithRandomMember(),
    );
    // Reconnecting to the dead is cheap (one TCP connect that fails) and is the only way a healed
    // partition reunites, so it runs every few protocol periods rather than every push-pull interval.
    this.reconnectTimer = new PeriodicTimer(
      this.clock,
      () => Math.min(this.timings.pushPullIntervalMs, RECONNECT_PERIODS * this.timings.protocolPeriodMs),
      () => this.reconnectRandomDeadMember(),
    );
    // Probes carry updates to one member per period; in a small cluster an update's few
    // transmissions can then all miss a member, which hears of it only at its next push-pull
    // (seconds to tens of seconds). A gossip fan-out, as memberlist has, spreads pending updates to
    // a few random members every half period.
    this.gossipTimer = new PeriodicTimer(
      this.clock,
      () => Math.max(1, Math.floor(this.timings.protocolPeriodMs / 2)),
      () => this.gossipPending(),
    );
    this.reapTimer = new PeriodicTimer(
      this.clock,
      () => Math.max(this.timings.protocolPeriodMs, this.timings.reapAfterMs / 4),
      () => this.view?.reap(this.timings.reapAfterMs),
    );
  }

  get gossipAddr(): string {
    return this.addr;
  }

  /** Binds UDP and TCP on one port, then joins through the seeds (resolves at once without any). */
  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  members(): Member[] {
    return this.view?.table.list() ?? [];
  }

  /** Alive and suspect members: a suspect keeps its keys until it is declared dead. */
  aliveMembers(): Member[] {
    return this.members().filter((m) => m.state === 'alive' || m.state === 'suspect');
  }

  /** Gossips new meta with a new incarnation (peers ignore same-incarnation alive messages). */
  setMeta(meta: Record<string, unknown>): void {
    this.meta = this.checkedMeta(meta);
    const table = this.view?.table;
    if (!table || this.lifecycle !== 'running') return;
    this.queue.enqueue(table.setSelfMeta(this.meta));
    this.emit('member', table.self, 'alive');
    this.scheduleChange();
  }

  /**
   * Stops probing and announces `left` to the other members directly, resolving once they all
   * acked or after `timeoutMs`. Keeps answering pings until stop(), so nobody suspects us meanwhile.
   */
  async leave(timeoutMs: number = 2 * this.timings.protocolPeriodMs): Promise<void> {
    const table = this.view?.table;
    if (!table || this.lifecycle !== 'running') return;
    this.lifecycle = 'left';
    this.probes.stop();
    this.pushPullTimer.stop();
    this.suspicions.clear();
    const { update, member, prev } = table.markSelfLeft();
    this.queue.enqueue(update);
    this.emit('member', member, prev);
    this.scheduleChange();
    const targets = this.shuffled(table.liveOthers());
    const result = await announceLeave(targets, timeoutMs, {
      acks: this.acks,
      clock: this.clock,
      delay: this.delay,
      resendEveryMs: this.timings.probeTimeoutMs,
      sendLeavePing: (to, seq) => this.sendTo(to.gossipAddr, { type: 'ping', seq, from: this.id, target: to.id, updates: [update] }),
    });
    this.logger.info(result, 'left cluster');
  }

  /** Closes the sockets and clears every timer. Idempotent; no leave is announced. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  stats(): MembershipStats & { members: number; liveMembers: number; queuedUpdates: number; pendingAcks: number; suspected: number } {
    return {
      ...this.counters,
      members: this.view?.table.size ?? 0,
      liveMembers: this.view?.table.countLive() ?? 0,
      queuedUpdates: this.queue.size,
      pendingAcks: this.acks.size,
      suspected: this.suspicions.size,
    };
  }

  /**
   * Test hook simulating SIGSTOP/SIGCONT: while frozen every packet in or out is dropped, inbound
   * push-pulls are refused and timers are held back; on thaw held timers run late, in order, as
   * after SIGCONT. The probe that was in flight is dropped rather than judged, since its acks were
   * discarded by the freeze, not lost by the network.
   */
  _testFreeze(frozen: boolean): void {
    if (this.lifecycle === 'stopped') return;
    if (frozen) {
      this.udp.frozen = true;
      this.server.frozen = true;
      this.clock.pause();
      return;
    }
    this.udp.frozen = false;
    this.server.frozen = false;
    this.probes.abortInFlight();
    this.clock.resume();
  }

  /**
   * Test hook simulating a network partition around this member: unlike a freeze its timers keep
   * running, so it declares the others dead while they declare it dead, as both sides of a real
   * partition do. Every packet and push-pull, in or out, fails until the partition heals.
   */
  _testIsolate(isolated: boolean): void {
    if (this.lifecycle === 'stopped') return;
    this.isolated = isolated;
    this.udp.frozen = isolated;
    this.server.frozen = isolated;
  }

  private async doStart(): Promise<void> {
    if (this.lifecycle !== 'new') throw new CoordinatorError('E_STOPPED');
    this.lifecycle = 'starting';
    try {
      const port = await this.bindSockets();
      this.throwIfStopped();
      this.addr = formatHostPort(advertisedHost(this.opts.host, this.opts.advertiseHost), port);
      const table = new MemberTable(this.id, { addr: this.addr, meta: this.meta }, this.timings.maxMembers, this.clock);
      this.view = new ClusterView({
        selfId: this.id,
        table,
        queue: this.queue,
        suspicions: this.suspicions,
        timings: this.timings,
        stats: this.counters,
        logger: this.logger,
        onMember: (member, prev) => {
          this.emit('member', member, prev);
          this.scheduleChange();
        },
        onListChanged: () => this.scheduleChange(),
      });
      this.queue.enqueue(table.selfAliveUpdate());
      this.throwIfStopped();
      this.lifecycle = 'running';
      this.emit('member', table.self, undefined);
      this.scheduleChange();
      this.probes.start();
      this.pushPullTimer.start(Math.floor(this.random() * this.timings.pushPullIntervalMs));
      this.reapTimer.start();
      this.reconnectTimer.start();
      this.gossipTimer.start();
      this.logger.info({ gossipAddr: this.addr }, 'gossip listening');

      this.joiner = new SeedJoiner({
        seeds: this.opts.seeds ?? [],
        selfId: this.id,
        selfAddr: this.addr,
        clock: this.clock,
        delay: this.delay,
        random: this.random,
        logger: this.logger,
        stats: this.counters,
        retryBaseMs: this.timings.protocolPeriodMs,
        joinTimeoutMs: this.timings.joinTimeoutMs,
        pushPullTimeoutMs: this.timings.pushPullTimeoutMs,
        exchange: (to, timeoutMs) => this.exchangeState(to, true, timeoutMs),
      });
      const reply = await this.joiner.join();
      this.throwIfStopped();
      if (reply) this.view.merge(reply);
    } catch (err) {
      await this.stop();
      // stop() may have run while a bind was pending and found nothing to close yet.
      await Promise.all([this.udp.close(), this.server.close()]);
      throw err;
    }
  }

  private async bindSockets(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const port = await this.udp.bind(this.opts.host, this.opts.port);
      try {
        await this.server.listen(this.opts.host, port);
        return port;
      } catch (err) {
        await this.udp.close();
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (this.opts.port !== 0 || !inUse || attempt >= BIND_ATTEMPTS) throw err;
      }
    }
  }

  private async doStop(): Promise<void> {
    this.lifecycle = 'stopped';
    this.stopping.abort();
    this.joiner?.stop();
    this.probes.stop();
    this.pushPullTimer.stop();
    this.reapTimer.stop();
    this.reconnectTimer.stop();
    this.gossipTimer.stop();
    this.suspicions.clear();
    this.acks.clear();
    this.delay.cancelAll();
    this.queue.clear();
    this.udp.frozen = false;
    this.server.frozen = false;
    await Promise.all([this.udp.close(), this.server.close()]);
  }

  private throwIfStopped(): void {
    if (this.lifecycle === 'stopped') throw new CoordinatorError('E_STOPPED');
  }

  private checkedMeta(meta: Record<string, unknown>): Record<string, unknown> {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      throw new CoordinatorError('E_BAD_OPTIONS', 'meta must be a plain object');
    }
    const size = encodedMetaSize(meta);
    if (size > this.timings.maxMetaBytes) {
      throw new CoordinatorError('E_BAD_OPTIONS', `meta is ${size} bytes encoded, over maxMetaBytes ${this.timings.maxMetaBytes}`);
    }
    return { ...meta };
  }

  // ---- UDP probe traffic ----

  private onProbeMessage(msg: ProbeMessage, from: HostPort): void {
    const view = this.view;
    if (!view || this.lifecycle === 'stopped') return;
    switch (msg.type) {
      case 'ping':
        // Someone reusing our address under another id is being probed, not us.
        if (msg.target !== this.id) return;
        view.applyAll(msg.updates);
        this.send(from, { type: 'ack', seq: msg.seq, from: this.id, updates: view.hintsAbout(msg.from) });
        return;
      case 'ack':
        view.applyAll(msg.updates);
        this.acks.resolve(msg.seq);
        return;
      case 'ping-req':
        view.applyAll(msg.updates);
        this.relayPing(msg, from);
        return;
      case 'gossip':
        view.applyAll(msg.updates);
        return;
    }
  }

  /** Pings the target on the requester's behalf and forwards its ack under the requester's seq. */
  private relayPing(req: Extract<ProbeMessage, { type: 'ping-req' }>, requester: HostPort): void {
    const target = parseHostPort(req.targetAddr);
    if (!target || req.target === this.id) return;
    const seq = this.acks.nextSeq();
    const onAck = (): void => this.send(requester, { type: 'ack', seq: req.seq, from: req.target, updates: [] });
    if (!this.acks.register(seq, this.timings.probeTimeoutMs, onAck)) return;
    this.send(target, { type: 'ping', seq, from: this.id, target: req.target, updates: this.view?.hintsAbout(req.target) ?? [] });
  }

  private sendTo(addr: string, msg: ProbeMessage): void {
    const to = parseHostPort(addr);
    if (to) this.send(to, msg);
  }

  private send(to: HostPort, msg: ProbeMessage): void {
    const limit = retransmitLimit(this.view?.table.countLive() ?? 1, this.timings.retransmitMult);
    const maxPayload = this.timings.maxPacketBytes - this.envelope.overheadBytes;
    this.udp.send(withPiggyback(msg, this.queue, limit, maxPayload), to);
  }

  private scheduleChange(): void {
    if (this.changeScheduled) return;
    this.changeScheduled = true;
    queueMicrotask(() => {
      this.changeScheduled = false;
      if (this.lifecycle !== 'stopped') this.emit('change', this.members());
    });
  }

  // ---- TCP push-pull ----

  private localState(join: boolean): PushPullMessage {
    return { type: 'push-pull', from: this.id, join, members: this.view?.table.records() ?? [] };
  }

  /** Replies with our state as it was before merging theirs, as memberlist does. */
  private onPushPullRequest(msg: PushPullMessage): PushPullMessage {
    const reply = this.localState(false);
    if (this.lifecycle === 'running' || this.lifecycle === 'left') this.view?.merge(msg);
    return reply;
  }

  private exchangeState(to: HostPort, join: boolean, timeoutMs: number): Promise<PushPullMessage> {
    if (this.isolated) return Promise.reject(new Error('isolated by a test partition'));
    return pushPullExchange(to, this.localState(join), {
      envelope: this.envelope,
      stats: this.counters,
      maxFrameBytes: this.timings.maxPushPullBytes,
      maxMembers: this.timings.maxMembers,
      timeoutMs,
      signal: this.stopping.signal,
    });
  }

  /**
   * A push-pull with a random live member repairs whatever gossip missed.
   */
  private pushPullWithRandomMember(): void {
    this.exchangeWithRandom('pushPull', this.view?.table.liveOthers() ?? [], (err, peer) => {
      this.counters.pushPullFailures++;
      this.logger.debug({ err, peer }, 'push-pull failed');
    });
  }

  /**
   * SWIM never probes a member it holds dead, so after a partition heals each side would stay
   * alone forever. Every few protocol periods one member held dead gets a push-pull (as serf's
   * reconnect loop does); when it gets through, each side sees its own death notice in the
   * other's state, both refute with a higher incarnation, and the cluster is whole again.
   */
  private reconnectRandomDeadMember(): void {
    // A failure means it is still unreachable: try again next period.
    this.exchangeWithRandom('reconnect', this.view?.table.deadOthers() ?? [], () => undefined);
  }

  /** One push-pull with a random member of `peers`, at most one of each kind at a time. */
  private exchangeWithRandom(kind: 'pushPull' | 'reconnect', peers: readonly Member[], onFail: (err: unknown, peer: string) => void): void {
    if (this.inFlight.has(kind) || this.lifecycle !== 'running' || peers.length === 0) return;
    const peer = peers[Math.min(peers.length - 1, Math.floor(this.random() * peers.length))];
    const to = peer && parseHostPort(peer.gossipAddr);
    if (!to) return;
    this.inFlight.add(kind);
    this.exchangeState(to, false, this.timings.pushPullTimeoutMs)
      .then((reply) => {
        if (kind === 'reconnect') this.counters.reconnects++;
        if (this.lifecycle === 'running') this.view?.merge(reply);
      })
      .catch((err: unknown) => onFail(err, peer.id))
      .finally(() => { this.inFlight.delete(kind); });
  }

  /** Sends what the queue still has to spread to GOSSIP_FANOUT random live members (nothing when it is empty). */
  private gossipPending(): void {
    if (this.lifecycle !== 'running' || this.queue.size === 0) return;
    const others = this.shuffled(this.view?.table.liveOthers() ?? []).slice(0, GOSSIP_FANOUT);
    for (const m of others) {
      if (this.queue.size === 0) return;
      this.sendTo(m.gossipAddr, { type: 'gossip', from: this.id, updates: [] });
      this.counters.gossipSent++;
    }
  }

  private shuffled<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(this.random() * (i + 1)));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}
