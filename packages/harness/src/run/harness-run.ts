import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Corral } from '@corral/client';
import { loadRingHasher } from '@corral/ring';
import { ClusterCommands } from '../cluster/cluster-commands';
import { HarnessCluster } from '../cluster/harness-cluster';
import { StatusLinks } from '../cluster/status-links';
import { ChildSpawner } from '../hosts/child-spawner';
import type { HostPool } from '../hosts/host-pool';
import { LoopbackHosts } from '../hosts/loopback-hosts';
import { NetnsHosts } from '../hosts/netns-hosts';
import { RunRegistry, type SweepResult } from '../hosts/run-registry';
import { Sampler } from '../measure/sampler';
import { ProgressDisplay } from '../report/progress-display';
import { assembleReport } from '../report/assemble-report';
import type { ClientEvent, Report, StepReport } from '../report/report-types';
import { ReportWriter, type WrittenReport } from '../report/report-writer';
import { NEEDS_NETNS, type Scenario } from '../scenario/scenario-types';
import { KeyLedger, type StaleRead } from '../workload/key-ledger';
import { KeySpace } from '../workload/key-space';
import { L1Support } from '../workload/l1-support';
import { ValueCodec } from '../workload/value-codec';
import { WindowStats } from '../workload/window-stats';
import { Workload } from '../workload/workload';
import { preload } from './preload';
import { sleep } from './step-actions';
import { StepRunner } from './step-runner';

export interface HarnessRunOptions {
  scenario: Scenario;
  scenarioFile: string;
  /** packages/cli/bin/corral.js: nodes and cluster commands are run through the real CLI. */
  cliEntry: string;
  netns: boolean;
  /** Where report.json, report.html and the node logs go. */
  outDir: string;
  /** The live display's stream (stderr for the CLI). */
  display: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  quiet?: boolean;
  /** Ctrl-C: the step in progress ends early, the report is written, everything is stopped. */
  signal?: AbortSignal;
}

export interface HarnessResult { report: Report; paths: WrittenReport; swept: SweepResult }

/**
 * One scenario, start to finish: hosts and nodes up, the cache preloaded, the workload and the
 * sampler running through a warm-up and the timeline, then the invariants, the report, and the
 * teardown. The teardown runs whatever happened (an exception, Ctrl-C), and everything it must
 * remove was recorded in the run registry before it was created, so a harness that is itself
 * killed leaves nothing the next run does not sweep.
 */
export class HarnessRun {
  private readonly registry: RunRegistry;
  private readonly spawner: ChildSpawner;
  private readonly pool: HostPool;
  private readonly links: StatusLinks;
  private readonly clients: Corral[] = [];
  private readonly display: ProgressDisplay;
  private readonly t0 = performance.now();
  private currentStep = -1;
  private torn = false;

