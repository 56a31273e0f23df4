import type { Clock, TimerHandle } from './clock';

/**
 * Runs `fn` repeatedly, re-reading the interval each time (it may depend on cluster size).
 * Chained timeouts instead of setInterval so a slow run never overlaps the next one.
 */
export class PeriodicTimer {
  private handle: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: () => number,
    private readonly fn: () => void,
  ) {}

  /** `firstDelayMs` lets callers stagger the first run (e.g. random push-pull phase). */
  start(firstDelayMs: number = this.intervalMs()): void {
    if (this.running) return;
    this.running = true;
    this.schedule(firstDelayMs);
  }

  stop(): void {
    this.running = false;
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private schedule(delayMs: number): void {
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      if (!this.running) return;
      try {
        this.fn();
      } finally {
        if (this.running) this.schedule(this.intervalMs());
      }
    }, delayMs);
  }
}
