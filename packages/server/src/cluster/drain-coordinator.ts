import { CorralError, type Clock } from '@corral/protocol';
import type { Logger } from 'pino';
import type { MemoryStore } from '../memory-store';
import type { GossipMembershipSource } from './gossip-membership-source';
import type { HandoffSender } from './handoff-sender';

/** Where this node stands in its cluster, as `corral cluster status` shows it. */
export type MembershipState = 'alone' | 'member' | 'draining' | 'drained';

export interface DrainResult {
  state: MembershipState;
  moved: { keys: number; bytes: number; byTarget: Record<string, number> };
  /** Keys still here when the drain ended: nobody was left to take them. */
  stranded: number;
  ms: number;
}

type Lifetime = { keys: number; bytes: number; byTarget: Record<string, number> };

export interface DrainCoordinatorOptions {
  gossip: GossipMembershipSource | undefined;
  sender: HandoffSender;
  store: MemoryStore;
  clock: Clock;
  logger: Logger;
  /** Called once drained; `exit` asks the process to stop (runNode exits 0). */
  onDrained: (exit: boolean) => void;
}

/** Re-checks after the sender went idle; writes that arrive without routing hints can land during a drain. */
const MAX_DRAIN_ROUNDS = 10;

/**
 * A graceful remove: announce the leave (every member drops this node from its ring within a
 * round trip, so reads of its ranges go to their new owners, which read through to this node
 * until their copy arrives), hand every key to its new owner, then exit or stay up alone.
 * Nothing is lost as long as the new owners are up; what could not be sent is reported as stranded.
 */
export class DrainCoordinator {
  private draining: Promise<DrainResult> | undefined;
  private last: DrainResult | undefined;

  constructor(private readonly o: DrainCoordinatorOptions) {}

  get state(): MembershipState {
    if (this.draining) return 'draining';
    if (this.last?.state === 'drained') return 'drained';
    return (this.o.gossip?.livePeers().length ?? 0) > 0 ? 'member' : 'alone';
  }

  /** Accepting handoff makes no sense while leaving: keys sent here would have to be sent on again. */
  get accepting(): boolean { return this.draining === undefined && this.last?.state !== 'drained'; }

  /** The node joined a cluster again after a drain. */
  rejoined(): void { this.last = undefined; }

  lastResult(): DrainResult | undefined { return this.last; }

  /** Starts the drain (or joins the one running); with `wait` resolves when it is done. */
  start(opts: { exit?: boolean; wait?: boolean }): DrainResult | Promise<DrainResult> {
    if (!this.draining) {
      const gossip = this.o.gossip;
      if (!gossip) throw new CorralError('E_BAD_ARGS', 'this node has a static member list (--peers); change it by restarting the nodes with a new list');
      if (gossip.livePeers().length === 0) throw new CorralError('E_BAD_ARGS', 'this node is alone: there is no member to hand its keys to');
      const exit = opts.exit === true;
      this.draining = this.run(gossip).finally(() => { this.draining = undefined; });
      void this.draining.then((r) => {
        this.last = r;
        // Let the DRAIN reply reach the caller before the process winds down.
        setTimeout(() => this.o.onDrained(exit), 100);
      }, (err: unknown) => this.o.logger.error({ err }, 'drain_failed'));
    }
    if (opts.wait) return this.draining;
    return { state: 'draining', moved: { keys: 0, bytes: 0, byTarget: {} }, stranded: 0, ms: 0 };
  }

  private async run(gossip: GossipMembershipSource): Promise<DrainResult> {
    const { sender, store, clock, logger } = this.o;
    const t0 = clock.now();
    const base = sender.stats().lifetime as Lifetime;
    logger.info({ keys: store.size }, 'drain_started');
    await gossip.leave();
    for (let round = 0; round < MAX_DRAIN_ROUNDS; round++) {
      await sender.whenIdle();
      const s = sender.stats() as { stranded: number };
      if (store.size === 0 || s.stranded > 0) break;
      sender.onRingChange(); // keys written here without routing hints during the drain: one more pass
    }
    const after = sender.stats().lifetime as Lifetime;
    const byTarget: Record<string, number> = {};
    for (const [t, n] of Object.entries(after.byTarget)) if (n - (base.byTarget[t] ?? 0) > 0) byTarget[t] = n - (base.byTarget[t] ?? 0);
    const result: DrainResult = {
      state: 'drained',
      moved: { keys: after.keys - base.keys, bytes: after.bytes - base.bytes, byTarget },
      stranded: store.size,
      ms: Math.round(clock.now() - t0),
    };
    logger.info(result, 'drained');
    return result;
  }
}
