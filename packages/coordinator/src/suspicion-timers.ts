import type { Clock, TimerHandle } from './clock';

/**
 * One timer per suspected member. When it fires the member is declared dead, unless a refutation
 * (alive at a higher incarnation) cancelled it first. Each node runs its own timer from the moment
 * it hears of the suspicion, so the whole cluster converges on `dead` at about the same time
 * without waiting for the suspecter's verdict to spread.
 */
export class SuspicionTimers {
  private readonly timers = new Map<string, { incarnation: number; handle: TimerHandle }>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.timers.size;
  }

  has(id: string): boolean {
    return this.timers.has(id);
  }

  /** (Re)arms the timer; `onExpire` gets the incarnation the suspicion was about. */
  start(id: string, incarnation: number, timeoutMs: number, onExpire: (id: string, incarnation: number) => void): void {
    const existing = this.timers.get(id);
    // A repeated suspicion at the same incarnation must not push the deadline out.
    if (existing && existing.incarnation === incarnation) return;
    this.cancel(id);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(id);
      onExpire(id, incarnation);
    }, timeoutMs);
    this.timers.set(id, { incarnation, handle });
  }

  cancel(id: string): void {
    const t = this.timers.get(id);
    if (!t) return;
    this.clock.clearTimeout(t.handle);
    this.timers.delete(id);
  }

  clear(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t.handle);
    this.timers.clear();
  }
}
