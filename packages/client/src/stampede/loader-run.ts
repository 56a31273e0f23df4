import { CorralError, type Clock } from '@corral/protocol';
import { clientError } from '../errors';

/** What a loader is handed. */
export interface LoaderContext {
  /** Aborted when the hard timeout passes (with an E_LOADER_TIMEOUT reason): pass it to fetch, the DB driver... */
  readonly signal: AbortSignal;
  /** Adaptive TTL: cache what was just loaded for `ms` instead of the call's ttlMs (Infinity = no expiry). */
  setTtl(ms: number): void;
  /** Hand the value to the caller(s) but do not cache it (a partial result, an error page). */
  doNotCache(): void;
}

export type Loader<T> = (ctx: LoaderContext) => Promise<T> | T;

export interface LoadResult<T> {
  value: T;
  /** Set by ctx.setTtl. */
  ttlMs: number | undefined;
  cache: boolean;
  /** How long the loader took: the XFetch delta stored with the entry. */
  tookMs: number;
}

/**
 * Runs a loader once. With a hard timeout the returned promise rejects with E_LOADER_TIMEOUT when
 * it passes, whether or not the loader heeds its signal, so nothing waiting on it waits longer.
 * A loader that throws synchronously rejects like one that rejects.
 */
export function runLoader<T>(loader: Loader<T>, hardTimeoutMs: number | undefined, clock: Clock): Promise<LoadResult<T>> {
  const controller = new AbortController();
  let ttlMs: number | undefined;
  let cache = true;
  const ctx: LoaderContext = {
    signal: controller.signal,
    setTtl(ms: number) {
      if (!(ms >= 0)) throw clientError('E_BAD_ARGS', `setTtl: ms must be >= 0 or Infinity (got ${ms})`);
      ttlMs = ms;
    },
    doNotCache() { cache = false; },
  };
  const t0 = clock.now();
  const work = (async () => loader(ctx))().then((value) => ({ value, ttlMs, cache, tookMs: Math.max(0, clock.now() - t0) }));
  if (hardTimeoutMs === undefined || hardTimeoutMs === Infinity) return work;
  return new Promise<LoadResult<T>>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err: CorralError = clientError('E_LOADER_TIMEOUT', `the loader did not finish within ${hardTimeoutMs} ms`, { hardTimeoutMs });
      controller.abort(err);
      reject(err);
    }, hardTimeoutMs);
    work.then((r) => { clearTimeout(timer); resolve(r); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}
