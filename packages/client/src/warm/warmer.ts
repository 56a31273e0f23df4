import { systemClock, type Clock } from '@corral/protocol';
import { clientError } from '../errors';
import type { GetOrSet } from '../stampede/get-or-set';
import type { LoaderContext } from '../stampede/loader-run';

export type WarmLoader = (key: string, ctx: LoaderContext) => Promise<unknown> | unknown;

export interface WarmOptions {
  /** Loader calls at once (default 8). Warming is itself a herd: keep this below what the database takes. */
  concurrency?: number;
  ttlMs?: number;
  graceMs?: number;
  /** Per key: E_LOADER_TIMEOUT (counted as failed) when its load takes longer. */
  hardTimeoutMs?: number;
  /** Reload keys that are already cached (default false: a live key is skipped). */
  force?: boolean;
  /** Per key, after it is done (loaded, skipped or failed). */
  onProgress?: (p: WarmProgress) => void;
  /** Stops handing out keys; calls already running finish. */
  signal?: AbortSignal;
}

export interface WarmProgress { total: number; done: number; loaded: number; skipped: number; failed: number; key: string }

export interface WarmResult {
  total: number;
  loaded: number;
  /** Already cached. */
  skipped: number;
  failed: number;
  /** The first failures (at most 100), for the report. */
  errors: Array<{ key: string; error: unknown }>;
  elapsedMs: number;
}

const MAX_REPORTED_ERRORS = 100;

/**
 * Loads a known list of hot keys before users ask for them (after a deploy, a restart, a flush).
 * Each key goes through getOrSet, so warming and live traffic never load the same key twice (the
 * lease) and a key someone already filled is skipped.
 */
export async function warmKeys(getOrSet: GetOrSet, keys: Iterable<string>, loader: WarmLoader, o: WarmOptions = {},
  clock: Clock = systemClock): Promise<WarmResult> {
  const concurrency = o.concurrency ?? 8;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw clientError('E_BAD_ARGS', `warm: concurrency must be an integer >= 1 (got ${concurrency})`);
  const list = [...keys];
  const t0 = clock.now();
  const r: WarmResult = { total: list.length, loaded: 0, skipped: 0, failed: 0, errors: [], elapsedMs: 0 };
  let next = 0;
  const opts = {
    beta: 0, forceFresh: o.force === true,
    ...(o.ttlMs !== undefined && { ttlMs: o.ttlMs }), ...(o.graceMs !== undefined && { graceMs: o.graceMs }),
    ...(o.hardTimeoutMs !== undefined && { hardTimeoutMs: o.hardTimeoutMs }),
  };
  const worker = async (): Promise<void> => {
    while (next < list.length && !o.signal?.aborted) {
      const key = list[next++]!;
      try {
        const got = await getOrSet.fetch(key, (ctx) => loader(key, ctx), opts);
        if (got.source === 'hit' || got.source === 'stale') r.skipped++;
        else r.loaded++;
      } catch (error) {
        r.failed++;
        if (r.errors.length < MAX_REPORTED_ERRORS) r.errors.push({ key, error });
      }
      try {
        o.onProgress?.({ total: r.total, done: r.loaded + r.skipped + r.failed, loaded: r.loaded, skipped: r.skipped, failed: r.failed, key });
      } catch { /* a progress bar must not stop the warm-up */ }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, list.length)) }, worker));
  r.elapsedMs = Math.max(0, clock.now() - t0);
  return r;
}
