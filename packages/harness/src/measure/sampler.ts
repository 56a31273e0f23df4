import { EventEmitter } from 'node:events';
import type { HarnessCluster } from '../cluster/harness-cluster';
import { isLiveState, type NodeStatusView } from '../cluster/node-status';
import type { StatusLinks } from '../cluster/status-links';
import type { NodeSample, Sample } from '../report/report-types';
import type { WindowStats } from '../workload/window-stats';

export interface SamplerOptions {
  stats: WindowStats;
  cluster: HarnessCluster;
  links: StatusLinks;
  intervalMs: number;
  /** ms since the run started. */
  now: () => number;
  step: () => number;
  /** Cumulative L1 hits over all clients, when the client has an L1. */
  l1Hits: () => number | undefined;
}

/**
 * Every interval: closes the workload's window (throughput, hit ratio, latency, errors) and asks
 * every node that has a process for its status (keys, ring, membership view, handoff). A node
 * that is paused or cut off shows as unreachable in that sample, which is itself a measurement.
 * The next sample is scheduled after this one finished, so a slow round never overlaps the next.
 */
export class Sampler extends EventEmitter<{ sample: [Sample] }> {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastAt = 0;
  private lastL1 = 0;
  private current: Promise<void> | undefined;

  constructor(private readonly o: SamplerOptions) {
    super();
  }

  start(): void {
    this.running = true;
    this.lastAt = this.o.now();
    this.lastL1 = this.o.l1Hits() ?? 0;
    this.o.stats.take(); // what happened before the start (preloading) is not part of the run
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** Takes one sample now (also used for the last, partial window). */
  async sampleNow(): Promise<Sample> {
    const f = this.o.stats.take();
    const now = this.o.now();
    const seconds = Math.max(0.001, (now - this.lastAt) / 1000);
    this.lastAt = now;
    const l1 = this.o.l1Hits();
    const l1Hits = l1 === undefined ? undefined : l1 - this.lastL1;
    if (l1 !== undefined) this.lastL1 = l1;
    const hosts = this.o.cluster.running();
    const statuses = await this.o.links.statuses(hosts.map((h) => h.id), Math.min(400, this.o.intervalMs * 0.8));
    const nodes: Record<string, NodeSample> = {};
    for (const h of hosts) nodes[h.name] = nodeSample(statuses.get(h.id));
    const s: Sample = {
      t: round(now / 1000, 3),
      step: this.o.step(),
      opsPerSec: round(f.ops / seconds, 1),
      reads: f.reads,
      writes: f.writes,
      hitRatio: f.reads > 0 ? round(f.hits / f.reads, 4) : null,
      l1HitRatio: l1Hits === undefined || f.reads === 0 ? null : round(l1Hits / f.reads, 4),
      p50: f.latency ? round(f.latency.p50, 3) : null,
      p99: f.latency ? round(f.latency.p99, 3) : null,
      max: f.latency ? round(f.latency.max, 3) : null,
      errors: f.errors,
      originLoads: f.originLoads,
      staleReads: f.staleReads,
      missedAcked: f.missedAcked,
      skipped: f.skipped,
      nodes,
    };
    this.samples.push(s);
    this.emit('sample', s);
    return s;
  }

  private schedule(): void {
    if (!this.running) return;
    const due = this.lastAt + this.o.intervalMs - this.o.now();
    this.timer = setTimeout(() => {
      this.current = this.sampleNow().then(() => undefined, () => undefined).finally(() => this.schedule());
    }, Math.max(0, due));
  }
}

function nodeSample(s: NodeStatusView | Error | undefined): NodeSample {
  if (s === undefined) return { unreachable: 'not asked' };
  if (s instanceof Error) return { unreachable: (s as Error & { code?: string }).code ?? s.message };
  const view: Record<string, number> = {};
  for (const m of s.members) view[m.state] = (view[m.state] ?? 0) + 1;
  return {
    keys: s.keys, epoch: s.epoch, ringMembers: s.ring.members, fingerprint: s.ring.fingerprint,
    live: s.members.filter((m) => isLiveState(m.state)).length, view,
    handoffLeft: s.handoff.sendingLeft, pendingArcs: s.handoff.pendingArcs,
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
