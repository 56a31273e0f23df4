import { Ops, type Clock } from '@corral/protocol';
import { clientError } from '../errors';
import { PARKED_REPLY_SLACK_MS, type CacheCalls } from './cache-calls';

export interface LockOptions {
  /** How long the lock lives unless extended (default 10 s). A holder that dies blocks the name this long at most. */
  ttlMs?: number;
  /** How long to queue on the node for a held lock (default 0: try once, E_LOCK_HELD if held). */
  waitMs?: number;
  /** Per request, beyond the wait. */
  timeoutMs?: number;
}

export interface LockStats {
  acquired: number;
  /** E_LOCK_HELD: still held after waitMs. */
  held: number;
  rateLimited: number;
  /** release/extend refused with E_LOCK_LOST. */
  lost: number;
  /** Time from asking to holding, summed and worst, ms (queueing on the node plus the round trip). */
  waitMsTotal: number;
  waitMsMax: number;
}

/**
 * A held lock. `token` is the fencing token: pass it to whatever the lock protects and have that
 * side refuse tokens smaller than the largest it has seen (Kleppmann) — a holder that paused past
 * its TTL still believes it holds the lock, only the fence stops it.
 */
export class Lock {
  constructor(
    readonly name: string,
    readonly token: number,
    /** The TTL the node granted, ms. */
    readonly ttlMs: number,
    private readonly calls: CacheCalls,
    private readonly stats: LockStats,
  ) {}

  /** Rejects with E_LOCK_LOST when the lock lapsed or someone else holds it now. */
  async release(): Promise<void> {
    await this.guard(() => this.calls.call(this.name, Ops.UNLOCK, [this.name, this.token]));
  }

  /** Lives `ms` from now; same token. Rejects with E_LOCK_LOST as release does. */
  async extend(ms: number): Promise<void> {
    if (!Number.isSafeInteger(ms) || ms <= 0) throw clientError('E_BAD_ARGS', `extend: ms must be a whole number > 0 (got ${ms})`);
    await this.guard(() => this.calls.call(this.name, Ops.LOCKEXTEND, [this.name, this.token, ms]));
  }

  private async guard(f: () => Promise<unknown>): Promise<void> {
    try {
      await f();
    } catch (e) {
      if ((e as { code?: unknown }).code === 'E_LOCK_LOST') this.stats.lost++;
      throw e;
    }
  }
}

/** cache.lock(): one LOCK to the name's owner node, which queues the caller for up to waitMs. */
export class LockClient {
  readonly stats: LockStats = { acquired: 0, held: 0, rateLimited: 0, lost: 0, waitMsTotal: 0, waitMsMax: 0 };

  constructor(private readonly calls: CacheCalls, private readonly clock: Clock) {}

  async lock(name: string, o: LockOptions = {}): Promise<Lock> {
    const waitMs = o.waitMs ?? 0;
    for (const [k, v] of [['ttlMs', o.ttlMs], ['waitMs', o.waitMs]] as const)
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw clientError('E_BAD_ARGS', `lock: ${k} must be a whole number of ms >= 0 (got ${v})`);
    if (o.ttlMs === 0) throw clientError('E_BAD_ARGS', 'lock: ttlMs must be > 0 (a lock without a TTL outlives a crashed holder)');
    const wire: Record<string, number> = { waitMs };
    if (o.ttlMs !== undefined) wire.ttlMs = o.ttlMs;
    const t0 = this.clock.now();
    let reply: unknown;
    try {
      const timeoutMs = waitMs > 0 ? waitMs + (o.timeoutMs ?? PARKED_REPLY_SLACK_MS) : o.timeoutMs;
      reply = await this.calls.call(name, Ops.LOCK, [name, wire], timeoutMs === undefined ? {} : { timeoutMs });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'E_LOCK_HELD') this.stats.held++;
      else if (code === 'E_RATE_LIMITED') this.stats.rateLimited++;
      throw e;
    }
    if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number')
      throw clientError('E_INTERNAL', `unexpected LOCK reply from the node: ${JSON.stringify(reply)}`);
    const waited = Math.max(0, this.clock.now() - t0);
    this.stats.acquired++;
    this.stats.waitMsTotal += waited;
    this.stats.waitMsMax = Math.max(this.stats.waitMsMax, waited);
    return new Lock(name, reply[0], reply[1], this.calls, this.stats);
  }
}
