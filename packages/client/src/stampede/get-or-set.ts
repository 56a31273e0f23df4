import { encodeValue, Ops, type Clock, type CorralError, type OpSpec } from '@corral/protocol';
import { abortError, clientError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import type { RequestOptions } from '../node-connection';
import { CacheBreaker, countsAgainstBreaker, isCacheFailure } from './cache-breaker';
import { PARKED_REPLY_SLACK_MS, type CacheCalls } from './cache-calls';
import { Coalescer } from './coalescer';
import { StampedeDefaults, type GetOrSetOptions, type StampedeOptions } from './get-or-set-options';
import { readLeaseReply, type LeaseReply } from './lease-reply';
import { runLoader, type Loader, type LoadResult } from './loader-run';
import { OriginLimiter } from './origin-limiter';
import { emptyStampedeStats, type StampedeStats } from './stampede-stats';
import { xfetchShouldRefresh } from './xfetch';
import type { AccessObserver, RefreshAheadOptions, RefreshOutcome } from '../warm/refresh-ahead';

/** Where a getOrSet value came from. */
export type FetchSource = 'hit' | 'stale' | 'loaded' | 'origin';
export interface Fetched<T> { value: T; source: FetchSource }

type Call = (key: string, op: OpSpec, args: unknown[], opts?: RequestOptions) => Promise<unknown>;

/** A cache call inside getOrSet failed because the cache did not answer: go to the origin instead. */
class CacheUnavailable extends Error {
  constructor(readonly error: unknown) { super('cache unavailable'); }
}

/**
 * After this many LGET rounds that ended in "try again" (the node woke us without a value) the
 * caller loads itself; the wait deadline normally ends the loop long before, this only guards
 * against a clock that does not move.
 */
const MAX_LEASE_ROUNDS = 32;

/**
 * cache.getOrSet: one loader run per key per process (Coalescer), one per key in the whole fleet
 * (node leases: LGET grants one caller the load, parks the rest until it sets the value), stale
 * values within grace while one caller refreshes, XFetch early refresh, soft and hard loader
 * timeouts, and a breaker that sends calls straight to the origin, through a concurrency
 * limiter, while the cache tier is not answering. A cache failure never fails a getOrSet that
 * the loader can still answer.
 */
export class GetOrSet {
  readonly stats: StampedeStats = emptyStampedeStats();
  readonly breaker: CacheBreaker;
  readonly origin: OriginLimiter;
  private readonly coalescer: Coalescer<Fetched<unknown>>;
  /** forceFresh calls coalesce among themselves only: joining a plain read would defeat them. */
  private readonly freshCoalescer: Coalescer<Fetched<unknown>>;
  private readonly refreshing = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly random: () => number;
  private readonly defaults: { defaultTtlMs: number; waitMs: number; leaseTtlMs: number; maxPendingKeys: number };
  /** Sees every call and what the cache said about its key (the background warmer's hot-key table). */
  observer: AccessObserver | undefined;

  constructor(private readonly calls: CacheCalls, private readonly clock: Clock, opts: StampedeOptions = {}, logger: Logger = silentLogger) {
    this.defaults = {
      defaultTtlMs: opts.defaultTtlMs ?? StampedeDefaults.defaultTtlMs,
      waitMs: opts.waitMs ?? StampedeDefaults.waitMs,
      leaseTtlMs: opts.leaseTtlMs ?? StampedeDefaults.leaseTtlMs,
      maxPendingKeys: opts.maxPendingKeys ?? StampedeDefaults.maxPendingKeys,
    };
    this.random = opts.random ?? Math.random;
    this.coalescer = new Coalescer(this.defaults.maxPendingKeys);
    this.freshCoalescer = new Coalescer(this.defaults.maxPendingKeys);
    this.breaker = new CacheBreaker(opts.cacheBreaker, clock, logger);
    this.origin = new OriginLimiter(opts.origin);
  }

  async getOrSet<T>(key: string, loader: Loader<T>, o: GetOrSetOptions = {}): Promise<T> {
    return (await this.fetch(key, loader, o)).value;
  }

  /** getOrSet that also says where the value came from (warm() counts hits as skipped). */
  fetch<T>(key: string, loader: Loader<T>, o: GetOrSetOptions = {}): Promise<Fetched<T>> {
    validate(o);
    this.stats.calls++;
    this.observer?.accessed(key);
    const work = () => this.resolve(key, loader as Loader<unknown>, o);
    if (o.coalesce === false) return withSignal(work(), o.signal) as Promise<Fetched<T>>;
    const { promise, joined } = (o.forceFresh ? this.freshCoalescer : this.coalescer).run(key, work);
    if (joined) this.stats.coalescedWaits++;
    return withSignal(promise, o.signal) as Promise<Fetched<T>>;
  }

  /** Resolves once no background refresh (grace, soft timeout, XFetch) is running. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private async resolve(key: string, loader: Loader<unknown>, o: GetOrSetOptions): Promise<Fetched<unknown>> {
    const permit = this.breaker.permit();
    if (permit.route === 'origin') return this.fromOrigin(loader, o);
    const reporter = this.reporting(permit.probe);
    try {
      return await this.throughCache(key, loader, o, reporter.call);
    } catch (e) {
      if (e instanceof CacheUnavailable) return this.fromOrigin(loader, o);
      throw e;
    } finally {
      reporter.done();
    }
  }

  private async throughCache(key: string, loader: Loader<unknown>, o: GetOrSetOptions, call: Call): Promise<Fetched<unknown>> {
    if (o.forceFresh) return { value: await this.loadAndStore(key, loader, o, call, undefined), source: 'loaded' };
    const useLease = o.lease !== false;
    const deadline = this.clock.now() + (o.waitMs ?? this.defaults.waitMs);
    for (let round = 1; ; round++) {
      const waitMs = useLease ? Math.max(0, Math.ceil(deadline - this.clock.now())) : 0;
      const args = [key, { leaseTtlMs: useLease ? this.leaseTtl(o) : 0, waitMs, graceMs: o.graceMs ?? 0 }];
      let reply: LeaseReply;
      try {
        reply = readLeaseReply(await call(key, Ops.LGET, args, this.callOpts(o, waitMs)));
      } catch (e) {
        // The node is out of lease or waiter room: it cannot coordinate this load, so load and
        // store without a lease, through the origin limiter.
        if ((e as CorralError).code === 'E_RATE_LIMITED') return { value: await this.loadAndStore(key, loader, o, call, undefined, true), source: 'loaded' };
        throw e;
      }
      if ((reply.kind === 'hit' || reply.kind === 'miss') && reply.waited) this.stats.leaseWaits++;
      switch (reply.kind) {
        case 'hit':
          this.stats.hits++;
          this.observer?.seen(key, reply.ttlMs, reply.version);
          this.maybeRefreshEarly(key, loader, o, reply, call);
          return { value: reply.value, source: 'hit' };
        case 'lease':
          return { value: await this.loadAndStore(key, loader, o, call, reply.token), source: 'loaded' };
        case 'stale':
          return this.serveStale(key, loader, o, call, reply);
        case 'miss':
          // Woken without a value (the holder gave up, a delete, the lease lapsed): ask again, and
          // one of the woken takes the lease. Past our own wait, load without one.
          if (useLease && waitMs > 0 && round < MAX_LEASE_ROUNDS && this.clock.now() < deadline) continue;
          return { value: await this.loadAndStore(key, loader, o, call, undefined), source: 'loaded' };
      }
    }
  }

  private async serveStale(key: string, loader: Loader<unknown>, o: GetOrSetOptions, call: Call,
    stale: Extract<LeaseReply, { kind: 'stale' }>): Promise<Fetched<unknown>> {
    const served = (): Fetched<unknown> => {
      this.stats.staleServed++;
      return { value: stale.value, source: 'stale' };
    };
    if (stale.lease === undefined) return served(); // another caller is refreshing it
    const refresh = this.loadAndStore(key, loader, o, call, stale.lease);
    if (o.softTimeoutMs === undefined) {
      this.inBackground(refresh);
      return served();
    }
    const first = await raceTimeout(refresh, o.softTimeoutMs);
    if (first.kind === 'value') return { value: first.value, source: 'loaded' };
    if (first.kind === 'timeout') {
      this.stats.softTimeouts++;
      this.inBackground(refresh);
      return served();
    }
    if (o.staleIfError) return served();
    throw first.error;
  }

  private maybeRefreshEarly(key: string, loader: Loader<unknown>, o: GetOrSetOptions, hit: Extract<LeaseReply, { kind: 'hit' }>, call: Call): void {
    if (this.refreshing.has(key) || this.refreshing.size >= this.defaults.maxPendingKeys) return;
    if (!xfetchShouldRefresh(hit.ttlMs, hit.deltaMs, o.beta ?? 1, this.random)) return;
    this.stats.earlyRefreshTriggers++;
    this.refreshing.add(key);
    const run = async (): Promise<void> => {
      let token: number | undefined;
      if (o.lease !== false) {
        // One refresh fleet-wide: the node grants the early lease to one caller, the rest just got their hit.
        const early = { leaseTtlMs: this.leaseTtl(o), early: true, seenVersion: hit.version };
        const r = readLeaseReply(await call(key, Ops.LGET, [key, early], this.callOpts(o, 0)));
        if (r.kind !== 'hit' || r.lease === undefined) return;
        token = r.lease;
      }
      this.stats.earlyRefreshes++;
      await this.loadAndStore(key, loader, o, call, token);
    };
    this.inBackground(run().finally(() => this.refreshing.delete(key)));
  }

  /**
   * Reloads `key` before it expires, once in the whole fleet (the background warmer). First a look
   * without a lease: more than `aheadMs` left means someone already refreshed it. Otherwise the
   * refresh lease on exactly the version just seen (LGET early + seenVersion), which the node
   * grants to one caller; a key already gone (or stale) is filled through the ordinary lease,
   * without waiting. No call is made while the cache breaker is not closed: a speculative load
   * must not add to what the origin takes while the cache is down.
   */
  async refreshAhead(key: string, loader: Loader<unknown>, o: RefreshAheadOptions): Promise<RefreshOutcome> {
    if (this.breaker.state !== 'closed') return { kind: 'busy' };
    const reporter = this.reporting(false);
    const call = reporter.call;
    const lget = async (opts: Record<string, unknown>) => readLeaseReply(await call(key, Ops.LGET, [key, opts], this.callOpts(o, 0)));
    try {
      const look = await lget({});
      if (look.kind === 'hit') {
        this.observer?.seen(key, look.ttlMs, look.version);
        if (look.ttlMs > o.aheadMs) return { kind: 'fresh' };
        const early = await lget({ leaseTtlMs: this.leaseTtl(o), early: true, seenVersion: look.version });
        if (early.kind === 'hit') {
          if (early.lease === undefined) {
            if (early.version === look.version) return { kind: 'busy' };
            this.observer?.seen(key, early.ttlMs, early.version);
            return { kind: 'fresh' };
          }
          await this.loadAndStore(key, loader, o, call, early.lease);
          return { kind: 'refreshed' };
        }
      }
      const fill = await lget({ leaseTtlMs: this.leaseTtl(o), waitMs: 0, graceMs: o.graceMs ?? 0 });
      const token = fill.kind === 'lease' ? fill.token : fill.kind === 'stale' ? fill.lease : undefined;
      if (token === undefined) {
        if (fill.kind !== 'hit') return { kind: 'busy' };
        this.observer?.seen(key, fill.ttlMs, fill.version);
        return { kind: 'fresh' };
      }
      await this.loadAndStore(key, loader, o, call, token);
      return { kind: 'refreshed' };
    } catch (e) {
      throw e instanceof CacheUnavailable ? e.error : e;
    } finally {
      reporter.done();
    }
  }

  /** Runs the loader and stores what it returns (with the lease token when there is one). Resolves with the value either way. */
  private async loadAndStore(key: string, loader: Loader<unknown>, o: GetOrSetOptions, call: Call, token: number | undefined,
    viaLimiter = false): Promise<unknown> {
    let result: LoadResult<unknown>;
    try {
      const run = () => {
        this.stats.loaderCalls++;
        return runLoader(loader, o.hardTimeoutMs, this.clock);
      };
      result = await (viaLimiter || this.origin.options.limitAllLoads ? this.origin.run(run) : run());
    } catch (e) {
      this.countLoaderFailure(e);
      if (token !== undefined) this.giveBack(key, token, call);
      throw e;
    }
    if (!result.cache || result.value === undefined) {
      if (token !== undefined) this.giveBack(key, token, call);
      return result.value;
    }
    let encoded: { bytes: Buffer; flags: number };
    try {
      encoded = encodeValue(result.value);
    } catch (e) {
      if (token !== undefined) this.giveBack(key, token, call);
      throw clientError('E_BAD_ARGS', `the loader's value cannot be cached: ${(e as Error).message}`, { key }, e);
    }
    const wire: Record<string, unknown> = {
      flags: encoded.flags, ttlMs: this.ttlFor(result.ttlMs ?? o.ttlMs ?? this.defaults.defaultTtlMs, o.ttlJitter),
      deltaMs: Math.round(result.tookMs),
    };
    if (o.graceMs) wire.graceMs = o.graceMs;
    try {
      const version = await call(key, Ops.LSET, [key, encoded.bytes, token ?? null, wire], this.callOpts(o, 0));
      if (this.observer && typeof version === 'number') this.observer.seen(key, wire.ttlMs === 0 ? Infinity : wire.ttlMs as number, version);
    } catch (e) {
      // A write or delete voided the lease while we loaded: what we hold may be older than it, so
      // it is not stored (the caller still gets it: its read began before that write).
      if ((e as CorralError).code === 'E_LEASE_INVALID') this.stats.leaseLost++;
      // Any other failure: the value is good, not caching it only costs a later load.
    }
    return result.value;
  }

  private async fromOrigin(loader: Loader<unknown>, o: GetOrSetOptions): Promise<Fetched<unknown>> {
    const result = await this.origin.run(() => {
      this.stats.originCalls++;
      this.stats.loaderCalls++;
      return runLoader(loader, o.hardTimeoutMs, this.clock).catch((e: unknown) => {
        this.countLoaderFailure(e);
        throw e;
      });
    });
    return { value: result.value, source: 'origin' };
  }

  /** Cache calls that tell the breaker how the cache did; the first settles a half-open probe. */
  private reporting(probe: boolean): { call: Call; done: () => void } {
    let pendingProbe = probe;
    const take = () => { const p = pendingProbe; pendingProbe = false; return p; };
    const call: Call = async (key, op, args, opts) => {
      try {
        const r = await this.calls.call(key, op, args, opts);
        this.breaker.success(take());
        return r;
      } catch (e) {
        if (!isCacheFailure(e)) {
          this.breaker.success(take()); // the cache answered, with an error
          throw e;
        }
        this.stats.cacheErrors++;
        if (countsAgainstBreaker(e)) this.breaker.failure(take());
        else this.breaker.release(take());
        throw new CacheUnavailable(e);
      }
    };
    return { call, done: () => { if (pendingProbe) this.breaker.release(take()); } };
  }

  private giveBack(key: string, token: number, call: Call): void {
    this.inBackground(call(key, Ops.LDROP, [key, token]));
  }

  private inBackground(p: Promise<unknown>): void {
    const tracked = p.then(() => undefined, () => undefined).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private countLoaderFailure(e: unknown): void {
    if ((e as CorralError)?.code === 'E_LOADER_TIMEOUT') this.stats.loaderTimeouts++;
    else this.stats.loaderErrors++;
  }

  private leaseTtl(o: GetOrSetOptions): number {
    if (o.leaseTtlMs !== undefined) return o.leaseTtlMs;
    return o.hardTimeoutMs !== undefined && o.hardTimeoutMs !== Infinity ? Math.ceil(o.hardTimeoutMs) + 1_000 : this.defaults.leaseTtlMs;
  }

  /** The wire TTL: 0 = none; jitter only ever shortens it, so ttlMs stays a bound on staleness. */
  private ttlFor(ttlMs: number, jitter: number | undefined): number {
    if (ttlMs === Infinity || ttlMs === 0) return 0;
    const j = jitter ? ttlMs * jitter * this.random() : 0;
    return Math.max(1, Math.round(ttlMs - j));
  }

  /** A parked LGET must outlive its wait on the node: its own timeout is the wait plus slack. */
  private callOpts(o: GetOrSetOptions, parkedMs: number): RequestOptions {
    if (parkedMs > 0) return { timeoutMs: parkedMs + (o.timeoutMs ?? PARKED_REPLY_SLACK_MS) };
    return o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {};
  }
}

function validate(o: GetOrSetOptions): void {
  const nonNegative = ['ttlMs', 'graceMs', 'beta', 'softTimeoutMs', 'hardTimeoutMs', 'waitMs', 'leaseTtlMs', 'timeoutMs'] as const;
  for (const k of nonNegative) {
    const v = o[k];
    if (v !== undefined && !(v >= 0)) throw clientError('E_BAD_ARGS', `getOrSet: ${k} must be >= 0 (got ${v})`);
  }
  for (const k of ['graceMs', 'waitMs', 'leaseTtlMs'] as const) {
    const v = o[k];
    if (v !== undefined && !Number.isSafeInteger(v)) throw clientError('E_BAD_ARGS', `getOrSet: ${k} must be a whole number of ms (got ${v})`);
  }
  if (o.ttlJitter !== undefined && !(o.ttlJitter >= 0 && o.ttlJitter < 1))
    throw clientError('E_BAD_ARGS', `getOrSet: ttlJitter is a fraction in [0, 1) (got ${o.ttlJitter})`);
  if (o.leaseTtlMs === 0) throw clientError('E_BAD_ARGS', 'getOrSet: leaseTtlMs must be > 0 (use lease: false for no lease)');
}

type Raced<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

function raceTimeout<T>(p: Promise<T>, ms: number): Promise<Raced<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
    p.then((value) => { clearTimeout(timer); resolve({ kind: 'value', value }); },
      (error: unknown) => { clearTimeout(timer); resolve({ kind: 'error', error }); });
  });
}

/** The caller's signal detaches this caller only; the shared work goes on for the others. */
function withSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}
