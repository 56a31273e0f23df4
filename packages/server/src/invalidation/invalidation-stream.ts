import { randomInt } from 'node:crypto';
import type { InvalidationLog } from './invalidation-log';

/** Changes appended within one turn of the event loop, delivered together. */
export interface StreamBatch {
  from: number;
  to: number;
  keys: Array<string | null>;
  versions: number[];
  /** The connection that made each change (0: none or not a subscriber); absent when none did. */
  origins?: number[];
}

export type BatchListener = (batch: StreamBatch) => void;

/** A batch is delivered early once it holds this many changes (an eviction storm must not grow it without bound). */
const MAX_PENDING = 8_192;

/**
 * A node's invalidation stream: every change of a key gets the next sequence number, goes into the
 * bounded log, and is delivered to listeners (subscribed connections, hot-key peers) in one batch
 * per I/O callback, so a pipeline of writes costs one push per subscriber rather than one per write.
 *
 * The epoch is random per boot: after a restart the sequence starts over, and a client holding
 * (old epoch, seq) must learn that its position means nothing here any more.
 */
export class InvalidationStream {
  readonly epoch: number;
  private seqNow = 0;
  private keys: Array<string | null> = [];
  private versions: number[] = [];
  private origins: number[] | undefined;
  private scheduled = false;
  private readonly listeners: BatchListener[] = [];
  private readonly schedule: (fn: () => void) => void;
  private readonly flushFn = () => { this.scheduled = false; this.flush(); };

  private readonly onError: (err: unknown) => void;

  constructor(readonly log: InvalidationLog, opts: { epoch?: number; schedule?: (fn: () => void) => void; onError?: (err: unknown) => void } = {}) {
    this.epoch = opts.epoch ?? randomInt(1, 2 ** 47);
    this.onError = opts.onError ?? ((err) => { throw err; });
    // nextTick: right after the I/O callback that made the changes (a pipeline of writes from one
    // connection shares a push), and before the event loop does anything else. setImmediate would
    // batch across connections, but let the writer's reply out an event-loop turn (on a loaded
    // machine, a scheduling quantum) ahead of the invalidations, and that is staleness.
    this.schedule = opts.schedule ?? ((fn) => { process.nextTick(fn); });
  }

  /** The newest sequence number issued (0 before the first change). */
  get seq(): number { return this.seqNow; }

  onBatch(fn: BatchListener): void { this.listeners.push(fn); }

  /**
   * Records a change (`key` null: every key, a FLUSH); `version` 0 when no value remains;
   * `origin` the subscribed connection that made it (it is not pushed back there). Returns its seq.
   */
  append(key: string | null, version: number, origin = 0): number {
    const seq = ++this.seqNow;
    this.log.append(seq, key, version);
    if (origin !== 0 && this.origins === undefined) this.origins = new Array<number>(this.keys.length).fill(0);
    this.keys.push(key);
    this.versions.push(version);
    this.origins?.push(origin);
    if (this.keys.length >= MAX_PENDING) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flushFn);
    }
    return seq;
  }

  /** Delivers what is pending now (the heartbeat does this first, so it never claims a seq not yet pushed). */
  flush(): void {
    if (this.keys.length === 0) return;
    const batch: StreamBatch = { from: this.seqNow - this.keys.length + 1, to: this.seqNow, keys: this.keys, versions: this.versions };
    if (this.origins !== undefined) batch.origins = this.origins;
    this.keys = [];
    this.versions = [];
    this.origins = undefined;
    // One failing listener must not keep the batch from the others (a lost batch is a stale L1 somewhere).
    for (const l of this.listeners) {
      try { l(batch); } catch (e) { this.onError(e); }
    }
  }
}
