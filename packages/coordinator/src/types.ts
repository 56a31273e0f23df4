import type { Logger } from 'pino';
import type { Clock } from './clock';

/** `left` is announced by the member itself; `dead` is what the others concluded. */
import type { MemberState } from '@corral/protocol';
export type { MemberState };

export interface Member {
  id: string;
  /** host:port of the member's gossip socket (UDP and TCP). */
  gossipAddr: string;
  state: MemberState;
  incarnation: number;
  meta: Record<string, unknown>;
  /** Wall-clock ms of the last state change as seen by this node; for display only. */
  stateChangedAt: number;
}

export interface MembershipOptions {
  /** The node's identity; the server uses its data address "host:port". */
  id: string;
  /** Gossip bind address: UDP and TCP share the port. 0 = ephemeral, then read `.gossipAddr`. */
  host: string;
  port: number;
  /** What peers should dial when `host` is a wildcard or behind NAT. */
  advertiseHost?: string;
  /** Small msgpack-able data gossiped with alive messages (data port, resp port, …). */
  meta?: Record<string, unknown>;
  /** Gossip addresses (host:port) to join through; tried in turn until one answers. */
  seeds?: string[];
  /** Shared secret; when set every UDP packet and TCP frame carries an HMAC-SHA256. */
  clusterKey?: string;

  protocolPeriodMs?: number;
  probeTimeoutMs?: number;
  indirectProbes?: number;
  suspicionMult?: number;
  pushPullIntervalMs?: number;
  retransmitMult?: number;

  /** Bound for one push-pull exchange (connect, write, read). */
  pushPullTimeoutMs?: number;
  /** start() rejects (and stops) if no seed answered in this time; 0 = keep retrying. */
  joinTimeoutMs?: number;
  /** Dead and left members are forgotten after this long. */
  reapAfterMs?: number;
  /** Largest UDP packet sent or accepted, envelope included. Must match cluster-wide. */
  maxPacketBytes?: number;
  /** Largest TCP push-pull frame sent or accepted. */
  maxPushPullBytes?: number;
  /** Most members this node tracks; also the most accepted from one push-pull. */
  maxMembers?: number;
  /** Largest encoded `meta`; keeps an alive update well inside one packet. */
  maxMetaBytes?: number;

  logger?: Logger;
  /** Injected time source; defaults to the system clock. */
  clock?: Clock;
  /** Injected randomness (probe order, indirect helpers, push-pull partner). */
  random?: () => number;
}
