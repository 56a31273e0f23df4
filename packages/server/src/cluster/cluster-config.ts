import { DEFAULT_TIMINGS, type MembershipOptions } from '@corral/coordinator';

/**
 * How a node finds and watches its cluster by gossip (SWIM, `@corral/coordinator`). Present in
 * NodeConfig = gossip on; `corral node start` turns it on unless `--peers` or `--no-gossip`.
 * Every timing here has a LAN default (memberlist's) and a `node start` flag; docs/operations.md
 * says what each one trades.
 */
export interface GossipConfig extends Pick<MembershipOptions,
  'seeds' | 'clusterKey' | 'protocolPeriodMs' | 'probeTimeoutMs' | 'indirectProbes' | 'suspicionMult' | 'pushPullIntervalMs' | 'retransmitMult' | 'joinTimeoutMs'> {
  /** UDP+TCP port for gossip. Default: the data port + GOSSIP_PORT_OFFSET (7946 for 7070); 0 when the data port is 0. */
  port?: number;
  /** Interface for gossip; defaults to the node's `host`. */
  host?: string;
}

/** How keys move when an arc of the ring changes owner (see docs/protocol.md, "Handoff"). */
export interface HandoffConfig {
  /** Most entries in one HANDOFF batch. */
  batchKeys: number;
  /** Most value+key bytes in one batch (kept well under maxFrameBytes). */
  batchBytes: number;
  /** Throttle for outgoing handoff, bytes per second over all receivers; 0 = no throttle. */
  maxBytesPerSec: number;
  /** Timeout of one HANDOFF batch. */
  batchTimeoutMs: number;
  /** Timeout of a read through to the previous owner; a slow one is answered as a miss. */
  readThroughTimeoutMs: number;
  /** A receiver stops reading through to a sender it has heard nothing from for this long. */
  idleTimeoutMs: number;
  /** Keys written or deleted here while their arc is still arriving, remembered so handoff cannot undo them. */
  maxTouchedKeys: number;
}

/**
 * The gossip port defaults to the data port plus this offset: one host can run several nodes
 * without choosing ports twice, and the default data port 7070 gets memberlist's well-known 7946.
 */
export const GOSSIP_PORT_OFFSET = 876;

export const defaultHandoffConfig: Readonly<HandoffConfig> = Object.freeze({
  batchKeys: 1000,
  batchBytes: 1024 * 1024,
  maxBytesPerSec: 64 * 1024 * 1024,
  batchTimeoutMs: 10_000,
  readThroughTimeoutMs: 500,
  idleTimeoutMs: 30_000,
  maxTouchedKeys: 100_000,
});

export const GOSSIP_DEFAULTS = {
  protocolPeriodMs: DEFAULT_TIMINGS.protocolPeriodMs,
  probeTimeoutMs: DEFAULT_TIMINGS.probeTimeoutMs,
  indirectProbes: DEFAULT_TIMINGS.indirectProbes,
  suspicionMult: DEFAULT_TIMINGS.suspicionMult,
  pushPullIntervalMs: DEFAULT_TIMINGS.pushPullIntervalMs,
  retransmitMult: DEFAULT_TIMINGS.retransmitMult,
} as const;

export function gossipPortFor(dataPort: number, configured?: number): number {
  if (configured !== undefined) return configured;
  if (dataPort === 0) return 0;
  const port = dataPort + GOSSIP_PORT_OFFSET;
  if (port > 65535) throw new RangeError(`the default gossip port (data port ${dataPort} + ${GOSSIP_PORT_OFFSET}) is over 65535; set --gossip-port`);
  return port;
}

/** Fills defaults and rejects values that cannot work, naming the field. */
export function resolveHandoffConfig(partial: Partial<HandoffConfig> | undefined, maxFrameBytes: number): HandoffConfig {
  const defined = Object.fromEntries(Object.entries(partial ?? {}).filter(([, v]) => v !== undefined));
  const c = { ...defaultHandoffConfig, ...defined } as HandoffConfig;
  for (const k of ['batchKeys', 'batchBytes', 'batchTimeoutMs', 'readThroughTimeoutMs', 'idleTimeoutMs', 'maxTouchedKeys'] as const)
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) throw new RangeError(`handoff ${k} must be a positive integer, got ${String(c[k])}`);
  if (!Number.isSafeInteger(c.maxBytesPerSec) || c.maxBytesPerSec < 0)
    throw new RangeError(`handoff maxBytesPerSec must be an integer >= 0, got ${String(c.maxBytesPerSec)}`);
  // A batch is at least one entry, so a single large value still goes alone; the cap keeps the rest of the frame in bounds.
  c.batchBytes = Math.min(c.batchBytes, Math.floor(maxFrameBytes / 2));
  return c;
}

const ADDRESS = /^(?:[^\s:[\]]+|\[[^\]]+\]):\d{1,5}$/;

/** Rejects gossip settings that cannot work, naming the flag's field. */
export function validateGossipConfig(g: GossipConfig): void {
  if (g.port !== undefined && (!Number.isInteger(g.port) || g.port < 0 || g.port > 65535)) throw new RangeError(`gossip port must be 0..65535, got ${g.port}`);
  for (const s of g.seeds ?? []) if (!ADDRESS.test(s)) throw new RangeError(`seed "${s}" is not host:port (the gossip address of a member)`);
  if (g.clusterKey === '') throw new RangeError('clusterKey must not be empty (omit it to gossip without authentication)');
  for (const k of ['protocolPeriodMs', 'probeTimeoutMs', 'pushPullIntervalMs'] as const) {
    const v = g[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new RangeError(`gossip ${k} must be a positive integer, got ${v}`);
  }
  for (const k of ['indirectProbes', 'suspicionMult', 'retransmitMult', 'joinTimeoutMs'] as const) {
    const v = g[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`gossip ${k} must be an integer >= 0, got ${v}`);
  }
  const period = g.protocolPeriodMs ?? GOSSIP_DEFAULTS.protocolPeriodMs;
  const probe = g.probeTimeoutMs ?? Math.min(GOSSIP_DEFAULTS.probeTimeoutMs, Math.floor(period / 2));
  if (probe >= period) throw new RangeError(`the probe timeout (${probe} ms) must be shorter than the protocol period (${period} ms)`);
}
