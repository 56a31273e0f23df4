import { randomBytes } from 'node:crypto';
import { hostIndex } from './host-name';
import { listLinks, run, runQuietly } from './ip-command';
import { HostPoolError, type HostAddress, type HostPool, type NetemSpec } from './host-pool';
import type { RunRecord, RunRegistry } from './run-registry';

/** Every name this pool creates starts with one of these, so leftovers are easy to find and to sweep. */
export const NETNS_PREFIX = 'corral-';
export const LINK_PREFIX = 'crl';

const PORT = 7070;
const GOSSIP_PORT = 7946;

/**
 * Hosts in network namespaces: a bridge `crlb<tag>` in the root namespace holding 10.213.<s>.1,
 * and per host a namespace `corral-<tag>-nK` whose `eth0` (10.213.<s>.<10+K>) is one end of a
 * veth pair; the other end, `crlv<tag>K`, is plugged into the bridge. The harness process stays
 * in the root namespace and reaches every host through the bridge, as a client on the LAN would.
 *
 * Partition takes the host's bridge end down: the host can reach no one and no one reaches it.
 * Netem shapes both ends (delay and loss apply in each direction). Every name goes into the run
 * registry before it is created, so nothing outlives the run even if the harness is killed.
 */
export class NetnsHosts implements HostPool {
  readonly mode = 'netns' as const;
  private readonly tag = randomBytes(3).toString('hex').slice(0, 5);
  private readonly bridge = `${LINK_PREFIX}b${this.tag}`;
  private subnet = -1;
  private readonly hosts = new Map<string, HostAddress>();
  private readonly created = { netns: [] as string[], links: [] as string[] };
  private readonly shaped = new Set<string>();

  constructor(private readonly registry: RunRegistry) {}

  async preflight(needs: { partition: boolean; netem: boolean }): Promise<void> {
    if (process.getuid?.() !== 0) throw new HostPoolError('--netns needs root (it creates network namespaces and links)');
    try {
      await run('ip', ['-V']);
    } catch {
      throw new HostPoolError('--netns needs iproute2 (`ip`, `tc`); scripts/ensure-test-deps.sh installs it');
    }
    if (needs.netem) await this.probeNetem();
  }

  async host(name: string): Promise<HostAddress> {
    const known = this.hosts.get(name);
    if (known) return known;
    if (this.subnet < 0) await this.createBridge();
    const k = hostIndex(name);
    const ns = this.netnsOf(name);
    const veth = this.vethOf(name);
    const ip = `10.213.${this.subnet}.${10 + k}`;
    this.remember('netns', ns);
    await run('ip', ['netns', 'add', ns]);
    this.remember('links', veth);
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run('ip', ['link', 'set', veth, 'master', this.bridge, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', `10.213.${this.subnet}.1`]);
    const a = { ip, port: PORT, gossipPort: GOSSIP_PORT };
    this.hosts.set(name, a);
    return a;
  }

  prefix(name: string): string[] {
    return ['ip', 'netns', 'exec', this.netnsOf(name)];
  }

  async partition(name: string): Promise<void> {
    await run('ip', ['link', 'set', this.vethOf(name), 'down']);
  }

  async heal(name: string): Promise<void> {
    await run('ip', ['link', 'set', this.vethOf(name), 'up']);
  }

  async netem(name: string, spec: NetemSpec): Promise<void> {
    const ns = this.netnsOf(name);
    const sides: Array<{ pre: string[]; dev: string }> = [{ pre: [], dev: this.vethOf(name) }, { pre: ['-n', ns], dev: 'eth0' }];
    if (spec.delayMs === 0 && spec.jitterMs === 0 && spec.lossPct === 0) {
      if (this.shaped.delete(name)) for (const s of sides) await run('tc', [...s.pre, 'qdisc', 'del', 'dev', s.dev, 'root']);
      return;
    }
    const shape = ['delay', `${spec.delayMs}ms`, ...(spec.jitterMs > 0 ? [`${spec.jitterMs}ms`] : []), ...(spec.lossPct > 0 ? ['loss', `${spec.lossPct}%`] : [])];
    for (const s of sides) await run('tc', [...s.pre, 'qdisc', 'replace', 'dev', s.dev, 'root', 'netem', ...shape]);
    this.shaped.add(name);
  }

  async close(): Promise<void> {
    NetnsHosts.teardown(this.created);
    this.created.netns = [];
    this.created.links = [];
    this.hosts.clear();
  }

  /** Deletes links first (a veth end in the root namespace can outlive its namespace), then namespaces. */
  static teardown(r: Pick<RunRecord, 'netns' | 'links'>): { netns: number; links: number } {
    let links = 0;
    let netns = 0;
    for (const l of [...r.links].reverse()) if (runQuietly('ip', ['link', 'del', l])) links++;
    for (const n of r.netns) if (runQuietly('ip', ['netns', 'del', n])) netns++;
    return { netns, links };
  }

  private netnsOf(name: string): string { return `${NETNS_PREFIX}${this.tag}-${name}`; }
  private vethOf(name: string): string { return `${LINK_PREFIX}v${this.tag}${hostIndex(name)}`; }

  private remember(kind: 'netns' | 'links', name: string): void {
    this.created[kind].push(name);
    if (kind === 'netns') this.registry.addNetns(name);
    else this.registry.addLink(name);
  }

  /** A /24 no route of this machine uses yet, then the bridge holding its first address. */
  private async createBridge(): Promise<void> {
    const routes = await run('ip', ['-4', 'route', 'show']);
    const start = Math.floor(Math.random() * 256);
    for (let i = 0; i < 256 && this.subnet < 0; i++) {
      const s = (start + i) % 256;
      if (!routes.includes(`10.213.${s}.`)) this.subnet = s;
    }
    if (this.subnet < 0) throw new HostPoolError('no free 10.213.x.0/24 subnet for the hosts');
    this.remember('links', this.bridge);
    await run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `10.213.${this.subnet}.1/24`, 'dev', this.bridge]);
    await run('ip', ['link', 'set', this.bridge, 'up']);
  }

  /** tc netem needs the sch_netem kernel module; some kernels (small VMs) are built without it. */
  private async probeNetem(): Promise<void> {
    const dummy = `${LINK_PREFIX}d${this.tag}`;
    this.remember('links', dummy);
    try {
      await run('ip', ['link', 'add', dummy, 'type', 'dummy']);
      await run('tc', ['qdisc', 'add', 'dev', dummy, 'root', 'netem', 'delay', '1ms']);
    } catch (e) {
      throw new HostPoolError(`tc netem is not available on this machine (${(e as Error).message}); the kernel needs sch_netem for netem steps`);
    } finally {
      runQuietly('ip', ['link', 'del', dummy]);
    }
  }
}

/** Links left in the root namespace by runs that are gone (for leak checks). */
export function leftoverLinks(): string[] {
  return listLinks(LINK_PREFIX);
}
