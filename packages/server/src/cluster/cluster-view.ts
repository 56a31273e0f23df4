import { EventEmitter } from 'node:events';
import type { MemberState, Topology, TopologyMember } from '@corral/protocol';
import { HashRing, DEFAULT_VNODES } from '@corral/ring';

export type { MemberState, Topology } from '@corral/protocol';
/** A member in this node's table: the wire's TopologyMember. */
export type ClusterMember = TopologyMember;

const RANK: Record<MemberState, number> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/**
 * The ring epoch is derived from the member table, not counted locally: every member's
 * (incarnation, state) only moves forward in SWIM, so its weight 1 + incarnation·4 + state rank
 * only grows, a new member adds at least 1, and two nodes that have seen the same updates compute
 * the same epoch. A local counter would let nodes disagree on which epoch is newer. Members that
 * leave the table (gossip forgets dead members after a while) keep their last weight in `retired`.
 */
export const memberWeight = (m: ClusterMember): number => 1 + m.incarnation * 4 + RANK[m.state];

export function epochOf(members: readonly ClusterMember[], retired = 0): number {
  let e = retired;
  for (const m of members) e += memberWeight(m);
  return e;
}

/** Suspect members keep their keys until declared dead: a slow node is not a dead node. */
const ownsKeys = (m: ClusterMember) => m.state === 'alive' || m.state === 'suspect';

/**
 * This node's view of the cluster: members, epoch and the ring over the members that own keys.
 * Fed by `--peers` (static) or by gossip; emits 'change' when the epoch moves.
 */
export class ClusterView extends EventEmitter {
  private members: ClusterMember[];
  private ringNow: HashRing;
  private epochNow: number;
  private retired = 0;

  constructor(readonly selfId: string, members: readonly ClusterMember[], readonly vnodes = DEFAULT_VNODES) {
    super();
    this.members = sortMembers(members);
    this.epochNow = epochOf(this.members);
    this.ringNow = this.buildRing();
  }

  static single(selfId: string): ClusterView {
    return new ClusterView(selfId, [{ id: selfId, state: 'alive', incarnation: 0 }]);
  }

  static fromPeers(selfId: string, peers: readonly string[], vnodes?: number): ClusterView {
    const ids = new Set([selfId, ...peers]);
    return new ClusterView(selfId, [...ids].map((id) => ({ id, state: 'alive' as const, incarnation: 0 })), vnodes);
  }

  get epoch(): number { return this.epochNow; }
  get ring(): HashRing { return this.ringNow; }
  get clustered(): boolean { return this.ringNow.size > 1; }

  ownerOf(key: string): string { return this.ringNow.ownerOf(key); }
  isOwner(key: string): boolean { return this.ringNow.size <= 1 || this.ringNow.ownerOf(key) === this.selfId; }

  topology(): Topology {
    return { epoch: this.epochNow, vnodes: this.vnodes, members: this.members.map((m) => ({ ...m })) };
  }

  /** Replaces the member table; returns true and emits 'change' when the epoch moved. */
  update(members: readonly ClusterMember[]): boolean {
    const sorted = sortMembers(members);
    const ids = new Set(sorted.map((m) => m.id));
    for (const m of this.members) if (!ids.has(m.id)) this.retired += memberWeight(m);
    const epoch = epochOf(sorted, this.retired);
    if (epoch === this.epochNow && sameMembers(sorted, this.members)) return false;
    const prev = this.ringNow;
    this.members = sorted;
    this.epochNow = epoch;
    this.ringNow = this.buildRing();
    this.emit('change', { epoch, ring: this.ringNow, prev });
    return true;
  }

  private buildRing(): HashRing {
    return new HashRing(this.members.filter(ownsKeys).map((m) => ({ id: m.id })), { vnodes: this.vnodes, epoch: this.epochNow });
  }
}

const sortMembers = (ms: readonly ClusterMember[]) => [...ms].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const sameMembers = (a: ClusterMember[], b: ClusterMember[]) =>
  a.length === b.length && a.every((m, i) => m.id === b[i]!.id && m.state === b[i]!.state && m.incarnation === b[i]!.incarnation);
