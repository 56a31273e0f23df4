import { systemClock, type Clock } from '@corral/protocol';
import { clientError } from '../errors';

/** Writes one key's value to the database. Must be idempotent: a write may be retried. */
export type DatabaseWriter = (key: string, value: unknown) => Promise<void>;

export interface WriteBehindOptions {
  write: DatabaseWriter;
  /** Keys queued or being written at once; past it writeBehind rejects with E_RATE_LIMITED (default 10 000). */
  maxEntries?: number;
  /** How often queued writes are sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Database writes in flight at once (default 8). */
  concurrency?: number;
  /** Retries after the first failure before a write is dropped and counted as failed (default 5). */
  maxRetries?: number;
  /** Retry backoff: full jitter under min(capMs, baseMs·2^attempt) (default 100 ms, 10 s). */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** How long close() keeps retrying before it counts what is left as lost (default 5000 ms). */
  closeTimeoutMs?: number;
  /** Told about every write given up on: retries exhausted, or still queued when close() ran out of time. */
  onDropped?: (key: string, value: unknown, error: unknown) => void;
  random?: () => number;
}

export interface WriteBehindStats {
  /** Waiting to be written now (a gauge). */
  queued: number;
  inFlight: number;
  enqueued: number;
  /** A write replaced a queued one for the same key: only the last value is written. */
  coalesced: number;
  written: number;
  retries: number;
  /** Given up after maxRetries: the database never got these. */
  failed: number;
  /** Refused because the queue was full. */
  rejected: number;
  /** Still queued when close() ran out of time: the database never got these either. */
  droppedOnClose: number;
}

interface Pending { value: unknown; attempts: number; notBefore: number; seq: number; attemptedInFlush: number }

/**
 * The write-behind buffer: the cache takes the write now, the database gets it soon, in the
 * background, with retries. Bounded (maxEntries), coalescing (a newer write to a queued key
 * replaces it: last write wins, one database write), ordered per key (a key is never written
 * twice at once; a write that arrives while the key is in flight goes after it).
 *
 * What it loses: everything queued and not yet written when the process dies. That is in memory
 * only, so it cannot be counted after the crash: watch `queued` and alert on its growth. A
 * graceful close() flushes, retries until closeTimeoutMs, and counts whatever is left as
 * droppedOnClose; writes that exhaust their retries are counted as failed. Both go to onDropped.
 */
export class WriteBehindQueue {
  private readonly pending = new Map<string, Pending>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly counts = { enqueued: 0, coalesced: 0, written: 0, retries: 0, failed: 0, rejected: 0, droppedOnClose: 0 };
  private readonly o: Required<Omit<WriteBehindOptions, 'onDropped'>> & Pick<WriteBehindOptions, 'onDropped'>;
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  private flushMark = 0;
  private closing: Promise<void> | undefined;

  constructor(opts: WriteBehindOptions, private readonly clock: Clock = systemClock) {
    this.o = {
      maxEntries: 10_000, flushIntervalMs: 1_000, concurrency: 8, maxRetries: 5, retryBaseMs: 100, retryCapMs: 10_000,
      closeTimeoutMs: 5_000, random: Math.random, ...opts,
    };
    for (const k of ['maxEntries', 'flushIntervalMs', 'concurrency'] as const)
      if (!Number.isSafeInteger(this.o[k]) || this.o[k] < 1) throw clientError('E_BAD_ARGS', `writeBehind.${k} must be an integer >= 1 (got ${this.o[k]})`);
    this.timer = setInterval(() => this.pump(false, undefined), this.o.flushIntervalMs);
    this.timer.unref();
  }

  stats(): WriteBehindStats {
    return { queued: this.pending.size, inFlight: this.inflight.size, ...this.counts };
  }

  /** Queues the write; rejects with E_RATE_LIMITED when full, E_CLIENT_CLOSED after close(). */
  enqueue(key: string, value: unknown): void {
    if (this.closing) throw clientError('E_CLIENT_CLOSED', 'writeBehind after close()');
    const queued = this.pending.get(key);
    if (queued) {
      queued.value = value;
      queued.attempts = 0;
      queued.notBefore = 0;
      this.counts.coalesced++;
      return;
    }
    if (this.pending.size + this.inflight.size >= this.o.maxEntries) {
      this.counts.rejected++;
      throw clientError('E_RATE_LIMITED', `the write-behind queue is full (${this.o.maxEntries} keys)`, { reason: 'write_behind_full' });
    }
    this.pending.set(key, { value, attempts: 0, notBefore: 0, seq: ++this.seq, attemptedInFlush: 0 });
    this.counts.enqueued++;
  }

  /**
   * Sends every write queued before this call (backoff or not) and waits for them; a write that
   * fails stays queued for its retries. Resolves when each has been tried once in this flush.
   */
  async flush(): Promise<void> {
    const mark = ++this.flushMark;
    const upTo = this.seq;
    for (;;) {
      this.pump(true, { mark, upTo });
      const running = [...this.inflight.values()];
      if (running.length === 0) return;
      await Promise.race(running);
    }
  }

  /** Flushes and retries until empty or closeTimeoutMs; counts the rest as droppedOnClose. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.timer);
    const deadline = this.clock.now() + this.o.closeTimeoutMs;
    for (;;) {
      await this.flush();
      const left = deadline - this.clock.now();
      if (this.pending.size === 0 || left <= 0) break;
      const next = Math.min(...[...this.pending.values()].map((p) => p.notBefore)) - this.clock.now();
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(next, left))));
    }
    const lost = clientError('E_CLIENT_CLOSED', 'the write-behind queue was closed before this write reached the database');
    for (const [key, p] of this.pending) {
      this.counts.droppedOnClose++;
      this.report(key, p.value, lost);
    }
    this.pending.clear();
  }

  private pump(force: boolean, flush: { mark: number; upTo: number } | undefined): void {
    const now = this.clock.now();
    for (const [key, p] of this.pending) {
      if (this.inflight.size >= this.o.concurrency) return;
      if (this.inflight.has(key)) continue;
      if (flush && (p.seq > flush.upTo || p.attemptedInFlush === flush.mark)) continue;
      if (!force && p.notBefore > now) continue;
      if (flush) p.attemptedInFlush = flush.mark;
      this.dispatch(key, p);
    }
  }

  private dispatch(key: string, p: Pending): void {
    this.pending.delete(key);
    let run: Promise<void>;
    try {
      run = this.o.write(key, p.value);
    } catch (e) {
      run = Promise.reject(e);
    }
    const done = run.then(() => { this.counts.written++; }, (err: unknown) => this.onFailure(key, p, err))
      .finally(() => {
        this.inflight.delete(key);
        if (!this.closing) this.pump(false, undefined);
      });
    this.inflight.set(key, done);
  }

  private onFailure(key: string, p: Pending, err: unknown): void {
    if (this.pending.has(key)) return; // a newer value for the key is queued: it supersedes this one
    p.attempts++;
    if (p.attempts > this.o.maxRetries) {
      this.counts.failed++;
      this.report(key, p.value, err);
      return;
    }
    this.counts.retries++;
    const cap = Math.min(this.o.retryCapMs, this.o.retryBaseMs * 2 ** p.attempts);
    p.notBefore = this.clock.now() + this.o.random() * cap;
    this.pending.set(key, p);
  }

  private report(key: string, value: unknown, err: unknown): void {
    try { this.o.onDropped?.(key, value, err); } catch { /* a failing callback must not stop the queue */ }
  }
}
