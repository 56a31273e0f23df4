import { Membership, suspicionTimeoutMs, type Member, type MembershipOptions } from '../src';

/**
 * Short timings for socket tests. probeTimeoutMs leaves ack headroom for a loaded 2-core machine
 * running several event loops in one process; a false suspicion would be refuted anyway.
 */
export const FAST = {
  protocolPeriodMs: 100,
  probeTimeoutMs: 50,
  indirectProbes: 2,
  suspicionMult: 4,
  pushPullIntervalMs: 400,
  retransmitMult: 4,
  pushPullTimeoutMs: 1000,
} as const;

/** Extra time allowed for scheduling jitter on a busy CI box. */
export const SLACK_MS = 1500;

export class Cluster {
  readonly nodes: Membership[] = [];

  /** Node i binds 127.0.0.i (Linux routes all of 127/8 to lo) on an ephemeral port. */
  async start(i: number, opts: Partial<MembershipOptions> = {}): Promise<Membership> {
    const node = this.create(i, opts);
    await node.start();
    return node;
  }

  create(i: number, opts: Partial<MembershipOptions> = {}): Membership {
    const node = new Membership({ id: `node-${i}`, host: `127.0.0.${i}`, port: 0, ...FAST, ...opts });
    this.nodes.push(node);
    return node;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    this.nodes.length = 0;
  }
}

export function stateOf(node: Membership, id: string): Member['state'] | undefined {
  return node.members().find((m) => m.id === id)?.state;
}

export function memberOf(node: Membership, id: string): Member | undefined {
  return node.members().find((m) => m.id === id);
}

/** Polls `cond` every 10 ms; resolves with the elapsed ms, rejects with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (cond()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Worst case from a crash to every survivor marking it dead, for n members:
 *  - first probe of the crashed member: < 2 passes of round-robin (n-1 targets per pass);
 *  - that probe fails at the end of its period (+1);
 *  - suspicion spreads to everyone: a few gossip rounds (~log2 n + 2 periods);
 *  - each survivor's own suspicion timer runs out: suspicionTimeoutMs(n).
 */
export function crashDetectionBoundMs(n: number, t: { protocolPeriodMs: number; suspicionMult: number }): number {
  const periods = 2 * (n - 1) + 1 + Math.ceil(Math.log2(n)) + 2;
  return periods * t.protocolPeriodMs + suspicionTimeoutMs(n, t);
}
