import type { Clock } from '@corral/protocol';

export interface TokenBucketOptions {
  /** Attempts allowed in a burst. */
  capacity: number;
  /** Attempts regained per second. */
  refillPerSec: number;
}

/**
 * A token bucket on the injected Clock (refilled lazily on each take, so there is no timer).
 * Lock attempts are cheap for a client and not for the node: a client spinning on LOCK with
 * waitMs 0 would otherwise turn a held lock into a busy loop on the owner node.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly clock: Clock, private readonly opts: TokenBucketOptions) {
    this.tokens = opts.capacity;
    this.last = clock.now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.opts.capacity, this.tokens + ((now - this.last) / 1000) * this.opts.refillPerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
