import type { Clock, TimerHandle } from './clock';

interface PausableTimer {
  fn: () => void;
  inner: TimerHandle | undefined;
  deferred: boolean;
}

/**
 * A clock whose timers can be held back, to simulate a process stopped with SIGSTOP: timers that
 * come due while paused run late, in order, when it resumes (as they would after SIGCONT).
 */
export class PausableClock implements Clock {
  private paused = false;
  private readonly deferred: PausableTimer[] = [];

  constructor(private readonly inner: Clock) {}

  get isPaused(): boolean {
    return this.paused;
  }

  now(): number {
    return this.inner.now();
  }

  wallNow(): number {
    return this.inner.wallNow();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: PausableTimer = { fn, inner: undefined, deferred: false };
    timer.inner = this.inner.setTimeout(() => {
      timer.inner = undefined;
      if (this.paused) {
        timer.deferred = true;
        this.deferred.push(timer);
      } else {
        fn();
      }
    }, ms);
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as unknown as PausableTimer;
    if (timer.inner !== undefined) this.inner.clearTimeout(timer.inner);
    timer.inner = undefined;
    if (timer.deferred) {
      const i = this.deferred.indexOf(timer);
      if (i >= 0) this.deferred.splice(i, 1);
      timer.deferred = false;
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const due = this.deferred.splice(0);
    for (const timer of due) {
      if (!timer.deferred) continue;
      timer.deferred = false;
      timer.fn();
    }
  }
}
