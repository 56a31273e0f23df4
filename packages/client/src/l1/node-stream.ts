import type { L1Entry } from './l1-entry';

/**
 * What this client knows of one node's invalidation stream:
 *   unsynced  — no position yet (not subscribed, connection lost, stream restarted): nothing from
 *               this node is cached;
 *   synced    — every change up to `covered` has been heard: entries from this node may be served
 *               while the node keeps talking (heartbeats);
 *   repairing — a gap was seen and a replay is out: entries are kept but not served until the
 *               replay says which keys changed (or says it cannot, and they are dropped).
 * `gen` moves whenever entries from the node are dropped wholesale, so a read sent before that
 * cannot put its (possibly stale) reply back in.
 */
export type StreamStatus = 'unsynced' | 'synced' | 'repairing';

export class NodeStream {
  status: StreamStatus = 'unsynced';
  epoch = 0;
  covered = 0;
  gen = 0;
  lastHeardAt = -Infinity;
  /** From the node's subscribe reply; the timeout derives from it unless the client set one. */
  heartbeatMs = 100;
  /** The node does not speak INVALIDATIONS_SUBSCRIBE (older node): nothing from it is ever cached. */
  unsupported = false;
  /** Entries that came from this node, so dropping them costs what they are, not the whole L1. */
  readonly entries = new Set<L1Entry>();
  /** The node's own hot keys as of its last heartbeat that carried them. */
  hotGen = -1;
  hot: ReadonlySet<string> = new Set();
  /** The furthest `to` heard while a repair was out. */
  maxSeen = 0;
  /**
   * Messages that came in while the subscribe reply was being handled: the reply and the pushes
   * after it can arrive in one socket read, and the reply's promise settles only after those pushes
   * were dispatched. They are applied, in order, right after the reply sets the position.
   */
  queued: Array<{ from: number; to: number; epoch: number }> | undefined;

  constructor(readonly id: string, private readonly fixedTimeoutMs: number | undefined) {}

  get timeoutMs(): number { return this.fixedTimeoutMs ?? 3 * this.heartbeatMs; }

  /** Entries from this node may be served now. */
  readable(now: number): boolean {
    return this.status === 'synced' && now - this.lastHeardAt <= this.timeoutMs;
  }

  /** A reply from this node may be cached (a repair in progress will still judge it). */
  fillable(): boolean {
    return this.status !== 'unsynced' && !this.unsupported;
  }
}
