/** A member's state in SWIM; the same words in gossip, in the TOPOLOGY reply and in clients. */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** One member as the TOPOLOGY reply (and a Topology push) carries it. */
export interface TopologyMember {
  /** The node's data address, "host:port": the ring hashes it and clients dial it. */
  id: string;
  state: MemberState;
  incarnation: number;
  meta?: Record<string, unknown>;
}

/** The cluster as a node sees it: the TOPOLOGY reply, and the body of a Topology push. */
export interface Topology {
  epoch: number;
  vnodes: number;
  members: TopologyMember[];
}
