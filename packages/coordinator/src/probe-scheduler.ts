import type { Clock, TimerHandle } from './clock';
import type { AckTable } from './ack-table';
import type { Timings } from './options';
import { PeriodicTimer } from './periodic-timer';
import { ProbeOrder } from './probe-order';
import type { MembershipStats } from './stats';
import type { Member } from './types';

export interface ProbeHost {
  /** Alive and suspect members other than self. */
  liveOthers(): Member[];
  sendPing(to: Member, seq: number): void;
  sendPingReq(via: Member, target: Member, seq: number): void;
  /** Neither a direct nor an indirect ack came back within the protocol period. */
  onProbeFailed(target: Member): void;
}

interface InFlightProbe {
  target: Member;
  seq: number;
  acked: boolean;
  indirectTimer: TimerHandle | undefined;
}

/**
 * The SWIM failure detector loop. Each protocol period: finish the previous probe (no ack at all →
 * report failure), pick the next member round-robin, ping it; if no ack within probeTimeoutMs, ask
 * `indirectProbes` other members to ping it for us (ping-req). Direct and indirect acks carry the
 * same sequence number, so one waiter covers both paths.
 */
export class ProbeScheduler {
  private readonly order: ProbeOrder;
  private readonly ticker: PeriodicTimer;
  private inFlight: InFlightProbe | undefined;

  constructor(
    private readonly host: ProbeHost,
    private readonly acks: AckTable,
    private readonly clock: Clock,
    private readonly timings: Pick<Timings, 'protocolPeriodMs' | 'probeTimeoutMs' | 'indirectProbes'>,
    private readonly stats: MembershipStats,
    private readonly random: () => number,
  ) {
    this.order = new ProbeOrder(random);
    this.ticker = new PeriodicTimer(clock, () => timings.protocolPeriodMs, () => this.tick());
  }

  start(): void {
    // A random phase keeps nodes started together from probing in lockstep.
    this.ticker.start(Math.floor(this.random() * this.timings.protocolPeriodMs));
  }

  stop(): void {
    this.ticker.stop();
    this.abortInFlight();
  }

  /** Forget the current probe without judging its target (used when the node was frozen). */
  abortInFlight(): void {
    const p = this.inFlight;
    this.inFlight = undefined;
    if (!p) return;
    if (p.indirectTimer !== undefined) this.clock.clearTimeout(p.indirectTimer);
    this.acks.cancel(p.seq);
  }

  /** Runs one protocol period's work; exposed for tests driving time by hand. */
  tick(): void {
    this.finishInFlight();
    const others = this.host.liveOthers();
    const id = this.order.next(others.map((m) => m.id));
    const target = others.find((m) => m.id === id);
    if (!target) return;
    this.probe(target);
  }

  private probe(target: Member): void {
    const seq = this.acks.nextSeq();
    const probe: InFlightProbe = { target, seq, acked: false, indirectTimer: undefined };
    // The waiter outlives the period slightly so a late ack is still consumed, not misread.
    const registered = this.acks.register(seq, this.timings.protocolPeriodMs, () => {
      probe.acked = true;
      if (probe.indirectTimer !== undefined) this.clock.clearTimeout(probe.indirectTimer);
    });
    if (!registered) return;
    this.inFlight = probe;
    this.stats.probes++;
    this.host.sendPing(target, seq);
    probe.indirectTimer = this.clock.setTimeout(() => {
      probe.indirectTimer = undefined;
      if (!probe.acked && this.inFlight === probe) this.probeIndirectly(probe);
    }, this.timings.probeTimeoutMs);
  }

  private probeIndirectly(probe: InFlightProbe): void {
    const helpers = this.pickHelpers(probe.target.id, this.timings.indirectProbes);
    for (const helper of helpers) {
      this.stats.indirectProbes++;
      this.host.sendPingReq(helper, probe.target, probe.seq);
    }
  }

  private finishInFlight(): void {
    const p = this.inFlight;
    this.inFlight = undefined;
    if (!p) return;
    if (p.indirectTimer !== undefined) this.clock.clearTimeout(p.indirectTimer);
    this.acks.cancel(p.seq);
    if (p.acked) return;
    this.stats.probeFailures++;
    this.host.onProbeFailed(p.target);
  }

  private pickHelpers(excludeId: string, k: number): Member[] {
    const pool = this.host.liveOthers().filter((m) => m.id !== excludeId && m.state === 'alive');
    // Partial Fisher-Yates: the first k slots end up a uniform random sample.
    for (let i = 0; i < Math.min(k, pool.length); i++) {
      const j = i + Math.min(pool.length - 1 - i, Math.floor(this.random() * (pool.length - i)));
      const tmp = pool[i] as Member;
      pool[i] = pool[j] as Member;
      pool[j] = tmp;
    }
    return pool.slice(0, k);
  }
}
