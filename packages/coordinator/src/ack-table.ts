import type { Clock, TimerHandle } from './clock';

interface Waiter {
  onAck: () => void;
  handle: TimerHandle;
}

/**
 * Sequence numbers of pings we are waiting on. Every entry expires, and the table has a hard cap,
 * so ping-req relays requested by peers cannot grow it without bound.
 */
export class AckTable {
  private readonly waiters = new Map<number, Waiter>();
  private seq = Math.floor(Math.random() * 0xffff_ffff);

  constructor(
    private readonly clock: Clock,
    private readonly maxPending: number,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** False when the table is full; the caller should not send the ping. */
  register(seq: number, timeoutMs: number, onAck: () => void, onTimeout?: () => void): boolean {
    if (this.waiters.size >= this.maxPending) return false;
    const handle = this.clock.setTimeout(() => {
      this.waiters.delete(seq);
      onTimeout?.();
    }, timeoutMs);
    this.waiters.set(seq, { onAck, handle });
    return true;
  }

  /** Delivers an ack; false for unknown or expired sequence numbers (late or duplicate acks). */
  resolve(seq: number): boolean {
    const w = this.waiters.get(seq);
    if (!w) return false;
    this.waiters.delete(seq);
    this.clock.clearTimeout(w.handle);
    w.onAck();
    return true;
  }

  cancel(seq: number): void {
    const w = this.waiters.get(seq);
    if (!w) return;
    this.waiters.delete(seq);
    this.clock.clearTimeout(w.handle);
  }

  clear(): void {
    for (const w of this.waiters.values()) this.clock.clearTimeout(w.handle);
    this.waiters.clear();
  }
}
