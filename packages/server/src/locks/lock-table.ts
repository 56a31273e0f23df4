import { CorralError, type Clock } from '@corral/protocol';

export interface LockGrant {
  /** The fencing token: strictly greater than any token issued for this name before (see LockService). */
  token: number;
  ttlMs: number;
  /** How long the caller queued for it. */
  waitedMs: number;
}

export interface LockTableLimits {
  /** Names with a live holder or a queue; past it new names are refused (E_RATE_LIMITED). */
  maxLocks: number;
  maxWaitersPerName: number;
  maxWaiters: number;
}

export const DefaultLockLimits: Readonly<LockTableLimits> = { maxLocks: 65_536, maxWaitersPerName: 1_024, maxWaiters: 16_384 };

interface Holder { token: number; expiresAt: number }
interface Waiter { ttlMs: number; since: number; resolve: (g: LockGrant) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
interface LockState { holder: Holder | undefined; queue: Waiter[]; expiryTimer: NodeJS.Timeout | undefined }

/**
 * Named locks with TTLs and a FIFO queue of waiters per name. A lock lapses at its TTL (a crashed
 * holder blocks the name for at most that long); the next waiter then gets it with a new token.
 * Lapsed holders are noticed when the name is touched, and by a timer only while someone queues
 * (nobody else is waiting to notice).
 */
export class LockTable {
  private readonly locks = new Map<string, LockState>();
  private waiterCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly nextToken: () => number,
    private readonly limits: LockTableLimits = DefaultLockLimits,
  ) {}

  get size(): number { return this.locks.size; }
  get waiters(): number { return this.waiterCount; }

  /** A grant now, a promise of one for a queued caller, or E_LOCK_HELD when `waitMs` is 0 or the queue is full. */
  acquire(name: string, ttlMs: number, waitMs: number): LockGrant | Promise<LockGrant> {
    let st = this.locks.get(name);
    if (st !== undefined) this.lapse(name, st);
    st = this.locks.get(name);
    if (st === undefined) {
      if (this.locks.size >= this.limits.maxLocks && !this.sweep())
        throw new CorralError('E_RATE_LIMITED', 'the node holds as many locks as it may', { reason: 'lock_table_full' });
      st = { holder: undefined, queue: [], expiryTimer: undefined };
      this.locks.set(name, st);
    }
    if (st.holder === undefined && st.queue.length === 0) return this.grant(st, ttlMs, 0);
    if (waitMs === 0 || st.queue.length >= this.limits.maxWaitersPerName || this.waiterCount >= this.limits.maxWaiters)
      throw new CorralError('E_LOCK_HELD', `lock ${JSON.stringify(name.slice(0, 64))} is held`);
    const state = st;
    return new Promise<LockGrant>((resolve, reject) => {
      const w: Waiter = {
        ttlMs, since: this.clock.now(), resolve, reject,
        timer: setTimeout(() => {
          const i = state.queue.indexOf(w);
          if (i < 0) return;
          state.queue.splice(i, 1);
          this.waiterCount--;
          this.forgetIfIdle(name, state);
          reject(new CorralError('E_LOCK_HELD', `lock ${JSON.stringify(name.slice(0, 64))} was still held after ${waitMs} ms`));
        }, waitMs),
      };
      state.queue.push(w);
      this.waiterCount++;
      this.armExpiry(name, state);
    });
  }

  release(name: string, token: number): void {
    const st = this.held(name, token);
    st.holder = undefined;
    this.handOn(name, st);
  }

  /** Returns the new TTL. The token stays: the same holder, the same fence. */
  extend(name: string, token: number, ttlMs: number): number {
    const st = this.held(name, token);
    st.holder!.expiresAt = this.clock.now() + ttlMs;
    this.armExpiry(name, st);
    return ttlMs;
  }

  /** Rejects every queued caller and forgets every lock (node shutdown). */
  clear(err: CorralError): void {
    for (const st of this.locks.values()) {
      clearTimeout(st.expiryTimer);
      for (const w of st.queue) { clearTimeout(w.timer); w.reject(err); }
    }
    this.locks.clear();
    this.waiterCount = 0;
  }

  private held(name: string, token: number): LockState {
    const st = this.locks.get(name);
    if (st !== undefined) this.lapse(name, st);
    if (st === undefined || st.holder?.token !== token)
      throw new CorralError('E_LOCK_LOST', `token ${token} does not hold lock ${JSON.stringify(name.slice(0, 64))}: it expired or was taken by someone else`);
    return st;
  }

  private grant(st: LockState, ttlMs: number, waitedMs: number): LockGrant {
    const token = this.nextToken();
    st.holder = { token, expiresAt: this.clock.now() + ttlMs };
    return { token, ttlMs, waitedMs };
  }

  /** Drops a holder whose TTL passed and hands the lock on. */
  private lapse(name: string, st: LockState): void {
    if (st.holder !== undefined && st.holder.expiresAt <= this.clock.now()) {
      st.holder = undefined;
      this.handOn(name, st);
    }
  }

  private handOn(name: string, st: LockState): void {
    const w = st.queue.shift();
    if (w === undefined) {
      this.forgetIfIdle(name, st);
      return;
    }
    this.waiterCount--;
    clearTimeout(w.timer);
    w.resolve(this.grant(st, w.ttlMs, this.clock.now() - w.since));
    this.armExpiry(name, st);
  }

  /** While someone queues, a timer notices the holder's TTL passing (nobody else would). */
  private armExpiry(name: string, st: LockState): void {
    clearTimeout(st.expiryTimer);
    st.expiryTimer = undefined;
    if (st.holder === undefined || st.queue.length === 0) return;
    const inMs = Math.max(1, Math.ceil(st.holder.expiresAt - this.clock.now()));
    st.expiryTimer = setTimeout(() => {
      st.expiryTimer = undefined;
      if (this.locks.get(name) !== st) return;
      this.lapse(name, st);
      this.armExpiry(name, st); // not lapsed yet by the clock (a clock that is not wall time): look again
    }, inMs);
  }

  private forgetIfIdle(name: string, st: LockState): void {
    if (st.holder !== undefined || st.queue.length > 0) return;
    clearTimeout(st.expiryTimer);
    if (this.locks.get(name) === st) this.locks.delete(name);
  }

  private sweep(): boolean {
    for (const [name, st] of [...this.locks]) this.lapse(name, st);
    return this.locks.size < this.limits.maxLocks;
  }
}
