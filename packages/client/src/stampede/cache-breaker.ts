import { EventEmitter } from 'node:events';
import { CorralError, systemClock, type Clock } from '@corral/protocol';
import { silentLogger, type Logger } from '../logger';

export type CacheBreakerState = 'closed' | 'open' | 'half-open';

export interface CacheBreakerOptions {
  /** Consecutive cache failures (unreachable, timing out) that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before probes may try the cache again, ms. */
  openMs: number;
  /** Probe calls allowed through at once while half-open. */
  halfOpenProbes: number;
  /** Successful probes in a row that close it again. */
  closeAfterSuccesses: number;
}

export const DefaultCacheBreaker: Readonly<CacheBreakerOptions> = { failureThreshold: 5, openMs: 5_000, halfOpenProbes: 1, closeAfterSuccesses: 2 };

export interface CacheBreakerStateChange { previous: CacheBreakerState; state: CacheBreakerState; reason: string }

export interface CacheBreakerEvents { stateChange: [change: CacheBreakerStateChange] }

/** What a call through the breaker was granted: the cache (as a probe while half-open), or the origin directly. */
export type CacheBreakerPermit = { route: 'cache'; probe: boolean } | { route: 'origin' };

/** Codes that say the cache tier did not answer (as opposed to answering with an error). */
const FAILURE_CODES: ReadonlySet<string> = new Set([
  'E_TIMEOUT', 'E_NOT_CONNECTED', 'E_CONNECTION_CLOSED', 'E_SHUTTING_DOWN', 'E_CIRCUIT_OPEN',
  'E_TOO_MANY_CONNECTIONS', 'E_OUTPUT_BUFFER_FULL',
]);

/** The call could not be answered by the cache: getOrSet falls back to the loader for it. */
export function isCacheFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FAILURE_CODES.has(code);
}

/**
 * Whether a failure counts towards opening the breaker. E_CONNECTION_CLOSED does not: one dropped
 * connection fails every request in flight on it at once, and a reconnect blip must not send the
 * whole client to the origin for openMs (the reconnect itself is what tells whether the tier is
 * down: the next calls then fail with E_NOT_CONNECTED or E_TIMEOUT, which do count).
 */
export function countsAgainstBreaker(err: unknown): boolean {
  return isCacheFailure(err) && (err as { code?: unknown }).code !== 'E_CONNECTION_CLOSED';
}

/**
 * The breaker around the whole cache tier (the per-node breakers inside the router are another
 * layer: they move a dead node's keys elsewhere; this one notices that the tier as a whole is not
 * answering). Open, getOrSet stops paying a timeout per call and goes straight to the loader,
 * through the OriginLimiter. It is a pure state machine on the Clock: open → half-open happens
 * on the first call after `openMs`, so there is no timer to leak and fake timers drive it.
 *
 *   closed --failureThreshold consecutive failures--> open --openMs--> half-open
 *   half-open --closeAfterSuccesses probe successes--> closed;  half-open --a probe failure--> open
 */
export class CacheBreaker extends EventEmitter<CacheBreakerEvents> {
  readonly options: CacheBreakerOptions;
  private stateValue: CacheBreakerState = 'closed';
  private failures = 0;
  private successes = 0;
  private probesInFlight = 0;
  private openedAt = 0;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(opts: Partial<CacheBreakerOptions> = {}, clock: Clock = systemClock, logger: Logger = silentLogger) {
    super();
    this.options = { ...DefaultCacheBreaker, ...opts };
    for (const k of ['failureThreshold', 'halfOpenProbes', 'closeAfterSuccesses'] as const)
      if (!Number.isSafeInteger(this.options[k]) || this.options[k] < 1)
        throw new CorralError('E_BAD_ARGS', `cacheBreaker.${k} must be an integer >= 1 (got ${this.options[k]})`);
    if (!(this.options.openMs >= 0)) throw new CorralError('E_BAD_ARGS', `cacheBreaker.openMs must be >= 0 (got ${this.options.openMs})`);
    this.clock = clock;
    this.logger = logger;
  }

  get state(): CacheBreakerState {
    this.maybeHalfOpen();
    return this.stateValue;
  }

  /** Where the next call goes. A 'cache' permit with probe=true must be settled by success()/failure(). */
  permit(): CacheBreakerPermit {
    this.maybeHalfOpen();
    if (this.stateValue === 'closed') return { route: 'cache', probe: false };
    if (this.stateValue === 'half-open' && this.probesInFlight < this.options.halfOpenProbes) {
      this.probesInFlight++;
      return { route: 'cache', probe: true };
    }
    return { route: 'origin' };
  }

  /** The cache answered. */
  success(probe = false): void {
    if (probe) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    if (this.stateValue === 'closed') { this.failures = 0; return; }
    if (this.stateValue === 'half-open' && probe && ++this.successes >= this.options.closeAfterSuccesses)
      this.transition('closed', `${this.successes} probes succeeded`);
  }

  /** The cache did not answer. Outcomes of calls sent before the breaker opened are ignored once it is open. */
  failure(probe = false): void {
    if (probe) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    if (this.stateValue === 'closed') {
      if (++this.failures >= this.options.failureThreshold) this.open(`${this.failures} consecutive cache failures`);
    } else if (this.stateValue === 'half-open' && probe) {
      this.open('a probe failed');
    }
  }

  /** A probe that ended without saying anything about the cache (e.g. the caller aborted). */
  release(probe: boolean): void {
    if (probe) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
  }

  private open(reason: string): void {
    this.openedAt = this.clock.now();
    this.transition('open', reason);
  }

  private maybeHalfOpen(): void {
    if (this.stateValue === 'open' && this.clock.now() - this.openedAt >= this.options.openMs)
      this.transition('half-open', `open for ${this.options.openMs} ms`);
  }

  private transition(state: CacheBreakerState, reason: string): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    this.failures = 0;
    this.successes = 0;
    if (state !== 'half-open') this.probesInFlight = 0;
    const fields = { breaker: 'cache', previous_state: previous, new_state: state, reason };
    if (state === 'open') this.logger.warn(fields, 'circuit_breaker_state_change');
    else this.logger.info(fields, 'circuit_breaker_state_change');
    this.emit('stateChange', { previous, state, reason });
  }
}