  constructor(private readonly o: HarnessRunOptions) {
    const runId = `hr-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.registry = new RunRegistry(runId);
    const adminToken = randomBytes(16).toString('hex');
    this.spawner = new ChildSpawner(this.registry, { CORRAL_ADMIN_TOKEN: adminToken, CORRAL_CLUSTER_KEY: randomBytes(16).toString('hex') });
    this.pool = o.netns ? new NetnsHosts(this.registry) : new LoopbackHosts();
    this.links = new StatusLinks({ auth: adminToken, timeoutMs: 1000 });
    this.display = new ProgressDisplay(o.display, o.quiet);
  }

  get runId(): string { return this.registry.runId; }

  async run(): Promise<HarnessResult> {
    const swept = RunRegistry.sweep(undefined, NetnsHosts.teardown);
    if (swept.runs > 0) this.display.line(`cleaned up after ${swept.runs} earlier run(s) that did not: ${swept.killed} processes, ${swept.netns} namespaces, ${swept.links} links`);
    try {
      return { ...(await this.measure()), swept };
    } finally {
      await this.teardown();
    }
  }

  /** Synchronous last resort (a second Ctrl-C): kill every child, remove the network, now. */
  emergencyStop(): void {
    if (this.torn) return;
    this.torn = true;
    void this.spawner.killAll();
    if (this.pool instanceof NetnsHosts) void this.pool.close();
    this.registry.close();
  }

  private now = (): number => performance.now() - this.t0;

  private async measure(): Promise<{ report: Report; paths: WrittenReport }> {
    const { scenario: sc, signal } = this.o;
    const startedAt = new Date().toISOString();
    const logDir = join(this.o.outDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    await loadRingHasher();
    await this.pool.preflight({
      partition: sc.timeline.some((s) => s.kind === 'partition' || s.kind === 'heal'),
      netem: sc.timeline.some((s) => s.kind === 'netem'),
    });
    if (!this.o.netns && sc.timeline.some((s) => NEEDS_NETNS.has(s.kind))) throw new Error('unreachable: preflight passed a netns step on loopback');

    const cluster = new HarnessCluster({ pool: this.pool, spawner: this.spawner, links: this.links, cliEntry: this.o.cliEntry, spec: sc.cluster, logDir });
    this.display.line(`starting ${sc.cluster.nodes} nodes on ${this.pool.mode} hosts (logs in ${logDir})`);
    await cluster.startInitial(sc.cluster.nodes, sc.bounds.convergeMs);

    const seeds = cluster.up().map((h) => h.id);
    const connect = (l1: boolean, name: string) => Corral.connect({ seeds, name, timeoutMs: sc.workload.timeoutMs, ...L1Support.options(l1) });
    for (let i = 0; i < sc.workload.clients; i++) this.clients.push(await connect(sc.workload.l1, `harness-client-${i + 1}`));
    const observer = await connect(false, 'harness-sweep');
    this.clients.push(observer);
    for (const c of this.clients) c.on('error', () => undefined); // topology hiccups are measured through the calls, not thrown at the process
    const workers = this.clients.slice(0, sc.workload.clients);
    const clientEvents: ClientEvent[] = [];
    workers.forEach((c, n) => {
      const client = `harness-client-${n + 1}`;
      c.on('topology', (epoch, members) => clientEvents.push({
        atMs: Math.round(this.now()), wall: Date.now(), client, kind: 'topology', epoch, members: members.map((m) => `${m.id}:${m.state}`),
      }));
      c.on('breaker', (ch) => clientEvents.push({ atMs: Math.round(this.now()), wall: Date.now(), client, kind: 'breaker', node: ch.node, state: ch.state }));
    });
    const l1 = L1Support.status(sc.workload.l1, workers[0]);
    if (sc.workload.l1 && !l1.available) this.display.line(`note: ${l1.note}`);

    const keys = new KeySpace(sc.data.keys, sc.workload.distribution, this.registry.runId.slice(-8));
    const codec = new ValueCodec(sc.data.valueBytes);
    const ledger = new KeyLedger(sc.data.keys, (i) => keys.key(i));
    this.display.line(`preloading ${sc.data.keys} keys`);
    await preload({ client: observer, keys, ledger, codec, ttlMs: sc.data.ttlMs, now: this.now, timeoutMs: Math.max(2000, sc.workload.timeoutMs) });

    const stats = new WindowStats();
    const workload = new Workload({
      clients: workers, keys, ledger, codec, spec: sc.workload, stats, ttlMs: sc.data.ttlMs, gutterTtlMs: sc.cluster.gutterTtlMs,
      now: this.now, step: () => this.currentStep,
      onStale: (rec) => { probes.push(this.probeStale(cluster, codec, rec)); },
    });
    const probes: Array<Promise<void>> = [];
    const sampler = new Sampler({
      stats, cluster, links: this.links, intervalMs: sc.sampleMs, now: this.now, step: () => this.currentStep,
      l1Hits: () => (l1.available ? workers.reduce((n, c) => n + (L1Support.counters(c)?.hits ?? 0), 0) : undefined),
    });
    let stepLabel = 'warm-up';
    let phase = '';
    sampler.on('sample', (s) => this.display.sample(s, { totalSteps: sc.timeline.length, stepLabel, phase, missed: ledger.lost.length, expectedMembers: cluster.up().length }));
    const runner = new StepRunner({
      cluster, pool: this.pool, commands: new ClusterCommands({ spawner: this.spawner, cliEntry: this.o.cliEntry }), links: this.links,
      commandWaitMs: sc.bounds.convergeMs * 2, signal: signal ?? new AbortController().signal,
      scenario: sc, client: observer, keys, ledger, codec, now: this.now,
      onPhase: (_s, p) => { phase = p; },
    });

    sampler.start();
    workload.start();
    this.display.line(`warming up for ${(sc.workload.warmupMs / 1000).toFixed(1)} s at ${sc.workload.rate} ops/s`);
    await sleep(sc.workload.warmupMs, signal);
    const steps: StepReport[] = [];
    let aborted: string | undefined;
    for (const step of sc.timeline) {
      if (signal?.aborted) { aborted = 'interrupted (Ctrl-C)'; break; }
      this.currentStep = step.index;
      stepLabel = step.label;
      const { report } = await runner.run(step);
      steps.push(report);
      this.display.stepDone(report, ledger.lost.filter((k) => k.step === step.index).length);
      if (report.error) { aborted = `s${step.index} ${step.label} could not be carried out`; break; }
    }
    if (!aborted && signal?.aborted) aborted = 'interrupted (Ctrl-C)';
    await workload.stop();
    await sampler.stop();
    await sampler.sampleNow();
    await Promise.allSettled(probes);
    this.display.clear();

    const report = assembleReport({
      scenario: sc, scenarioFile: this.o.scenarioFile, startedAt, durationS: Math.round(this.now()) / 1000, hostMode: this.pool.mode,
      hosts: cluster.all(), l1, samples: sampler.samples, steps, lost: ledger.lost, stale: ledger.stale, clientEvents,
      evictions: await this.evictions(cluster), aborted,
    });
    const paths = ReportWriter.write(report, this.o.outDir);
    return { report, paths };
  }

  /** Right after a stale read: what each node up holds for the key, and its ring epoch. */
  private async probeStale(cluster: HarnessCluster, codec: ValueCodec, rec: StaleRead): Promise<void> {
    const atMs = Math.round(this.now());
    const nodes: NonNullable<StaleRead['probe']>['nodes'] = {};
    await Promise.all(cluster.up().map(async (h) => {
      try {
        const [entry, status] = await Promise.all([this.links.peek(h.id, rec.key), this.links.status(h.id).catch(() => undefined)]);
        const decoded = entry === null ? undefined : codec.decode(entry[0]);
        nodes[`${h.name} ${h.id}`] = { seq: decoded?.seq ?? null, version: entry === null ? null : entry[2], epoch: status?.epoch ?? null };
      } catch (e) {
        nodes[`${h.name} ${h.id}`] = { error: String((e as Error).message) };
      }
    }));
    rec.probe = { atMs, nodes };
  }

  /** Evictions would make a loss ambiguous (evicted is not lost), so the report counts them. Nodes are sized to need none. */
  private async evictions(cluster: HarnessCluster): Promise<number> {
    let n = 0;
    await Promise.all(cluster.up().map(async (h) => {
      try { n += Number((await this.links.stats(h.id))['evictions'] ?? 0); } catch { /* a node that does not answer has nothing to add */ }
    }));
    return n;
  }

  private async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
    await this.links.closeAll();
    await this.spawner.killAll();
    await this.pool.close();
    this.registry.close();
  }
}
