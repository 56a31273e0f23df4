/**
 * Requests per second over the last few seconds, from a monotonic op counter sampled once a
 * second. Sampling on a timer keeps the hot path at one increment; the timer is unref'd.
 */
export class OpsRate {
  private readonly samples: Array<[at: number, count: number]> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly count: () => number, private readonly now: () => number, private readonly windowSamples = 5) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  perSecond(): number {
    const first = this.samples[0];
    if (!first) return 0;
    const at = this.now();
    const dt = (at - first[0]) / 1000;
    return dt > 0 ? Math.round((this.count() - first[1]) / dt) : 0;
  }

  private sample(): void {
    this.samples.push([this.now(), this.count()]);
    if (this.samples.length > this.windowSamples) this.samples.shift();
  }
}
