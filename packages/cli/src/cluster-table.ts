import { formatBytes } from '@corral/protocol';
import { AdminLinks, isLive, membersOf, type NodeStatus } from './cluster-admin';
import { formatTable } from './table';

export interface ClusterSnapshot {
  /** The node the snapshot was taken through. */
  seed: NodeStatus;
  members: Array<{ id: string; gossipAddr: string; state: string; incarnation: number; status: NodeStatus | Error | undefined }>;
}

/** Asks the seed for the member list, then every live member for its own figures, in parallel. */
export async function snapshot(links: AdminLinks, seed: string): Promise<ClusterSnapshot> {
  const seedStatus = await links.status(seed);
  const members = membersOf(seedStatus);
  const statuses = await links.statuses(members.filter((m) => isLive(m.state)).map((m) => m.id));
  return {
    seed: seedStatus,
    members: members.map((m) => ({ id: m.id, gossipAddr: m.gossipAddr, state: m.state, incarnation: m.incarnation, status: statuses.get(m.id) })),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The `corral cluster status` table: one row per member the seed knows, with each live member's own figures. */
export function statusTable(snap: ClusterSnapshot): string {
  const rows = snap.members.map((m) => {
    const s = m.status instanceof Error || m.status === undefined ? undefined : m.status;
    const err = m.status instanceof Error ? `(${(m.status as Error & { code?: string }).code ?? 'error'})` : '';
    const lookups = s ? s.store.hits + s.store.misses : 0;
    return [
      s?.nodeId ?? m.id,
      m.id,
      m.gossipAddr || '-',
      s && s.state === 'draining' ? 'draining' : m.state,
      String(m.incarnation),
      s ? pct(s.ring.share) : '-',
      s ? String(s.store.keys) : err || '-',
      s ? `${formatBytes(s.store.bytesUsed)} / ${formatBytes(s.store.maxMemoryBytes)}` : '-',
      s ? (lookups > 0 ? pct(s.store.hits / lookups) : '-') : '-',
      s ? String(s.opsPerSec) : '-',
    ];
  });
  return formatTable(['member', 'address', 'gossip', 'state', 'inc', 'ring', 'keys', 'memory', 'hit ratio', 'ops/s'], rows);
}

/** One line under the table: do the live members agree on the ring, and is anything still moving? */
export function agreementLine(snap: ClusterSnapshot): string {
  const live = snap.members.filter((m) => isLive(m.state));
  const ok = live.map((m) => m.status).filter((s): s is NodeStatus => s !== undefined && !(s instanceof Error));
  const fps = new Set(ok.map((s) => s.ring.fingerprint));
  const moving = ok.filter((s) => s.handoff.sender.state !== 'idle' || s.handoff.receiver.pendingArcs > 0).map((s) => s.id);
  const parts = [
    `${live.length} live member${live.length === 1 ? '' : 's'}, epoch ${snap.seed.epoch}`,
    fps.size <= 1 && ok.length === live.length ? 'every member routes by the same ring' : `members disagree on the ring (${fps.size} different rings; gossip is still spreading a change)`,
    moving.length > 0 ? `handoff in progress on ${moving.join(', ')}` : 'no handoff in progress',
  ];
  return parts.join('; ');
}

/** Where each live member serves Prometheus metrics, when it does. */
export function metricsLines(snap: ClusterSnapshot): string[] {
  return snap.members.flatMap((m) => {
    const s = m.status instanceof Error ? undefined : m.status;
    if (!s?.ports.metrics) return [];
    const host = m.id.slice(0, m.id.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    return [`  ${m.id}  http://${host.includes(':') ? `[${host}]` : host}:${s.ports.metrics}/metrics`];
  });
}
