import type { MemberState } from './types';

/** One membership change as gossiped. Newer incarnations override older ones (see MemberTable). */
export type Update =
  | { kind: 'alive'; id: string; incarnation: number; addr: string; meta: Record<string, unknown> }
  | { kind: 'suspect'; id: string; incarnation: number; from: string }
  | { kind: 'dead'; id: string; incarnation: number; from: string }
  | { kind: 'left'; id: string; incarnation: number };

/** A member's full state as exchanged in push-pull. */
export interface MemberRecord {
  id: string;
  addr: string;
  state: MemberState;
  incarnation: number;
  meta: Record<string, unknown>;
}

/**
 * `from` is the sender's member id. A ping names its `target` so a process that reuses a dead
 * member's address under another id does not answer for it.
 */
export type Message =
  | { type: 'ping'; seq: number; from: string; target: string; updates: Update[] }
  | { type: 'ack'; seq: number; from: string; updates: Update[] }
  | { type: 'ping-req'; seq: number; from: string; target: string; targetAddr: string; updates: Update[] }
  /** Updates only, nothing to answer: the fan-out that spreads changes besides the probes' piggyback. */
  | { type: 'gossip'; from: string; updates: Update[] }
  | { type: 'push-pull'; from: string; join: boolean; members: MemberRecord[] };

export type ProbeMessage = Exclude<Message, { type: 'push-pull' }>;
