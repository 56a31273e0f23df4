import type { Clock } from '@corral/protocol';

/**
 * A clock that moves only when told to. For in-process nodes under test: jest's fake timers would
 * also freeze the socket machinery, this freezes only the node's notion of time.
 */
export class ManualClock implements Clock {
  private mono = 1_000;
  private wall: number;

  constructor(wallStart: number = Date.now()) {
    this.wall = wallStart;
  }

  now(): number { return this.mono; }
  wallNow(): number { return this.wall; }

  /** Moves both clocks forward. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('monotonic time does not go backwards');
    this.mono += ms;
    this.wall += ms;
  }

  /** Steps only the wall clock (NTP corrections, a VM resumed): may go backwards. */
  setWall(ms: number): void {
    this.wall = ms;
  }
}
