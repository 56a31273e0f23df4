import type { Clock } from '@corral/protocol';

/**
 * Low bits reserved under each wall-clock millisecond: 1024 versions per ms per node before the
 * counter runs ahead of the wall clock (it catches up again when writes slow down).
 */
export const VERSION_TICKS_PER_MS = 1024;

/**
 * Issues entry versions, hybrid-logical-clock style: a version is
 *   max(lastIssued + 1, wallNow() * 1024, previousVersionOfKey + 1)
 * so versions on different nodes are comparable (roughly ordered by wall time) — handoff and
 * set-if-newer resolve conflicts across nodes with them — while still strictly increasing on
 * this node when the wall clock stalls or steps backwards, and per key when a version came from
 * another node whose clock runs ahead. At today's wall time this stays below 2^53 until ~2248.
 */
export class VersionClock {
  private last = 0;

  constructor(private readonly clock: Clock) {}

  /** The next version for a key whose current version is `previous` (0 when the key is new). */
  next(previous = 0): number {
    const v = Math.max(this.last + 1, Math.floor(this.clock.wallNow()) * VERSION_TICKS_PER_MS, previous + 1);
    this.last = v;
    return v;
  }

  /** HLC receive rule: a version that came from elsewhere pushes our counter past it. */
  observe(version: number): void {
    if (version > this.last) this.last = version;
  }

  get lastIssued(): number { return this.last; }
}
