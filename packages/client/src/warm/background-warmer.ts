import { systemClock, type Clock } from '@corral/protocol';
import { clientError } from '../errors';
import { HotKeyTable } from './hot-key-table';
import type { AccessObserver, WarmRefresher } from './refresh-ahead';
import type { WarmLoader } from './warmer';

export interface BackgroundWarmerOptions {
  /** Loads one key from the origin (the same loader `warm()` and `corral warm` take). */
  loader: WarmLoader;
  /** Only keys this accepts are tracked (e.g. `(k) => k.startsWith('user:')`); default all. */
  match?: (key: string) => boolean;
  /** TTL of what a refresh stores (default: getOrSet's default TTL); the loader may override it with ctx.setTtl. */
  ttlMs?: number;
  graceMs?: number;
  /** Per refresh (E_LOADER_TIMEOUT past it; default 10 s): a hung origin must not hold a refresh slot for ever. */
  hardTimeoutMs?: number;
  /** Reload a hot key when it has at most this long left (default 2 s). Must exceed `intervalMs` plus a load. */
  aheadMs?: number;
  /** Decayed accesses (per half-life) that make a key hot (default 5). */
  hotScore?: number;
  /** Half-life of the access counters (default 60 s). */
  halfLifeMs?: number;
  /** Keys tracked at most (default 10 000). */
  maxKeys?: number;
  /** Refreshes running at once (default 4): the warmer is a load on the origin too. */
  concurrency?: number;
  /** How often it looks for keys to refresh (default 250 ms). */
  intervalMs?: number;
  /** After a failed refresh, leave the key alone this long (default 5 s). */
  failureBackoffMs?: number;
  /** Told about every failed refresh (default: ignored; they are counted). */
  onError?: (key: string, error: unknown) => void;
}

export interface BackgroundWarmerStats {
  tracked: number;
  inFlight: number;
  /** Reloaded by this warmer (it won the lease). */
  refreshed: number;
  /** Someone else had already refreshed it. */
  alreadyFresh: number;
  /** Someone else held the lease, or the cache breaker was not closed. */
  busy: number;
  failed: number;
}

export const BackgroundWarmerDefaults = {
  hardTimeoutMs: 10_000, aheadMs: 2_000, hotScore: 5, halfLifeMs: 60_000, maxKeys: 10_000, concurrency: 4, intervalMs: 250, failureBackoffMs: 5_000,
} as const;

/**
 * The seed's speculative warmer, done properly. It counts accesses with decaying counters (a
 * bounded HotKeyTable fed by every getOrSet), learns each hot key's expiry from what the cache
 * answered, and reloads hot keys through the user's loader shortly before they expire — so
 * readers of a hot key never meet a miss or a stale value.
 *
 * Every reload goes through the node's lease (getOrSet.refreshAhead): with this warmer running in
 * every process of a fleet, each expiry is still refreshed once, by whichever process asks first;
 * the others see a fresh entry or a held lease and leave it. Bounded: tracked keys, refreshes at
 * once, and each refresh by a hard timeout. Timers come from the runtime and time from the Clock,
 * so jest's fake timers drive it; its timer is unref'd and stop() clears it.
 */
