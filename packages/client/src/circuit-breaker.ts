import { EventEmitter } from 'node:events';
import { CorralError, systemClock, type Clock } from '@corral/protocol';
import { silentLogger, type Logger } from './logger';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive node failures (connection errors, timeouts) that open the breaker. */
  failureThreshold: number;
  /** How long the breaker stays open before one probe may test the node again, in ms. */
  openMs: number;
}

export const DefaultBreaker: Readonly<BreakerOptions> = { failureThreshold: 3, openMs: 1000 };

/** Fills in the defaults and rejects nonsense with E_BAD_ARGS, so a client fails at connect, not at the first outage. */
export function breakerOptions(o: Partial<BreakerOptions> = {}): BreakerOptions {
  const failureThreshold = o.failureThreshold ?? DefaultBreaker.failureThreshold;
  const openMs = o.openMs ?? DefaultBreaker.openMs;
  if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1)
    throw new CorralError('E_BAD_ARGS', `breaker.failureThreshold must be an integer >= 1 (got ${failureThreshold})`);
  if (!Number.isFinite(openMs) || openMs < 0)
    throw new CorralError('E_BAD_ARGS', `breaker.openMs must be a number of ms >= 0 (got ${openMs})`);
  return { failureThreshold, openMs };
}

export interface BreakerStateChange {
  node: string;
  previous: BreakerState;
  state: BreakerState;
}

export interface CircuitBreakerEvents {
  stateChange: [change: BreakerStateChange];
}

export interface CircuitBreakerConfig extends Partial<BreakerOptions> {
  /** The node this breaker guards, for events and logs. */
  node: string;
  /**
   * The one request allowed through in half-open. The breaker runs it itself, so "one probe" is a
   * property of the state machine and not something every caller has to get right.
   */
  probe: () => Promise<unknown>;
  logger?: Logger;
  /** Time for `openedAt` and the overdue check; the open → half-open move itself is a timer. */
  clock?: Clock;
}

/**
 * One node's circuit breaker: closed → open after `failureThreshold` consecutive failures →
 * half-open after `openMs` → one probe → closed on success, open again on failure.
 *
 * Why at all: a dead node otherwise costs every call that hashes to it a full timeout, and the
 * callers pile up behind it. Open, its keys go elsewhere at once (see route-choice.ts).
 *
 * Only the callers decide what a failure is (node-failure.ts): an E_CAS_MISMATCH is the node
 * working, and must reset the count rather than add to it. Outcomes that arrive while open or
 * half-open are ignored: they belong to requests sent before the breaker opened, and only the
 * probe may decide that the node is back.
 */
export class CircuitBreaker extends EventEmitter<CircuitBreakerEvents> {
  readonly node: string;
  readonly failureThreshold: number;
  readonly openMs: number;
  private stateValue: BreakerState = 'closed';
  private failures = 0;
  private openedAtValue: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly probe: () => Promise<unknown>;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(config: CircuitBreakerConfig) {
    super();
    this.node = config.node;
    const { failureThreshold, openMs } = breakerOptions(config);
    this.failureThreshold = failureThreshold;
    this.openMs = openMs;
    this.probe = config.probe;
    this.logger = config.logger ?? silentLogger;
    this.clock = config.clock ?? systemClock;
  }

  get state(): BreakerState { return this.stateValue; }
  /** Whether calls may go to the node: only when closed (in half-open the probe has the node to itself). */
  get isClosed(): boolean { return this.stateValue === 'closed'; }
  /** Consecutive failures counted while closed. */
  get consecutiveFailures(): number { return this.failures; }
  /** Clock time the breaker last opened; undefined unless open or half-open. */
  get openedAt(): number | undefined { return this.openedAtValue; }

  /** The node answered (even with an application error): the streak of failures is over. */
  recordSuccess(): void {
    if (this.stateValue === 'closed') this.failures = 0;
  }

  /** The node did not answer: a connection error or a timeout. */
  recordFailure(): void {
    if (this.stateValue !== 'closed' || this.disposed) return;
    if (++this.failures >= this.failureThreshold) this.open();
  }

  /** Stops the timer and ignores everything from now on (the client is closing). */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private open(): void {
    this.openedAtValue = this.clock.now();
    this.failures = 0;
    this.transition('open');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.halfOpen(), this.openMs);
  }

  private halfOpen(): void {
    this.timer = undefined;
    if (this.disposed || this.stateValue !== 'open') return;
    this.transition('half-open');
    let probing: Promise<unknown>;
    try {
      probing = this.probe();
    } catch (e) {
      probing = Promise.reject(e);
    }
    probing.then(
      () => { if (this.live('half-open')) { this.openedAtValue = undefined; this.transition('closed'); } },
      () => { if (this.live('half-open')) this.open(); },
    );
  }

  private live(expected: BreakerState): boolean {
    return !this.disposed && this.stateValue === expected;
  }

  private transition(state: BreakerState): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    const fields = { node: this.node, previous_state: previous, new_state: state };
    if (state === 'open') this.logger.warn(fields, 'circuit_breaker_state_change');
    else this.logger.info(fields, 'circuit_breaker_state_change');
    this.emit('stateChange', { node: this.node, previous, state });
  }
}
