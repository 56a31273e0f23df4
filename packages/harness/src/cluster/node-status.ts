/**
 * The parts of a node's CLUSTER_STATUS reply the harness reads (the full shape is built in
 * packages/server/src/cluster/cluster-status.ts and typed for the CLI in cli/src/cluster-admin.ts;
 * the harness cannot import the CLI, which depends on it). Read defensively: a node of another
 * version may say less.
 */
export interface NodeStatusView {
  id: string;
  state: string;
  epoch: number;
  ring: { members: number; fingerprint: number; share: number };
  /** Members as this node's gossip sees them. */
  members: Array<{ id: string; state: string; incarnation: number }>;
  handoff: {
    senderState: string;
    /** Keys planned in the current pass and not sent yet. */
    sendingLeft: number;
    sentTotal: number;
    pendingArcs: number;
    readThroughs: number;
  };
  keys: number;
  bytesUsed: number;
}

type Rec = Record<string, unknown>;
const rec = (x: unknown): Rec => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Rec) : {});
const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

export function parseNodeStatus(reply: unknown): NodeStatusView {
  const r = rec(reply);
  const ring = rec(r['ring']);
  const gossip = rec(r['gossip']);
  const handoff = rec(r['handoff']);
  const sender = rec(handoff['sender']);
  const receiver = rec(handoff['receiver']);
  const pass = rec(sender['pass']);
  const store = rec(r['store']);
  let sendingLeft = 0;
  if (sender['state'] !== 'idle')
    for (const p of Object.values(rec(pass['byTarget']))) {
      const t = rec(p);
      sendingLeft += Math.max(0, num(t['planned']) - num(t['sent']) - num(t['failed']));
    }
  const members = Array.isArray(gossip['members'])
    ? (gossip['members'] as unknown[]).map((m) => {
      const x = rec(m);
      return { id: String(x['id']), state: String(x['state']), incarnation: num(x['incarnation']) };
    })
    : [{ id: String(r['id']), state: 'alive', incarnation: 0 }];
  return {
    id: String(r['id']),
    state: String(r['state'] ?? 'unknown'),
    epoch: num(r['epoch']),
    ring: { members: num(ring['members']), fingerprint: num(ring['fingerprint']), share: num(ring['share']) },
    members,
    handoff: {
      senderState: String(sender['state'] ?? 'idle'),
      sendingLeft,
      sentTotal: num(rec(sender['lifetime'])['keys']),
      pendingArcs: num(receiver['pendingArcs']),
      readThroughs: num(receiver['readThroughs']),
    },
    keys: num(store['keys']),
    bytesUsed: num(store['bytesUsed']),
  };
}

export const isLiveState = (s: string): boolean => s === 'alive' || s === 'suspect';