export class BackgroundWarmer implements AccessObserver {
  private readonly o: Required<Omit<BackgroundWarmerOptions, 'match' | 'onError' | 'ttlMs' | 'graceMs'>> & BackgroundWarmerOptions;
  private readonly table: HotKeyTable;
  private readonly inFlight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly counts = { refreshed: 0, alreadyFresh: 0, busy: 0, failed: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private lastSweep: number;

  constructor(private readonly refresher: WarmRefresher, opts: BackgroundWarmerOptions, private readonly clock: Clock = systemClock,
    private readonly onStop?: () => void) {
    if (typeof opts.loader !== 'function') throw clientError('E_BAD_ARGS', 'backgroundWarmer: loader must be a function (key, ctx) => value');
    this.o = { ...BackgroundWarmerDefaults, ...stripUndefined(opts), loader: opts.loader };
    for (const k of ['concurrency', 'maxKeys'] as const)
      if (!Number.isSafeInteger(this.o[k]) || this.o[k] < 1) throw clientError('E_BAD_ARGS', `backgroundWarmer: ${k} must be an integer >= 1 (got ${this.o[k]})`);
    for (const k of ['aheadMs', 'hotScore', 'halfLifeMs', 'intervalMs', 'failureBackoffMs', 'hardTimeoutMs'] as const)
      if (!(this.o[k] > 0)) throw clientError('E_BAD_ARGS', `backgroundWarmer: ${k} must be > 0 (got ${this.o[k]})`);
    this.table = new HotKeyTable({ halfLifeMs: this.o.halfLifeMs, maxKeys: this.o.maxKeys }, clock);
    this.lastSweep = clock.now();
    this.schedule();
  }

  accessed(key: string): void {
    if (this.stopped || (this.o.match !== undefined && !this.o.match(key))) return;
    this.table.hit(key);
  }

  seen(key: string, ttlMs: number, version: number | undefined): void {
    this.table.seen(key, ttlMs, version);
  }

  /** The decayed access score of a key (0 when untracked). */
  score(key: string): number { return this.table.score(key); }

  stats(): BackgroundWarmerStats {
    return { tracked: this.table.size, inFlight: this.inFlight.size, ...this.counts };
  }

  /** No new refreshes; resolves when the running ones are done (each is bounded by hardTimeoutMs). Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.onStop?.();
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.running]);
  }

  get isStopped(): boolean { return this.stopped; }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.o.intervalMs);
    this.timer.unref?.();
  }

  /** One look at the table: start refreshes for hot keys close to expiry, soonest first, up to the concurrency. */
  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    // Keys nobody asks for any more decay towards 0; forget them now and then (a pass over the table).
    if (now - this.lastSweep >= this.o.halfLifeMs / 4) {
      this.lastSweep = now;
      this.table.sweep(this.o.hotScore / 16);
    }
    const room = this.o.concurrency - this.inFlight.size;
    if (room > 0) {
      const due: Array<[string, number]> = [];
      for (const [key, t, score] of this.table.scored()) {
        if (score < this.o.hotScore || t.expiresAt === undefined || t.expiresAt === Infinity) continue;
        if (t.expiresAt - now > this.o.aheadMs || t.notBefore > now || this.inFlight.has(key)) continue;
        due.push([key, t.expiresAt]);
      }
      due.sort((a, b) => a[1] - b[1]);
      for (const [key] of due.slice(0, room)) this.start(key);
    }
    this.schedule();
  }

  private start(key: string): void {
    this.inFlight.add(key);
    const { loader } = this.o;
    const opts = {
      aheadMs: this.o.aheadMs, hardTimeoutMs: this.o.hardTimeoutMs,
      ...(this.o.ttlMs !== undefined && { ttlMs: this.o.ttlMs }), ...(this.o.graceMs !== undefined && { graceMs: this.o.graceMs }),
    };
    const run = this.refresher.refreshAhead(key, (ctx) => loader(key, ctx), opts).then((r) => {
      if (r.kind === 'refreshed') {
        this.counts.refreshed++;
        // The store moved its expiry on (seen); if the loader declined to cache, this keeps it from being retried every tick.
        this.backOff(key, this.o.aheadMs / 2);
      } else if (r.kind === 'fresh') this.counts.alreadyFresh++;
      else {
        this.counts.busy++;
        // Someone else is loading it (or the cache is down): look again after a tick or two, not every tick.
        this.backOff(key, this.o.intervalMs * 2);
      }
    }, (err: unknown) => {
      this.counts.failed++;
      this.backOff(key, this.o.failureBackoffMs);
      try { this.o.onError?.(key, err); } catch { /* a reporting hook must not break the warmer */ }
    }).finally(() => {
      this.inFlight.delete(key);
      this.running.delete(run);
    });
    this.running.add(run);
  }

  private backOff(key: string, ms: number): void {
    const t = this.table.get(key);
    if (t) t.notBefore = this.clock.now() + ms;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
