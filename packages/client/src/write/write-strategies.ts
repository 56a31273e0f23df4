import { encodeValue, Ops } from '@corral/protocol';
import { clientError, CorralError } from '../errors';
import type { Entry } from '../replies';
import type { CacheCalls } from '../stampede/cache-calls';
import type { WriteBehindQueue } from './write-behind-queue';

/** The Corral calls the strategies are built from. */
export interface WriteTarget {
  set(key: string, value: unknown, opts?: { ttlMs?: number; nx?: boolean }): Promise<number | undefined>;
  del(key: string): Promise<boolean>;
  gets<T>(key: string): Promise<Entry<T> | undefined>;
  cas(key: string, value: unknown, version: number, opts?: { ttlMs?: number }): Promise<number>;
}

export interface WriteOptions {
  /** TTL of the cached value, ms (Infinity or absent = none). */
  ttlMs?: number;
}

export interface SetIfNewerOptions extends WriteOptions {
  /** Keep the entry this long past expiry for getOrSet's grace. */
  graceMs?: number;
}

export interface UpdateOptions extends WriteOptions {
  /** CAS attempts after the first before giving up with E_CAS_MISMATCH (default 5). */
  maxRetries?: number;
}

export interface WriteStats { casRetries: number; casGaveUp: number; cacheWriteFailures: number }

/**
 * The write paths, with the database as a caller-supplied writer. Every cache write here is a
 * plain write or a delete, so it voids any lease a slow loader holds on the key (see LGET): a
 * getOrSet that read the database before this write cannot store what it read afterwards.
 */
export class WriteStrategies {
  readonly stats: WriteStats = { casRetries: 0, casGaveUp: 0, cacheWriteFailures: 0 };

  constructor(private readonly target: WriteTarget, private readonly calls: CacheCalls, private readonly behind: () => WriteBehindQueue) {}

  /**
   * Database first, then the cache. If the cache write fails the key is deleted (best effort) and
   * the error is raised with details.dbWritten = true: the database has the value, the cache may
   * hold the old one until its TTL if the delete failed too.
   */
  async writeThrough(key: string, value: unknown, write: (value: unknown) => Promise<void>, o: WriteOptions = {}): Promise<number | undefined> {
    await write(value);
    try {
      return await this.target.set(key, value, ttl(o));
    } catch (e) {
      this.stats.cacheWriteFailures++;
      await this.target.del(key).catch(() => undefined);
      throw dbWritten(e);
    }
  }

  /** Database first, then delete the key (readers load the new value). The delete voids in-flight loads' leases. */
  async writeAround(key: string, write: () => Promise<void>): Promise<void> {
    await write();
    try {
      await this.target.del(key);
    } catch (e) {
      this.stats.cacheWriteFailures++;
      throw dbWritten(e);
    }
  }

  /**
   * The cache now, the database soon (WriteBehindQueue). The write is queued first, so a cache
   * that fails does not lose it; that cache error is still raised.
   */
  async writeBehind(key: string, value: unknown, o: WriteOptions = {}): Promise<number | undefined> {
    this.behind().enqueue(key, value);
    try {
      return await this.target.set(key, value, ttl(o));
    } catch (e) {
      this.stats.cacheWriteFailures++;
      throw e;
    }
  }

  /**
   * Stores `value` only if `sourceVersion` (a row version, an updated-at) is newer than the one
   * stored with the entry: two writers racing with data of different ages leave the newer data,
   * whichever arrives last. Resolves with the entry version, or undefined when not newer. The
   * guard lasts as long as the entry (grace included): after it expires or is deleted, any
   * version is accepted.
   */
  async setIfNewer(key: string, value: unknown, sourceVersion: number, o: SetIfNewerOptions = {}): Promise<number | undefined> {
    if (!Number.isSafeInteger(sourceVersion) || sourceVersion < 0)
      throw clientError('E_BAD_ARGS', `setIfNewer: sourceVersion must be a safe integer >= 0 (got ${sourceVersion})`);
    const { bytes, flags } = encodeValue(value);
    const wire: Record<string, number> = { flags };
    if (o.ttlMs !== undefined) wire.ttlMs = o.ttlMs === Infinity ? 0 : o.ttlMs;
    if (o.graceMs) wire.graceMs = o.graceMs;
    const r = await this.calls.call(key, Ops.SETIFNEWER, [key, bytes, sourceVersion, wire]);
    if (r === null || r === undefined) return undefined;
    if (typeof r !== 'number') throw clientError('E_INTERNAL', `unexpected SETIFNEWER reply: ${JSON.stringify(r)}`);
    return r;
  }

  /**
   * Read-modify-write as a CAS loop: gets → fn → cas, again on E_CAS_MISMATCH, at most
   * 1 + maxRetries times. `fn` gets undefined for a missing key (then the write is set-if-absent)
   * and may return undefined to write nothing. Keeps the entry's remaining TTL unless ttlMs is given.
   */
  async update<T>(key: string, fn: (current: T | undefined) => T | undefined | Promise<T | undefined>, o: UpdateOptions = {}): Promise<T | undefined> {
    const maxRetries = o.maxRetries ?? 5;
    if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) throw clientError('E_BAD_ARGS', `update: maxRetries must be an integer >= 0 (got ${maxRetries})`);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.target.gets<T>(key);
      const next = await fn(cur?.value);
      if (next === undefined) return undefined;
      const ttlMs = o.ttlMs ?? cur?.ttlMs;
      try {
        if (cur === undefined) {
          if ((await this.target.set(key, next, { nx: true, ...(ttlMs !== undefined && { ttlMs }) })) !== undefined) return next;
        } else {
          await this.target.cas(key, next, cur.version, ttlMs !== undefined ? { ttlMs } : {});
          return next;
        }
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'E_CAS_MISMATCH') throw e;
      }
      if (attempt >= maxRetries) {
        this.stats.casGaveUp++;
        throw clientError('E_CAS_MISMATCH', `update of ${JSON.stringify(key.slice(0, 64))} lost the race ${attempt + 1} times`, { key, attempts: attempt + 1 });
      }
      this.stats.casRetries++;
    }
  }
}

function ttl(o: WriteOptions): { ttlMs?: number } {
  return o.ttlMs === undefined ? {} : { ttlMs: o.ttlMs };
}

/** The cache error, re-raised with details.dbWritten so the caller does not redo the database write. */
function dbWritten(e: unknown): unknown {
  if (!(e instanceof CorralError)) return e;
  return clientError(e.code, `the database write succeeded but the cache was not updated: ${e.message}`, { ...e.details, dbWritten: true }, e);
}
