/**
 * The one place time comes from. Monotonic time (performance.now) drives TTLs, leases, locks and
 * timeouts so a wall-clock jump never expires or resurrects an entry; wall time is for display and
 * for entry versions, which must be comparable across nodes. Jest's modern fake timers replace
 * both `performance.now` and `Date.now`, so tests drive time without sleeping.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number;
  /** Milliseconds since the Unix epoch. */
  wallNow(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};
