import { CircuitBreaker, type BreakerStateChange, type CircuitBreakerConfig } from '../src/circuit-breaker';
import type { Logger } from '../src/logger';
import { outcomeOf } from '../src/node-failure';
import { CorralError } from '@corral/protocol';

/** The breaker's state machine under fake timers: no sockets, no sleeping. */

beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

/** A probe the test settles by hand, counting how often the breaker ran it. */
function manualProbe() {
  const calls: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const probe = jest.fn(() => new Promise<void>((resolve, reject) => { calls.push({ resolve, reject }); }));
  return { probe, calls };
}

function breaker(config: Partial<CircuitBreakerConfig> = {}) {
  const { probe, calls } = manualProbe();
  const logs: Array<{ level: string; fields: object; msg: string }> = [];
  const log = (level: string) => (fields: object, msg: string) => { logs.push({ level, fields, msg }); };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const b = new CircuitBreaker({ node: 'n1', probe, logger, ...config });
  const changes: BreakerStateChange[] = [];
  b.on('stateChange', (c) => changes.push(c));
  return { b, probe, calls, logs, changes };
}

const settle = () => Promise.resolve().then(() => undefined);

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures (default 3), not before', () => {
    const { b, changes } = breaker();
    b.recordFailure();
    b.recordFailure();
    expect(b.state).toBe('closed');
    expect(b.consecutiveFailures).toBe(2);
    b.recordFailure();
    expect(b.state).toBe('open');
    expect(changes).toEqual([{ node: 'n1', previous: 'closed', state: 'open' }]);
  });

  it('counts only consecutive failures: a success in between starts over', () => {
    const { b } = breaker({ failureThreshold: 2 });
    b.recordFailure();
    b.recordSuccess();
    b.recordFailure();
    expect(b.state).toBe('closed');
    b.recordFailure();
    expect(b.state).toBe('open');
  });

  it('goes half-open after openMs (default 1000), runs exactly one probe, and closes when it succeeds', async () => {
    const { b, probe, calls, changes } = breaker();
    for (let i = 0; i < 3; i++) b.recordFailure();
    jest.advanceTimersByTime(999);
    expect(b.state).toBe('open');
    expect(probe).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(b.state).toBe('half-open');
    expect(b.isClosed).toBe(false);
    expect(probe).toHaveBeenCalledTimes(1);
    // Outcomes of calls sent before the breaker opened do not decide anything now.
    b.recordSuccess();
    b.recordFailure();
    expect(b.state).toBe('half-open');
    jest.advanceTimersByTime(10_000);
    expect(probe).toHaveBeenCalledTimes(1);
    calls[0]!.resolve();
    await settle();
    expect(b.state).toBe('closed');
    expect(b.openedAt).toBeUndefined();
    expect(changes.map((c) => c.state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again when the probe fails, for another openMs, then probes again', async () => {
    const { b, probe, calls, changes } = breaker({ failureThreshold: 1, openMs: 500 });
    b.recordFailure();
    jest.advanceTimersByTime(500);
    calls[0]!.reject(new CorralError('E_TIMEOUT'));
    await settle();
    expect(b.state).toBe('open');
    jest.advanceTimersByTime(499);
    expect(probe).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    expect(probe).toHaveBeenCalledTimes(2);
    calls[1]!.resolve();
    await settle();
    expect(changes.map((c) => `${c.previous}>${c.state}`)).toEqual(['closed>open', 'open>half-open', 'half-open>open', 'open>half-open', 'half-open>closed']);
  });

  it('a probe that throws synchronously counts as a failed probe', async () => {
    const b = new CircuitBreaker({ node: 'n', failureThreshold: 1, openMs: 10, probe: () => { throw new Error('boom'); } });
    b.recordFailure();
    jest.advanceTimersByTime(10);
    await settle();
    expect(b.state).toBe('open');
  });

  it('ignores failures while open: they do not extend the open period', () => {
    const { b, probe } = breaker({ failureThreshold: 1, openMs: 100 });
    b.recordFailure();
    jest.advanceTimersByTime(60);
    b.recordFailure();
    jest.advanceTimersByTime(40);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('logs circuit_breaker_state_change with node, previous_state and new_state', async () => {
    const { b, calls, logs } = breaker({ failureThreshold: 1, openMs: 1 });
    b.recordFailure();
    jest.advanceTimersByTime(1);
    calls[0]!.resolve();
    await settle();
    expect(logs).toEqual([
      { level: 'warn', msg: 'circuit_breaker_state_change', fields: { node: 'n1', previous_state: 'closed', new_state: 'open' } },
      { level: 'info', msg: 'circuit_breaker_state_change', fields: { node: 'n1', previous_state: 'open', new_state: 'half-open' } },
      { level: 'info', msg: 'circuit_breaker_state_change', fields: { node: 'n1', previous_state: 'half-open', new_state: 'closed' } },
    ]);
  });

  it('records when it opened, from the injected clock', () => {
    let t = 5_000;
    const { b } = breaker({ failureThreshold: 1, clock: { now: () => t, wallNow: () => t } });
    t = 7_000;
    b.recordFailure();
    expect(b.openedAt).toBe(7_000);
  });

  it('after dispose, no timer fires and no probe runs', async () => {
    const { b, probe } = breaker({ failureThreshold: 1 });
    b.recordFailure();
    b.dispose();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(5_000);
    expect(probe).not.toHaveBeenCalled();
    expect(b.state).toBe('open');
  });

  it('a probe settling after dispose changes nothing', async () => {
    const { b, calls, changes } = breaker({ failureThreshold: 1, openMs: 1 });
    b.recordFailure();
    jest.advanceTimersByTime(1);
    b.dispose();
    calls[0]!.reject(new Error('closed'));
    await settle();
    expect(b.state).toBe('half-open');
    expect(jest.getTimerCount()).toBe(0);
    expect(changes).toHaveLength(2);
  });

  it('rejects nonsense options with E_BAD_ARGS', () => {
    const probe = async () => undefined;
    expect(() => new CircuitBreaker({ node: 'n', probe, failureThreshold: 0 })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGS' }));
    expect(() => new CircuitBreaker({ node: 'n', probe, openMs: -1 })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGS' }));
  });
});

describe('what counts as a node failure', () => {
  it.each([
    ['E_TIMEOUT', 'failure'],
    ['E_NOT_CONNECTED', 'failure'],
    ['E_SHUTTING_DOWN', 'failure'],
    ['E_CONNECTION_CLOSED', 'neutral'], // counted once per drop by the connection, not once per request
    ['E_ABORTED', 'neutral'],
    ['E_CLIENT_CLOSED', 'neutral'],
    ['E_CAS_MISMATCH', 'success'],
    ['E_NOT_OWNER', 'success'],
    ['E_KEY_TOO_LONG', 'success'],
  ])('%s is a %s', (code, outcome) => {
    expect(outcomeOf(new CorralError(code as never))).toBe(outcome);
  });

  it('something without a code is neutral', () => {
    expect(outcomeOf(new Error('?'))).toBe('neutral');
    expect(outcomeOf(undefined)).toBe('neutral');
  });
});
