import type { AckTable } from './ack-table';
import type { CancellableDelay } from './cancellable-delay';
import type { Clock } from './clock';
import type { Member } from './types';

/** Beyond this many members the rest hear of the leave through the others' gossip. */
export const LEAVE_FANOUT = 64;

export interface LeaveAnnouncerOptions {
  acks: AckTable;
  clock: Clock;
  delay: CancellableDelay;
  /** Sends a ping carrying the `left` update to `to`. */
  sendLeavePing: (to: Member, seq: number) => void;
  resendEveryMs: number;
}

/**
 * A leave is announced, not detected: instead of waiting for our next probe to carry the news,
 * ping (up to LEAVE_FANOUT) members directly with the `left` update and resend to the silent ones
 * until each acked or the deadline passes. One round trip in the common case.
 */
export async function announceLeave(
  targets: readonly Member[],
  timeoutMs: number,
  opts: LeaveAnnouncerOptions,
): Promise<{ acked: number; total: number }> {
  const { acks, clock } = opts;
  const pending = new Map(targets.slice(0, LEAVE_FANOUT).map((m) => [m.id, m]));
  const total = pending.size;
  const deadline = clock.now() + timeoutMs;
  const seqs: number[] = [];
  while (pending.size > 0) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) break;
    const round = opts.delay.start(Math.min(remaining, opts.resendEveryMs));
    for (const member of [...pending.values()]) {
      const seq = acks.nextSeq();
      const onAck = (): void => {
        pending.delete(member.id);
        if (pending.size === 0) round.wake();
      };
      if (!acks.register(seq, Math.min(remaining, opts.resendEveryMs * 2), onAck)) continue;
      seqs.push(seq);
      opts.sendLeavePing(member, seq);
    }
    if (!(await round.done)) break;
  }
  for (const seq of seqs) acks.cancel(seq);
  return { acked: total - pending.size, total };
}
