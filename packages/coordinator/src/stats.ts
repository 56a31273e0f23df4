/** Counters exposed by Membership.stats(); monotonically increasing over the node's life. */
export interface MembershipStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** UDP packets and TCP frames dropped because the HMAC (or its absence) did not match. */
  authFailures: number;
  /** Packets and frames that were not valid gossip (bad envelope, msgpack or shape). */
  malformed: number;
  /** Datagrams larger than maxPacketBytes. */
  oversized: number;
  /** Packets dropped because the node is frozen by the test hook. */
  dropped: number;
  probes: number;
  indirectProbes: number;
  probeFailures: number;
  suspicions: number;
  refutes: number;
  deaths: number;
  pushPulls: number;
  pushPullFailures: number;
  /** Push-pulls that reached a member we held dead (partition healed, or it came back). */
  reconnects: number;
  /** Gossip fan-out messages sent (pending updates to random members, besides the probes). */
  gossipSent: number;
  /** Updates or records about new members refused because the table was at maxMembers. */
  membersRejected: number;
  joinAttempts: number;
}

export function createStats(): MembershipStats {
  return {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    authFailures: 0,
    malformed: 0,
    oversized: 0,
    dropped: 0,
    probes: 0,
    indirectProbes: 0,
    probeFailures: 0,
    suspicions: 0,
    refutes: 0,
    deaths: 0,
    pushPulls: 0,
    pushPullFailures: 0,
    reconnects: 0,
    gossipSent: 0,
    membersRejected: 0,
    joinAttempts: 0,
  };
}
