/**
 * Every timer and timestamp in the coordinator goes through a Clock so the pure pieces can run
 * under jest's fake timers and the socket tests can freeze a node. Globals are looked up at call
 * time (not captured at import) so `jest.useFakeTimers()` installed after import still applies.
 */
export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /** Monotonic milliseconds from an arbitrary origin; drives timeouts. */
  now(): number;
  /** Milliseconds since the Unix epoch; only for `stateChangedAt` and logs. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => globalThis.performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = globalThis.setTimeout(fn, Math.max(0, ms));
    // Sockets keep the process alive while a Membership runs; a stray timer must not.
    t.unref?.();
    return t as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as unknown as ReturnType<typeof setTimeout>);
  },
};
