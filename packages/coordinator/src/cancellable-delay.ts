import type { Clock, TimerHandle } from './clock';

export interface PendingDelay {
  /** True when the delay ran out or was woken early, false when cancelled by cancelAll(). */
  done: Promise<boolean>;
  /** Ends this one delay now (e.g. the thing waited for already happened). */
  wake(): void;
}

/** Waits that stop() can cut short, so no promise is left hanging on a cleared timer. */
export class CancellableDelay {
  private readonly pending = new Map<TimerHandle, (ok: boolean) => void>();

  constructor(private readonly clock: Clock) {}

  start(ms: number): PendingDelay {
    let finish: (ok: boolean) => void = () => undefined;
    const done = new Promise<boolean>((resolve) => {
      finish = resolve;
    });
    const handle = this.clock.setTimeout(() => end(true), ms);
    const end = (ok: boolean): void => {
      if (!this.pending.delete(handle)) return;
      this.clock.clearTimeout(handle);
      finish(ok);
    };
    this.pending.set(handle, end);
    return { done, wake: () => end(true) };
  }

  wait(ms: number): Promise<boolean> {
    return this.start(ms).done;
  }

  cancelAll(): void {
    for (const end of [...this.pending.values()]) end(false);
  }
}
