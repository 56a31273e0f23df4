import type { OpSpec, RequestMeta } from '@corral/protocol';
import { watchAbort } from './abort-watch';
import type { DeadlineQueue } from './deadline-queue';

/** Told how a request ended, synchronously as it settles: undefined for a reply, else the error. */
export type SettleObserver = (err: Error | undefined) => void;

/** Why a request's own clock or signal ended it, as opposed to a reply or the connection. */
export type ExpiryReason = 'timeout' | 'abort';

/**
 * One request from the caller's call to its settlement. Several parties race to settle it (its
 * reply, its timer, its AbortSignal, a dropped connection, close()); the first wins and the rest
 * are no-ops, which is what makes "the late reply is ignored" true. Its timeout is kept by its
 * connection's DeadlineQueue (no timer per request); settling tells the queue, and stops watching
 * the signal, so a long-lived AbortSignal is left as it was found.
 */
export class PendingRequest {
  /** The request id on the current connection; 0 while the request waits in the offline queue. */
  id = 0;
  /** The timeout it was armed with, for the error message. */
  timeoutMs = 0;
  /** When it went on the wire (performance.now), to tell a wedged connection from a slow reply. */
  sentAt = 0;
  /** When its timeout runs out (the queue's clock); set by the DeadlineQueue. */
  deadline = 0;
  private done = false;
  private deadlines: DeadlineQueue<PendingRequest> | undefined;
  private signal: AbortSignal | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    readonly op: OpSpec,
    readonly args: readonly unknown[],
    readonly meta: RequestMeta | undefined,
    private readonly resolveFn: (value: unknown) => void,
    private readonly rejectFn: (err: Error) => void,
    private readonly observer?: SettleObserver,
  ) {}

  get settled(): boolean { return this.done; }
  get abortSignal(): AbortSignal | undefined { return this.signal; }

  /**
   * Starts the request's clock (0 = none) in `deadlines`, whose expiry callback decides the timeout
   * error, and watches its signal; `expire` decides the abort error.
   */
  arm(timeoutMs: number, signal: AbortSignal | undefined, deadlines: DeadlineQueue<PendingRequest>, expire: (req: PendingRequest, why: ExpiryReason) => void): void {
    if (this.done) return;
    this.timeoutMs = timeoutMs;
    if (timeoutMs > 0) {
      this.deadlines = deadlines;
      deadlines.add(this, timeoutMs);
    }
    if (signal) {
      this.signal = signal;
      this.unwatch = watchAbort(signal, () => expire(this, 'abort'));
    }
  }

  resolve(value: unknown): void {
    if (!this.finish()) return;
    this.observer?.(undefined);
    this.resolveFn(value);
  }

  reject(err: Error): void {
    if (!this.finish()) return;
    this.observer?.(err);
    this.rejectFn(err);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.deadlines?.settled(this.timeoutMs);
    this.unwatch?.();
    this.deadlines = undefined;
    this.signal = undefined;
    this.unwatch = undefined;
    return true;
  }
}
