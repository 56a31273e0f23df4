/**
 * Paces handoff to `bytesPerSec` (0 = unpaced): a bucket that holds at most one second of budget
 * and lets a caller go as soon as its bytes are covered. Handoff shares the node's network and
 * event loop with client traffic; an unpaced bulk copy would show up as client latency.
 */
export class ByteThrottle {
  private tokens: number;
  private last: number;

  constructor(private readonly bytesPerSec: number, private readonly now: () => number) {
    this.tokens = bytesPerSec;
    this.last = now();
  }

  /** Resolves once `bytes` may be sent. A request larger than a second's budget waits for a full bucket and goes alone. */
  async take(bytes: number, signal?: { stopped: boolean }): Promise<void> {
    if (this.bytesPerSec <= 0) return;
    for (let i = 0; i < 1000 && !signal?.stopped; i++) {
      this.refill();
      const need = Math.min(bytes, this.bytesPerSec);
      if (this.tokens >= need) { this.tokens -= need; return; }
      const waitMs = Math.ceil(((need - this.tokens) / this.bytesPerSec) * 1000);
      await new Promise((r) => setTimeout(r, Math.max(1, waitMs)));
    }
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.bytesPerSec, this.tokens + ((t - this.last) / 1000) * this.bytesPerSec);
    this.last = t;
  }
}
