import type { Logger } from 'pino';
import { parseHostPort, type HostPort } from './address';
import type { CancellableDelay } from './cancellable-delay';
import type { Clock } from './clock';
import { CoordinatorError } from './errors';
import type { PushPullMessage } from './push-pull-server';
import type { MembershipStats } from './stats';

export interface SeedJoinerOptions {
  seeds: readonly string[];
  selfId: string;
  selfAddr: string;
  clock: Clock;
  delay: CancellableDelay;
  random: () => number;
  logger: Logger;
  stats: MembershipStats;
  /** First retry delay; doubles per failed round up to 10x. */
  retryBaseMs: number;
  /** 0 = retry forever. */
  joinTimeoutMs: number;
  exchange: (to: HostPort, timeoutMs: number) => Promise<PushPullMessage>;
  pushPullTimeoutMs: number;
}

/**
 * Joins by a full-state exchange with any one seed; tries the seeds in random order (so a fleet
 * restarting together does not pile onto the first seed) and retries with backoff until one
 * answers. Resolves with the seed's state, for the caller to merge.
 */
export class SeedJoiner {
  private stopped = false;

  constructor(private readonly opts: SeedJoinerOptions) {}

  stop(): void {
    this.stopped = true;
  }

  /** Undefined when there is no seed other than ourselves: we are the first member. */
  async join(): Promise<PushPullMessage | undefined> {
    const { clock, logger, stats } = this.opts;
    const seeds = this.opts.seeds.filter((s) => s !== this.opts.selfAddr);
    const targets = seeds.map((s) => parseHostPort(s)).filter((t): t is HostPort => t !== undefined);
    if (targets.length === 0) return undefined;
    const deadline = this.opts.joinTimeoutMs > 0 ? clock.now() + this.opts.joinTimeoutMs : Infinity;
    let retryMs = this.opts.retryBaseMs;
    for (;;) {
      for (const seed of this.shuffled(targets)) {
        this.throwIfStopped();
        const remaining = deadline - clock.now();
        if (remaining <= 0) break;
        stats.joinAttempts++;
        try {
          const reply = await this.opts.exchange(seed, Math.min(this.opts.pushPullTimeoutMs, remaining));
          this.throwIfStopped();
          // A seed list naming this node under another spelling would otherwise "join" itself.
          if (reply.from === this.opts.selfId) continue;
          logger.info({ seed: `${seed.host}:${seed.port}`, members: reply.members.length }, 'joined cluster');
          return reply;
        } catch (err) {
          if (err instanceof CoordinatorError && err.code === 'E_STOPPED') throw err;
          logger.debug({ err, seed }, 'join through seed failed');
        }
      }
      this.throwIfStopped();
      const remaining = deadline - clock.now();
      if (remaining <= 0) throw new CoordinatorError('E_JOIN_TIMEOUT');
      const jittered = retryMs * (0.5 + this.opts.random() / 2);
      if (!(await this.opts.delay.wait(Math.min(jittered, remaining)))) this.throwIfStopped();
      retryMs = Math.min(retryMs * 2, this.opts.retryBaseMs * 10);
    }
  }

  private throwIfStopped(): void {
    if (this.stopped) throw new CoordinatorError('E_STOPPED');
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(this.opts.random() * (i + 1)));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}
