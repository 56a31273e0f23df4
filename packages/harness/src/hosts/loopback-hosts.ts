import { freePortPair } from './free-port';
import { hostIndex } from './host-name';
import { HostPoolError, type HostAddress, type HostPool } from './host-pool';

/**
 * Hosts on loopback aliases 127.77.<run>.<10+i>. The third byte is picked per run so that two
 * runs (or a run and the test suite's own 127.0.0.x nodes) never share an address.
 */
export class LoopbackHosts implements HostPool {
  readonly mode = 'loopback' as const;
  private readonly hosts = new Map<string, HostAddress>();
  private shared: { port: number; gossipPort: number } | undefined;

  constructor(private readonly subnet: number = 1 + Math.floor(Math.random() * 254)) {}

  async preflight(needs: { partition: boolean; netem: boolean }): Promise<void> {
    const what = [needs.partition && 'partition/heal', needs.netem && 'netem'].filter(Boolean).join(' and ');
    if (what) throw new HostPoolError(`${what} need hosts with their own network: run with --netns (as root, with iproute2); loopback aliases share one network, so a host cannot be cut off or slowed`);
  }

  async host(name: string): Promise<HostAddress> {
    const known = this.hosts.get(name);
    if (known) return known;
    const ip = `127.77.${this.subnet}.${10 + hostIndex(name)}`;
    const ports = await freePortPair(ip, this.shared);
    this.shared ??= ports;
    const a = { ip, ...ports };
    this.hosts.set(name, a);
    return a;
  }

  prefix(): string[] {
    return [];
  }

  async partition(name: string): Promise<void> {
    throw new HostPoolError(`cannot partition ${name} on loopback aliases; run with --netns`);
  }

  async heal(name: string): Promise<void> {
    throw new HostPoolError(`cannot heal ${name} on loopback aliases; run with --netns`);
  }

  async netem(name: string): Promise<void> {
    throw new HostPoolError(`cannot shape ${name}'s network on loopback aliases; run with --netns`);
  }

  async close(): Promise<void> {
    this.hosts.clear();
  }
}
