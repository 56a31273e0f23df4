/**
 * Which reads the hot-key counter counts. While the node serves few reads every read is counted;
 * above `sampleAbovePerSec` (measured over each interval between `tick`s) one read in `every` is,
 * at random, weighing `every`: the counter's lookup in a table of up to maxCounted keys costs about
 * as much as an eighth of a GET, and a key read often enough to matter is sampled often enough for
 * the estimate. `every` never exceeds threshold / 100, so a low threshold stays exact.
 */
export class ReadSampler {
  private reads = 0;
  private lastTickAt: number;
  private every = 1;

  constructor(
    now: number,
    private readonly sampleAbovePerSec: number,
    private readonly maxEvery: number,
    private readonly random: () => number = Math.random,
  ) {
    this.lastTickAt = now;
  }

  /** How many reads one counted read stands for now (1: every read is counted). */
  get sampleEvery(): number { return this.every; }

  /** A read: the weight to count it with, or 0 when it is not sampled. */
  note(): number {
    this.reads++;
    const n = this.every;
    if (n === 1) return 1;
    return this.random() * n < 1 ? n : 0;
  }

  /** Decides the sampling for the next interval from the read rate over the last one. */
  tick(now: number): void {
    const rate = (this.reads * 1000) / Math.max(1, now - this.lastTickAt);
    this.lastTickAt = now;
    this.reads = 0;
    this.every = rate > this.sampleAbovePerSec ? this.maxEvery : 1;
  }
}
