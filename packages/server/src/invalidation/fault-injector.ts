/**
 * The nemesis's hook into a node (INVALIDATION_FAULTS, only with invalidation.testHooks): drops a
 * share of invalidation and heartbeat pushes *after* their range has been counted as sent, which
 * is exactly what a lost message looks like to the receiver — the next one starts past a gap.
 */
export class FaultInjector {
  dropPerMille = 0;
  dropped = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** Whether to drop the push about to be sent. */
  drop(): boolean {
    if (this.dropPerMille === 0 || this.random() * 1000 >= this.dropPerMille) return false;
    this.dropped++;
    return true;
  }
}
