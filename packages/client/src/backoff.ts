import { CorralError } from '@corral/protocol';

export interface BackoffOptions {
  /** Ceiling of the first delay, in ms. */
  baseMs: number;
  /** The ceiling never grows past this, in ms. */
  capMs: number;
}

export const DefaultBackoff: Readonly<BackoffOptions> = { baseMs: 50, capMs: 2000 };

/**
 * Capped exponential backoff with full jitter: the n-th delay is uniform in [0, min(cap, base·2ⁿ)).
 * Jitter is the point, not a refinement: when a node restarts, every client in the fleet lost its
 * connection at the same instant, and un-jittered retries would all land on the new process in
 * the same few milliseconds, attempt after attempt. Full jitter spreads them over the whole window
 * (Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog, 2015).
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly opts: BackoffOptions = DefaultBackoff,
    private readonly random: () => number = Math.random,
  ) {
    if (!(opts.baseMs > 0) || !(opts.capMs >= opts.baseMs))
      throw new CorralError('E_BAD_ARGS', `reconnect backoff needs 0 < baseMs <= capMs (got ${opts.baseMs}, ${opts.capMs})`);
  }

  /** Failed attempts since the last reset. */
  get attempts(): number { return this.attempt; }

  /** The ceiling the next delay is drawn under. */
  get ceilingMs(): number {
    // Clamp the exponent: 2 ** 1100 is Infinity, and base * 2 ** 60 is long past any cap anyway.
    return Math.min(this.opts.capMs, this.opts.baseMs * 2 ** Math.min(this.attempt, 52));
  }

  /** The delay before the next attempt, in whole ms. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceilingMs);
    this.attempt++;
    return delay;
  }

  /** After a success: the next failure starts again from the base. */
  reset(): void { this.attempt = 0; }
}
