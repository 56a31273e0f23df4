import { Ops, type Clock } from '@corral/protocol';
import type { PeerPool } from '../cluster/peer-link';
import type { FaultInjector } from '../invalidation/fault-injector';
import type { StreamBatch } from '../invalidation/invalidation-stream';

interface PeerState {
  sentUpTo: number;
  hotGenSent: number;
  lastSentAt: number;
}

export interface HotFanoutOptions {
  selfId: () => string;
  peers: () => string[];
  pool: PeerPool;
  clock: Clock;
  heartbeatMs: number;
  stream: { readonly epoch: number; readonly seq: number; flush(): void };
  hot: () => { gen: number; keys: ReadonlyMap<string, unknown> };
  faults: FaultInjector;
  /** A peer's reply: reads its copies served, to count towards cooling. */
  onReads: (reads: Array<[string, number]>) => void;
}

/**
 * The owner's side of hot keys: tells every other node which of its keys are hot and, for each
 * batch of its invalidation stream that touches one, which changed, as HOT_SYNC messages over the
 * peer links. Each message covers `sentUpTo + 1 .. to` of the owner's stream, so a peer sees a lost
 * one as a gap, exactly as a client does. While any key is hot (or the set just changed), peers get
 * one at least every heartbeat, so their copies never outlive a silent owner by more than the bound.
 */
export class HotFanout {
  private readonly peers = new Map<string, PeerState>();
  readonly counters = { syncsSent: 0, syncsFailed: 0, syncsDropped: 0 };

  constructor(private readonly o: HotFanoutOptions) {}

  /** The stream's batch listener: forwards the changes of hot keys (and flushes). */
  deliver(batch: StreamBatch): void {
    const hot = this.o.hot().keys;
    if (hot.size === 0 && !batch.keys.includes(null)) return;
    const keys: string[] = [];
    const versions: number[] = [];
    let flush = false;
    for (let i = 0; i < batch.keys.length; i++) {
      const k = batch.keys[i]!;
      if (k === null) flush = true;
      else if (hot.has(k)) { keys.push(k); versions.push(batch.versions[i]!); }
    }
    if (keys.length === 0 && !flush) return;
    for (const id of this.o.peers()) this.send(id, batch.to, { keys, versions, ...(flush && { flush: true }) });
  }

  /** Every heartbeat: peers hear the current seq and, when it changed, the hot set. */
  heartbeat(): void {
    const hot = this.o.hot();
    const ids = this.o.peers();
    const known = new Set(ids);
    for (const id of this.peers.keys()) if (!known.has(id)) this.peers.delete(id);
    this.o.stream.flush();
    const now = this.o.clock.now();
    for (const id of ids) {
      const p = this.peer(id);
      const changed = p.hotGenSent !== hot.gen;
      if (!changed && hot.keys.size === 0) continue; // nothing hot, nothing to keep alive
      if (!changed && p.sentUpTo === this.o.stream.seq && now - p.lastSentAt < this.o.heartbeatMs / 2) continue;
      this.send(id, this.o.stream.seq, {});
    }
  }

  private peer(id: string): PeerState {
    let p = this.peers.get(id);
    if (p === undefined) {
      // A new peer starts after everything so far: its first message is its baseline.
      p = { sentUpTo: this.o.stream.seq, hotGenSent: -1, lastSentAt: -Infinity };
      this.peers.set(id, p);
    }
    return p;
  }

  private send(id: string, to: number, opts: { keys?: string[]; versions?: number[]; flush?: boolean }): void {
    const p = this.peer(id);
    const hot = this.o.hot();
    // The set rides on every message (it is small): a lost one must not leave a peer with an old set.
    const body: Record<string, unknown> = { ...opts, hotGen: hot.gen, hot: [...hot.keys.keys()] };
    if (body['keys'] !== undefined && (body['keys'] as string[]).length === 0) { delete body['keys']; delete body['versions']; }
    const args = [this.o.selfId(), this.o.stream.epoch, p.sentUpTo + 1, Math.max(to, p.sentUpTo), body];
    // The range counts as sent whatever happens to it: a lost message is then a gap at the peer.
    p.sentUpTo = Math.max(p.sentUpTo, to);
    p.hotGenSent = hot.gen;
    p.lastSentAt = this.o.clock.now();
    if (this.o.faults.drop()) { this.counters.syncsDropped++; return; }
    this.counters.syncsSent++;
    this.o.pool.get(id).request(Ops.HOT_SYNC, args).then(
      (r) => {
        const reads = (r as { reads?: unknown }).reads;
        if (Array.isArray(reads)) this.o.onReads(reads.filter((x): x is [string, number] => Array.isArray(x) && typeof x[0] === 'string' && typeof x[1] === 'number'));
      },
      () => { this.counters.syncsFailed++; },
    );
  }
}
