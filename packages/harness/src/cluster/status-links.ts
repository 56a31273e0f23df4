import { NodeConnection, parseAddress } from '@corral/client';
import { Ops } from '@corral/protocol';
import { parseNodeStatus, type NodeStatusView } from './node-status';

/**
 * One admin connection per node for the harness's own questions (CLUSTER_STATUS, STATS), apart
 * from the workload's clients so that polling never queues behind application traffic. Requests
 * fail fast when a node is down (no offline queue) and time out quickly when it is paused or cut
 * off: a sample must not wait for a node that cannot answer.
 */
export class StatusLinks {
  private readonly conns = new Map<string, { conn: NodeConnection; ready: Promise<unknown> }>();

  constructor(private readonly opts: { auth?: string; timeoutMs: number }) {}

  async status(id: string, timeoutMs = this.opts.timeoutMs): Promise<NodeStatusView> {
    return parseNodeStatus(await this.request(id, Ops.CLUSTER_STATUS, timeoutMs));
  }

  /** Status of each node; a node that does not answer gets its error instead. */
  async statuses(ids: readonly string[], timeoutMs?: number): Promise<Map<string, NodeStatusView | Error>> {
    const out = new Map<string, NodeStatusView | Error>();
    await Promise.all(ids.map(async (id) => {
      try { out.set(id, await this.status(id, timeoutMs)); } catch (e) { out.set(id, e as Error); }
    }));
    return out;
  }

  async stats(id: string): Promise<Record<string, unknown>> {
    return (await this.request(id, Ops.STATS, this.opts.timeoutMs)) as Record<string, unknown>;
  }

  /**
   * What the node's store holds for `key` right now, around routing (HANDOFF_GET: no ownership
   * check, no read-through, no hit counted): [value, flags, version, ttlMs] or null.
   */
  async peek(id: string, key: string): Promise<[unknown, number, number, number | null] | null> {
    return (await this.request(id, Ops.HANDOFF_GET, this.opts.timeoutMs, [key])) as [unknown, number, number, number | null] | null;
  }

  /** The node is gone (killed, removed): stop redialling it. */
  async forget(id: string): Promise<void> {
    const c = this.conns.get(id);
    this.conns.delete(id);
    await c?.conn.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map((c) => c.conn.close()));
  }

  /**
   * A first connect that fails closes the NodeConnection for good, so such an entry is dropped and
   * the next request dials afresh. Once connected, it redials by itself after a drop.
   */
  private async request(id: string, op: (typeof Ops)[keyof typeof Ops], timeoutMs: number, args: unknown[] = []): Promise<unknown> {
    let entry = this.conns.get(id);
    if (!entry) {
      const conn = new NodeConnection({
        ...parseAddress(id), name: 'corral-harness', timeoutMs: this.opts.timeoutMs, connectTimeoutMs: this.opts.timeoutMs,
        maxOfflineQueue: 0, closeTimeoutMs: 200, reconnect: { baseMs: 50, capMs: 500 },
        ...(this.opts.auth !== undefined && { auth: this.opts.auth }),
      });
      conn.on('error', () => undefined); // a node that is down is expected here; the request that failed says so
      entry = { conn, ready: conn.connect() };
      this.conns.set(id, entry);
    }
    const mine = entry;
    try {
      await mine.ready;
      return await mine.conn.request(op, args, { timeoutMs });
    } catch (e) {
      if ((e as { code?: string }).code === 'E_CLIENT_CLOSED' || mine.conn.state === 'closed') {
        if (this.conns.get(id) === mine) this.conns.delete(id);
      }
      throw e;
    }
  }
}
