import { CorralError } from '@corral/protocol';

export interface OriginLimiterOptions {
  /** Loader calls running at once through the limiter. */
  maxConcurrency: number;
  /** Calls waiting for a slot; past it a call is refused at once. */
  maxQueue: number;
  /** How long a call may wait for a slot before it is refused. */
  queueTimeoutMs: number;
  /**
   * Also the loads of lease holders (cache fills and refreshes), not only calls that bypass the
   * cache (default false). Leases make it one load per key, but a cold tier — a whole-cluster
   * restart without snapshots — misses on many keys at once, and that herd is as wide as the
   * traffic; this bounds it too, at the cost of queueing ordinary misses behind each other.
   */
  limitAllLoads: boolean;
}

export const DefaultOriginLimiter: Readonly<OriginLimiterOptions> = { maxConcurrency: 16, maxQueue: 1_000, queueTimeoutMs: 2_000, limitAllLoads: false };

export interface OriginLimiterStats { running: number; queued: number; admitted: number; rejectedFull: number; rejectedTimeout: number; peakRunning: number }

interface Queued { start: () => void; timer: NodeJS.Timeout | undefined }

/**
 * Bounds how wide a herd reaches the database when the cache cannot absorb it (its breaker is
 * open, or it failed mid-call): at most `maxConcurrency` loader calls at once, a bounded FIFO
 * queue behind them, and a wait bound in that queue. A refused call fails with E_RATE_LIMITED:
 * better one quick error than a database that falls over for everyone.
 */
export class OriginLimiter {
  private running = 0;
  private readonly queue: Queued[] = [];
  private readonly counts = { admitted: 0, rejectedFull: 0, rejectedTimeout: 0, peakRunning: 0 };
  readonly options: OriginLimiterOptions;

  constructor(opts: Partial<OriginLimiterOptions> = {}) {
    this.options = { ...DefaultOriginLimiter, ...opts };
    const { maxConcurrency, maxQueue, queueTimeoutMs } = this.options;
    if (!Number.isSafeInteger(maxConcurrency) || maxConcurrency < 1) throw new CorralError('E_BAD_ARGS', `origin.maxConcurrency must be an integer >= 1 (got ${maxConcurrency})`);
    if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) throw new CorralError('E_BAD_ARGS', `origin.maxQueue must be an integer >= 0 (got ${maxQueue})`);
    if (!(queueTimeoutMs >= 0)) throw new CorralError('E_BAD_ARGS', `origin.queueTimeoutMs must be >= 0 (got ${queueTimeoutMs})`);
  }

  stats(): OriginLimiterStats {
    return { running: this.running, queued: this.queue.length, ...this.counts };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.slot();
    try {
      return await fn();
    } finally {
      this.running--;
      this.next();
    }
  }

  private slot(): Promise<void> {
    if (this.running < this.options.maxConcurrency && this.queue.length === 0) {
      this.admit();
      return Promise.resolve();
    }
    if (this.queue.length >= this.options.maxQueue) {
      this.counts.rejectedFull++;
      return Promise.reject(new CorralError('E_RATE_LIMITED',
        `the origin limiter is full (${this.options.maxConcurrency} running, ${this.options.maxQueue} queued)`, { reason: 'origin_queue_full' }));
    }
    return new Promise<void>((resolve, reject) => {
      const q: Queued = {
        start: () => { clearTimeout(q.timer); this.admit(); resolve(); },
        timer: setTimeout(() => {
          const i = this.queue.indexOf(q);
          if (i >= 0) this.queue.splice(i, 1);
          this.counts.rejectedTimeout++;
          reject(new CorralError('E_RATE_LIMITED', `no origin slot within ${this.options.queueTimeoutMs} ms`, { reason: 'origin_queue_timeout' }));
        }, this.options.queueTimeoutMs),
      };
      this.queue.push(q);
    });
  }

  private admit(): void {
    this.running++;
    this.counts.admitted++;
    this.counts.peakRunning = Math.max(this.counts.peakRunning, this.running);
  }

  private next(): void {
    if (this.running < this.options.maxConcurrency) this.queue.shift()?.start();
  }
}
