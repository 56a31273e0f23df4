import type { Socket } from 'node:net';

/** Re-check period when output is over the soft limit but the socket will not emit 'drain'. */
export const CONGESTED_RECHECK_MS = 10;

/**
 * Stops reading from a client whose replies pile up unsent, and gives up on it if it stays that
 * way: the shared half of output backpressure for the native protocol (NodeConnection) and the
 * RESP door. Paused, the connection reads nothing more, so it cannot make the node execute (and
 * buffer the replies of) more requests; if the client then reads nothing for `pauseMs` it is
 * stalled and `onStalled` drops it. A slow but steady reader only slows down: every 'drain' it
 * causes restarts the clock.
 */
export class ReadPause {
  private pausedNow = false;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: Socket, private readonly pauseMs: number, private readonly onStalled: () => void) {}

  get paused(): boolean { return this.pausedNow; }

  pause(): void {
    if (this.pausedNow) return;
    this.pausedNow = true;
    this.socket.pause();
    this.armStall();
  }

  /** The client read some of its output ('drain'): the stall clock measures time without progress. */
  progressed(): void {
    if (this.pausedNow) this.armStall();
  }

  /** Reads again (unless `readAgain` is false: the connection has nothing more to read). */
  resume(readAgain = true): void {
    if (!this.pausedNow) return;
    this.pausedNow = false;
    this.dispose();
    if (readAgain) this.socket.resume();
  }

  /** The connection is gone. */
  dispose(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  private armStall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(this.onStalled, this.pauseMs);
  }
}
