import type { MemoryStore } from './memory-store';

export const EXPIRY_INTERVAL_MS = 100;

/**
 * Runs the store's active expiry from a timer (Redis runs it 10 times a second too). Without it,
 * keys that are written once and never read again would hold memory until LRU pressure evicted
 * them, pushing out live keys first. The timer is unref'd: it must never keep a process alive.
 */
export class ExpiryScheduler {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<MemoryStore, 'expireCycle'>,
    private readonly intervalMs = EXPIRY_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.store.expireCycle(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
