/** Where a host's node listens. Each host has its own IP, so every node can use the same ports. */
export interface HostAddress {
  ip: string;
  port: number;
  gossipPort: number;
}

export interface NetemSpec { delayMs: number; jitterMs: number; lossPct: number }

/**
 * The machines a scenario runs on. `LoopbackHosts` gives each host a loopback alias (127.x.y.z:
 * Linux routes all of 127/8 to lo, no setup needed): cheap, but every host shares one network, so
 * it cannot be cut off or slowed. `NetnsHosts` gives each host a network namespace with its own
 * interface on a bridge: a host can be partitioned (its link taken down) or shaped with tc netem.
 */
export interface HostPool {
  readonly mode: 'loopback' | 'netns';
  /** Fails early, before any node starts, when the pool cannot do what the scenario asks. */
  preflight(needs: { partition: boolean; netem: boolean }): Promise<void>;
  /** The address of host `name`, set up on first use; the same address again for a restart. */
  host(name: string): Promise<HostAddress>;
  /** The argv prefix that runs a command on the host. */
  prefix(name: string): string[];
  partition(name: string): Promise<void>;
  heal(name: string): Promise<void>;
  netem(name: string, spec: NetemSpec): Promise<void>;
  /** Removes everything the pool set up. Idempotent; the caller stops the processes first. */
  close(): Promise<void>;
}

/** Thrown for a step the pool cannot perform (a partition on loopback aliases). */
export class HostPoolError extends Error {
  override readonly name = 'HostPoolError';
}
