import type { Logger } from 'pino';
import type { GossipQueue } from './gossip-queue';
import type { MemberTable } from './member-table';
import type { Update } from './messages';
import { suspicionTimeoutMs, type Timings } from './options';
import type { PushPullMessage } from './push-pull-server';
import { updatesFromState } from './state-merge';
import type { MembershipStats } from './stats';
import type { SuspicionTimers } from './suspicion-timers';
import type { Member, MemberState } from './types';

export interface ClusterViewOptions {
  selfId: string;
  table: MemberTable;
  queue: GossipQueue;
  suspicions: SuspicionTimers;
  timings: Pick<Timings, 'suspicionMult' | 'protocolPeriodMs'>;
  stats: MembershipStats;
  logger: Logger;
  /** A visible change was applied (new member, state change, new meta or address). */
  onMember: (member: Member, prev: MemberState | undefined) => void;
  /** Something in members() changed without a per-member event (reaping). */
  onListChanged: () => void;
}

/**
 * This node's view of the cluster: applies gossip to the MemberTable and carries out what each
 * outcome implies (refute, re-gossip, start or cancel suspicion timers, declare dead, notify).
 * Every path that changes membership state goes through apply(), so those rules live in one place.
 */
export class ClusterView {
  constructor(private readonly o: ClusterViewOptions) {}

  get table(): MemberTable {
    return this.o.table;
  }

  applyAll(updates: readonly Update[]): void {
    for (const u of updates) this.apply(u);
  }

  apply(heard: Update): void {
    const { table, stats, queue, logger } = this.o;
    const u = this.softened(heard);
    const result = table.apply(u);
    switch (result.kind) {
      case 'ignored':
        return;
      case 'rejected':
        stats.membersRejected++;
        return;
      case 'refute': {
        stats.refutes++;
        const alive = table.refute(result.heardIncarnation);
        logger.info({ about: u.kind, heard: result.heardIncarnation, incarnation: alive.incarnation }, 'refuting');
        queue.enqueue(alive);
        return;
      }
      case 'changed':
        this.onChanged(result.member, result.prev, result.visible, u);
        return;
    }
  }

  /**
   * Another member's `dead` verdict about a third member is taken as a suspicion: this node runs
   * its own timer (and re-gossips the suspicion, not the verdict), and only that timer declares
   * the member dead. A verdict can be stale: a member cut off by a partition declares everyone
   * else dead, cannot send those updates to anyone, and sends them all with its first packets
   * after the heal, before the members concerned have had a chance to refute. Applied as-is, they
   * would take healthy members out of the rings of nodes that can see them perfectly well. A
   * member that really is dead is declared so by every node's own timer within a suspicion
   * timeout of hearing of it (as the suspicion itself spreads, so usually no later than before).
   * About this node itself, and the node's own verdicts, nothing changes.
   */
  private softened(u: Update): Update {
    if (u.kind !== 'dead' || u.from === this.o.selfId || u.id === this.o.selfId) return u;
    return { kind: 'suspect', id: u.id, incarnation: u.incarnation, from: u.from };
  }

  /**
   * Merges a peer's full state from a push-pull exchange.
   *
   * A node that holds every other member dead and hears from a peer was most likely the one cut
   * off (a partition around it, a long freeze), not everyone else: members the peer holds alive
   * or suspect at the very incarnation this node declared dead become suspect again here, with a
   * fresh timer, instead of staying dead until each of them hears of the verdict and refutes. A
   * suspect owns keys, so this node's ring goes straight back to the cluster's, rather than through
   * one transitional ring per refutation, rings no other node uses, which it would route and hand
   * off by and push to its clients meanwhile. A member that really died stays silent and is
   * declared dead again when the timer runs out.
   */
  merge(msg: PushPullMessage): void {
    const { table } = this.o;
    if (table.size > 1 && table.countLive() === 1) {
      for (const r of msg.members) {
        if (r.state !== 'alive' && r.state !== 'suspect') continue;
        const result = table.reconsider(r.id, r.incarnation);
        if (result.kind === 'changed') this.onChanged(result.member, result.prev, result.visible, { kind: 'suspect', id: r.id, incarnation: r.incarnation, from: this.o.selfId });
      }
    }
    this.applyAll(updatesFromState(msg.members, msg.from, (id) => table.get(id) !== undefined));
  }

  /** Neither a direct nor an indirect ack came back: suspect at the incarnation we know. */
  suspect(id: string): void {
    const current = this.o.table.get(id);
    if (!current || current.state !== 'alive') return;
    this.apply({ kind: 'suspect', id, incarnation: current.incarnation, from: this.o.selfId });
  }

  /**
   * What we believe about `id` if it is bad news for them: SWIM relies on the suspect hearing of
   * its suspicion to refute it, and a member we consider dead no longer gets probes carrying
   * gossip, so we tell it directly whenever it talks to us or we to it.
   */
  hintsAbout(id: string): Update[] {
    const m = this.o.table.get(id);
    if (!m) return [];
    switch (m.state) {
      case 'alive':
        return [];
      case 'suspect':
        return [{ kind: 'suspect', id, incarnation: m.incarnation, from: this.o.selfId }];
      case 'dead':
        return [{ kind: 'dead', id, incarnation: m.incarnation, from: this.o.selfId }];
      case 'left':
        return [{ kind: 'left', id, incarnation: m.incarnation }];
    }
  }

  reap(ageMs: number): void {
    const gone = this.o.table.reap(ageMs);
    if (gone.length === 0) return;
    for (const id of gone) this.o.suspicions.cancel(id);
    this.o.onListChanged();
  }

  private onChanged(member: Member, prev: MemberState | undefined, visible: boolean, u: Update): void {
    const { stats, suspicions, queue, table, timings } = this.o;
    if (member.state === 'suspect') {
      if (prev !== 'suspect') stats.suspicions++;
      const timeout = suspicionTimeoutMs(table.countLive(), timings);
      suspicions.start(member.id, member.incarnation, timeout, (id, inc) => this.onSuspicionExpired(id, inc));
    } else {
      suspicions.cancel(member.id);
    }
    if (member.state === 'dead' && prev !== 'dead') stats.deaths++;
    // Re-gossip what we accepted: infection-style spread needs every receiver to pass it on.
    queue.enqueue(u.kind === 'alive' ? { ...u, addr: member.gossipAddr, meta: member.meta } : u);
    if (!visible) return;
    this.o.logger.debug({ member: member.id, state: member.state, prev, incarnation: member.incarnation }, 'member changed');
    this.o.onMember(member, prev);
  }

  private onSuspicionExpired(id: string, incarnation: number): void {
    const m = this.o.table.get(id);
    if (!m || m.state !== 'suspect' || m.incarnation !== incarnation) return;
    this.o.logger.info({ member: id, incarnation }, 'suspicion expired, declaring dead');
    this.apply({ kind: 'dead', id, incarnation, from: this.o.selfId });
  }
}
