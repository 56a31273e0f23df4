import { CoordinatorError } from './errors';
import type { MembershipOptions } from './types';

/**
 * LAN defaults, close to memberlist's DefaultLANConfig. Our updates only travel on probe traffic
 * (no separate gossip fan-out), so dissemination takes a few periods longer than memberlist's;
 * push-pull repairs what piggybacking misses.
 */
export const DEFAULT_TIMINGS = {
  protocolPeriodMs: 1000,
  probeTimeoutMs: 500,
  indirectProbes: 3,
  suspicionMult: 4,
  pushPullIntervalMs: 30_000,
  retransmitMult: 4,
  pushPullTimeoutMs: 10_000,
  joinTimeoutMs: 0,
  reapAfterMs: 60_000,
  // A conservative fit in one Ethernet frame (1500 MTU - IP/UDP headers, with room for tunnels).
  maxPacketBytes: 1400,
  maxPushPullBytes: 4 * 1024 * 1024,
  maxMembers: 4096,
  maxMetaBytes: 512,
} as const;

export type Timings = { -readonly [K in keyof typeof DEFAULT_TIMINGS]: number };

export function resolveTimings(opts: Partial<MembershipOptions>): Timings {
  const t: Timings = { ...DEFAULT_TIMINGS };
  for (const key of Object.keys(DEFAULT_TIMINGS) as (keyof Timings)[]) {
    const value = opts[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new CoordinatorError('E_BAD_OPTIONS', `option ${key} must be a non-negative finite number, got ${String(value)}`);
    }
    t[key] = value;
  }
  if (t.protocolPeriodMs <= 0) throw new CoordinatorError('E_BAD_OPTIONS', 'protocolPeriodMs must be > 0');
  // The indirect probes need the rest of the period to come back before we suspect.
  if (t.probeTimeoutMs <= 0 || t.probeTimeoutMs >= t.protocolPeriodMs) {
    throw new CoordinatorError('E_BAD_OPTIONS', 'probeTimeoutMs must be > 0 and < protocolPeriodMs');
  }
  if (t.maxPacketBytes < 512 || t.maxPacketBytes > 65_507) {
    throw new CoordinatorError('E_BAD_OPTIONS', 'maxPacketBytes must be within 512..65507');
  }
  if (t.maxMetaBytes > t.maxPacketBytes / 2) throw new CoordinatorError('E_BAD_OPTIONS', 'maxMetaBytes must be at most maxPacketBytes/2');
  if (t.maxMembers < 1) throw new CoordinatorError('E_BAD_OPTIONS', 'maxMembers must be >= 1');
  t.indirectProbes = Math.floor(t.indirectProbes);
  return t;
}

/**
 * How long a member stays suspect before it is declared dead, for a cluster of `n` members.
 * Grows with log10(n) because news of the suspicion (and the refutation) needs O(log n) gossip
 * rounds to reach the suspect and come back; floored at one scale unit so small clusters still
 * get `suspicionMult` periods to refute.
 */
export function suspicionTimeoutMs(
  n: number,
  opts: { suspicionMult?: number; protocolPeriodMs?: number } = {},
): number {
  const mult = opts.suspicionMult ?? DEFAULT_TIMINGS.suspicionMult;
  const period = opts.protocolPeriodMs ?? DEFAULT_TIMINGS.protocolPeriodMs;
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.round(mult * nodeScale * period);
}

/** How many times one update is piggybacked before it is dropped from the queue. */
export function retransmitLimit(n: number, retransmitMult: number = DEFAULT_TIMINGS.retransmitMult): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(0, n) + 1));
}

/**
 * Push-pull cost grows with cluster size (full state each time), so past 32 members the interval
 * stretches with log2(n/32), as memberlist does, to keep TCP traffic roughly flat.
 */
export function pushPullIntervalFor(n: number, baseMs: number): number {
  const threshold = 32;
  if (n <= threshold) return baseMs;
  return Math.round(baseMs * (Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1));
}
