import { join } from 'node:path';
import type { ClusterSpec } from '../scenario/scenario-types';
import type { ChildSpawner } from '../hosts/child-spawner';
import type { HostAddress, HostPool } from '../hosts/host-pool';
import { hostIndex } from '../hosts/host-name';
import { NodeProcess } from '../hosts/node-process';
import { awaitConvergence } from './convergence';
import type { StatusLinks } from './status-links';

export type HostState = 'up' | 'paused' | 'killed' | 'removed' | 'partitioned';

export interface Host {
  name: string;
  addr: HostAddress;
  /** The member id: the data address host:port. */
  id: string;
  gossipAddr: string;
  state: HostState;
  proc: NodeProcess | undefined;
  logFile: string;
}

export interface HarnessClusterOptions {
  pool: HostPool;
  spawner: ChildSpawner;
  links: StatusLinks;
  cliEntry: string;
  spec: ClusterSpec;
  logDir: string;
}

/**
 * The nodes of a run and the state each is in. Nodes are real `corral node start` processes on
 * their hosts. "Up" is what the harness did to a node, not what gossip says: the steps compare
 * the two (a node the harness paused must end up dead in everyone else's eyes).
 */
export class HarnessCluster {
  readonly hosts = new Map<string, Host>();

  constructor(private readonly o: HarnessClusterOptions) {}

  /** Hosts the harness has left running and reachable: the members every ring should list. */
  up(): Host[] {
    return this.all().filter((h) => h.state === 'up');
  }

  /** Hosts with a process (up, paused or cut off): the ones the sampler asks. */
  running(): Host[] {
    return this.all().filter((h) => h.proc?.running);
  }

  /** In name order (n1, n2, … n10), whatever order they started in. */
  all(): Host[] {
    return [...this.hosts.values()].sort((a, b) => hostIndex(a.name) - hostIndex(b.name));
  }

  get(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  nameOf(id: string): string {
    return [...this.hosts.values()].find((h) => h.id === id)?.name ?? id;
  }

  /** n1 starts alone, the others join through it, as a fresh deployment would; resolves once they agree. */
  async startInitial(count: number, boundMs: number): Promise<void> {
    const first = await this.start('n1', []);
    await Promise.all(Array.from({ length: count - 1 }, (_x, i) => this.start(`n${i + 2}`, [first.gossipAddr])));
    const t0 = performance.now();
    const c = await awaitConvergence(this.o.links, this.up().map((h) => h.id), t0, boundMs);
    if (c.ringMs === null) throw new Error(`the initial ${count} nodes did not form one cluster within ${boundMs} ms: ${c.lastDisagreement ?? ''}`);
  }

  /**
   * Starts a node process on `name` (setting the host up on first use). With no seeds it starts
   * alone, which is what `corral cluster add` expects; with seeds it joins through them.
   */
  async start(name: string, seeds: string[]): Promise<Host> {
    const addr = await this.o.pool.host(name);
    const s = this.o.spec;
    const args = [
      '--host', addr.ip, '--port', String(addr.port), '--gossip-port', String(addr.gossipPort),
      '--max-memory', String(s.maxMemoryBytes), '--gossip-interval', `${s.gossipIntervalMs}ms`,
      '--suspicion-mult', String(s.suspicionMult), '--gutter-ttl', `${s.gutterTtlMs}ms`, '--log-level', process.env.CORRAL_HARNESS_NODE_LOG ?? 'info',
      ...(s.probeTimeoutMs !== undefined ? ['--probe-timeout', `${s.probeTimeoutMs}ms`] : []),
      ...(s.handoffRateBytes !== undefined ? ['--handoff-rate', String(s.handoffRateBytes)] : []),
      ...(s.vnodes !== undefined ? ['--vnodes', String(s.vnodes)] : []),
      ...(seeds.length > 0 ? ['--seeds', seeds.join(',')] : []),
      // Written on every graceful stop; a restart in snapshot mode starts from it (step-actions).
      '--snapshot-file', this.snapshotFile(name),
    ];
    const logFile = join(this.o.logDir, `${name}.log`);
    const proc = await NodeProcess.start(this.o.spawner, { name, prefix: this.o.pool.prefix(name), cliEntry: this.o.cliEntry, args, logFile, readyTimeoutMs: 15_000 });
    const host: Host = {
      name, addr, id: `${addr.ip}:${proc.port}`, gossipAddr: proc.gossipAddr ?? `${addr.ip}:${addr.gossipPort}`, state: 'up', proc, logFile,
    };
    this.hosts.set(name, host);
    return host;
  }

  /** Where `name`'s node writes its snapshot on a graceful stop and reads it on start. */
  snapshotFile(name: string): string {
    return join(this.o.logDir, `${name}.snap`);
  }

  /** Gossip addresses of the hosts up, except `but`: seeds for a node coming back. */
  seedsFor(but: string): string[] {
    return this.up().filter((h) => h.name !== but).map((h) => h.gossipAddr);
  }

  /** Any member up other than `but`, to ask about the cluster. */
  seedId(but?: string): string {
    const h = this.up().find((x) => x.name !== but);
    if (!h) throw new Error('no node is up to ask');
    return h.id;
  }
}
