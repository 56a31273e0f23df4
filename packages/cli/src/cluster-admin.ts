import { NodeConnection, parseAddress } from '@corral/client';
import { Ops, type OpSpec } from '@corral/protocol';

/** A gossip member as CLUSTER_STATUS lists it. */
export interface GossipMemberView { id: string; gossipAddr: string; state: string; incarnation: number; meta: Record<string, unknown> }

export interface TargetProgress { planned: number; sent: number; rejected: number; failed: number }

export interface SenderStatus {
  state: 'idle' | 'scanning' | 'sending' | 'retrying';
  pass?: { n: number; epoch: number; byTarget: Record<string, TargetProgress> };
  lifetime: { passes: number; keys: number; bytes: number; byTarget: Record<string, number> };
  stranded: number;
  lastError: string | null;
}

export interface ReceiverStatus { applied: number; stale: number; rejected: number; readThroughs: number; readThroughHits: number; pendingArcs: number; pendingBySender: Record<string, number> }

/** The CLUSTER_STATUS reply (packages/server/src/cluster/cluster-status.ts). */
export interface NodeStatus {
  id: string;
  nodeId: string;
  state: 'alone' | 'member' | 'draining' | 'drained';
  mode: 'gossip' | 'static' | 'alone';
  epoch: number;
  ring: { members: number; vnodes: number; fingerprint: number; share: number };
  gossip: { addr: string; members: GossipMemberView[]; stats: Record<string, number> } | null;
  handoff: { sender: SenderStatus; receiver: ReceiverStatus; lastDrain: unknown };
  store: { keys: number; bytesUsed: number; maxMemoryBytes: number; hits: number; misses: number };
  opsPerSec: number;
  ports: { data: number; resp?: number; metrics?: number; gossip: number | null };
}

export interface AdminOptions { auth?: string; timeoutMs: number }

/**
 * Connections from a CLI command to individual nodes, by member id (the data address). One per
 * node, opened on first use; the cluster ops are admin ops, so HELLO carries the token.
 */
export class AdminLinks {
  private readonly conns = new Map<string, Promise<NodeConnection>>();

  constructor(private readonly opts: AdminOptions) {}

  /** A connection of its own, for a request that waits long (a drain) while others poll. */
  async open(id: string): Promise<NodeConnection> {
    const addr = parseAddress(id);
    const conn = new NodeConnection({
      ...addr, name: 'corral-cli', timeoutMs: this.opts.timeoutMs, connectTimeoutMs: this.opts.timeoutMs,
      maxOfflineQueue: 0, closeTimeoutMs: 500, ...(this.opts.auth !== undefined && { auth: this.opts.auth }),
    });
    try {
      await conn.connect();
    } catch (e) {
      await conn.close();
      throw e;
    }
    return conn;
  }

  request(id: string, op: OpSpec, args: unknown[] = [], timeoutMs?: number): Promise<unknown> {
    let c = this.conns.get(id);
    if (!c) {
      c = this.open(id);
      this.conns.set(id, c);
      c.catch(() => this.conns.delete(id));
    }
    return c.then((conn) => conn.request(op, args, timeoutMs === undefined ? {} : { timeoutMs }));
  }

  status(id: string): Promise<NodeStatus> {
    return this.request(id, Ops.CLUSTER_STATUS) as Promise<NodeStatus>;
  }

  /** Status of every node in `ids`; a node that does not answer gets its error instead. */
  async statuses(ids: readonly string[]): Promise<Map<string, NodeStatus | Error>> {
    const out = new Map<string, NodeStatus | Error>();
    await Promise.all(ids.map(async (id) => {
      try { out.set(id, await this.status(id)); } catch (e) { out.set(id, e as Error); }
    }));
    return out;
  }

  /** Forgets a node's connection (it is leaving or gone), so it is not redialled. */
  async drop(id: string): Promise<void> {
    const c = this.conns.get(id);
    this.conns.delete(id);
    if (c) await c.then((conn) => conn.close(), () => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map((c) => c.then((conn) => conn.close(), () => undefined)));
  }
}

export const isLive = (state: string): boolean => state === 'alive' || state === 'suspect';

/** The members a node knows (gossip view, or just itself), live ones first in id order. */
export function membersOf(s: NodeStatus): GossipMemberView[] {
  if (s.gossip) return s.gossip.members;
  return [{ id: s.id, gossipAddr: '', state: 'alive', incarnation: 0, meta: {} }];
}

export function liveIds(s: NodeStatus): string[] {
  return membersOf(s).filter((m) => isLive(m.state)).map((m) => m.id);
}

/**
 * Whether every node answered and they all route alike: same ring fingerprint, built over the
 * same number of members, none of them still moving keys or waiting for keys to arrive.
 */
export function settled(statuses: Map<string, NodeStatus | Error>, expectMembers: number): boolean {
  const list = [...statuses.values()];
  if (list.length === 0 || list.some((s) => s instanceof Error)) return false;
  const ok = list as NodeStatus[];
  const fp = ok[0]!.ring.fingerprint;
  return ok.every((s) => s.ring.fingerprint === fp && s.ring.members === expectMembers
    && s.handoff.sender.state === 'idle' && s.handoff.receiver.pendingArcs === 0);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
