import { movedArcs, type HashRing } from '@corral/ring';
import type { ClusterMember } from './cluster-view';

/** A hash range this node now owns whose entries are still with `from`. */
export interface IncomingArc {
  start: number;
  end: number;
  from: string;
  /** This node's epoch when the range became ours; a `done` from the sender at this epoch or later ends it. */
  epoch: number;
  /** Fingerprint of the ring that made it ours; a `done` for the same ring ends it whatever the epochs say. */
  ring: number;
  /**
   * This node's copies in the range at versions up to this one were here before the range became
   * its own: newer writes may have gone to `from` meanwhile, so such a copy is compared with
   * `from`'s before it is served.
   */
  suspectBelow: number;
  /** Expected because this node came back from being alone (see onRingChange). */
  rejoin: boolean;
}

/** What a sender said when it finished a pass: its epoch and its ring's fingerprint. */
export interface SenderDone { epoch: number; ring: number }

/**
 * The ranges this node gained whose previous owner has not finished handing them over. A read
 * that misses here for a key in one of them is worth asking the previous owner about. Pure (no
 * timers, no sockets): the receiver feeds it ring changes, `done` messages and the clock.
 *
 * A range is only expected from a member that can still send it: alive or suspect (it was pushed
 * out by a newcomer, or the arcs shifted), or `left` (it is draining). A `dead` member's keys died
 * with it, so nobody waits for them.
 */
export class IncomingArcs {
  /** Sorted by start, non-overlapping (movedArcs never overlaps, and each change replaces overlaps). */
  private arcs: IncomingArc[] = [];
  /** Last time each sender was heard from (monotonic ms). */
  private readonly heard = new Map<string, number>();
  /**
   * What each sender last said it was done with. Epochs are derived from member tables and agree
   * across nodes that saw the same updates, but a node that forgot old members counts their weight
   * and a newcomer does not; equal ring fingerprints settle those cases.
   */
  private readonly doneAt = new Map<string, SenderDone>();
  /** Members that could send at the last ring change, and whether any was held dead. */
  private live = new Set<string>();
  private anyDead = false;
  /** Set while rejoining (see onRingChange): the store's last version when this node stopped being alone. */
  private rejoinSuspectBelow: number | undefined;

  constructor(private readonly selfId: string) {}

  get size(): number { return this.arcs.length; }

  /** The senders still owing ranges, with how many ranges each. */
  pendingBySender(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of this.arcs) out[a.from] = (out[a.from] ?? 0) + 1;
    return out;
  }

  /**
   * The ring moved from `prev` to `next` at `epoch`; this node's store had issued versions up to
   * `lastIssued`. Returns the ranges this change made it expect (sorted by start).
   *
   * `joinedFromAlone` says this node was alone and just joined, or came back from a partition in
   * which it believed everyone else dead: its own previous ring says it owned everything, but what
   * it now owns was with the others meanwhile, so the previous owner of each range is its owner
   * in `next` without this node, i.e. in the ring the others used. Such a node sees the others come
   * back one by one (each ring change brings one more), and until they are all back each of these
   * rings is one that no other node ever used: so from the first change on ("rejoining"), every
   * change recomputes those ranges against the others' ring again, until nothing is expected any
   * more and no member is held dead (one that is could still come back with keys of ours).
   */
  onRingChange(prev: HashRing, next: HashRing, members: readonly ClusterMember[], epoch: number, now: number, joinedFromAlone: boolean,
    lastIssued = 0): IncomingArc[] {
    const states = new Map(members.map((m) => [m.id, m.state]));
    const canSend = (id: string) => { const s = states.get(id); return s === 'alive' || s === 'suspect' || s === 'left'; };
    // A sender's `done` said nothing about what it held after an outage: forget it when the
    // sender goes dead (it may come back), and forget them all when this node was alone.
    for (const id of this.doneAt.keys()) if (this.live.has(id) && !canSend(id)) this.doneAt.delete(id);
    this.live = new Set(members.filter((m) => canSend(m.id)).map((m) => m.id));
    this.anyDead = members.some((m) => m.state === 'dead');
    if (joinedFromAlone) {
      this.doneAt.clear();
      this.rejoinSuspectBelow = lastIssued;
    }
    const ring = next.fingerprint();
    const finished = (from: string) => { const d = this.doneAt.get(from); return d !== undefined && (d.epoch >= epoch || d.ring === ring); };
    const rejoining = this.rejoinSuspectBelow !== undefined && next.size > 1 && next.has(this.selfId);
    // Ranges from senders that can no longer send, or that this node no longer owns, are dropped;
    // while rejoining, the rejoin ranges are all recomputed below.
    const kept = this.arcs.filter((a) => canSend(a.from) && next.size > 0 && next.ownerOfHash(a.start) === this.selfId && !(rejoining && a.rejoin));
    let gained: IncomingArc[];
    if (rejoining) {
      const suspectBelow = this.rejoinSuspectBelow!;
      gained = movedArcs(next.withoutMember(this.selfId), next)
        .filter((a) => a.owner === this.selfId && canSend(a.from) && !finished(a.from))
        .map((a) => ({ start: a.start, end: a.end, from: a.from, epoch, ring, suspectBelow, rejoin: true }));
      this.arcs = mergeSorted(kept, gained);
    } else {
      this.rejoinSuspectBelow = undefined;
      gained = movedArcs(prev, next)
        .filter((a) => a.owner === this.selfId && a.from !== this.selfId && canSend(a.from) && !finished(a.from))
        .map((a) => ({ start: a.start, end: a.end, from: a.from, epoch, ring, suspectBelow: lastIssued, rejoin: false }));
      this.arcs = mergeSorted(kept, gained);
    }
    for (const a of this.arcs) if (!this.heard.has(a.from)) this.heard.set(a.from, now);
    this.endRejoinWhenSettled();
    return gained;
  }

  /** The pending range holding `hash`, if any. */
  arcFor(hash: number): IncomingArc | undefined {
    const arcs = this.arcs;
    let lo = 0;
    let hi = arcs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arcs[mid]!.end < hash) lo = mid + 1;
      else hi = mid;
    }
    const a = arcs[lo];
    return a !== undefined && a.start <= hash ? a : undefined;
  }

  /** Whether this node is still rejoining (see onRingChange). */
  get rejoining(): boolean { return this.rejoinSuspectBelow !== undefined; }

  private endRejoinWhenSettled(): void {
    if (this.rejoinSuspectBelow !== undefined && !this.anyDead && !this.arcs.some((a) => a.rejoin)) this.rejoinSuspectBelow = undefined;
  }

  /** The sender that still owes the range holding `hash`, if any. */
  senderFor(hash: number): string | undefined {
    return this.arcFor(hash)?.from;
  }

  heardFrom(sender: string, now: number): void {
    if (this.heard.has(sender) || this.arcs.some((a) => a.from === sender)) this.heard.set(sender, now);
  }

  /** The sender has handed over everything it owed under its ring (`done.ring`) at `done.epoch`. */
  done(sender: string, done: SenderDone): void {
    const prev = this.doneAt.get(sender);
    this.doneAt.set(sender, { epoch: Math.max(done.epoch, prev?.epoch ?? -1), ring: done.ring });
    this.arcs = this.arcs.filter((a) => a.from !== sender || (a.epoch > done.epoch && a.ring !== done.ring));
    if (!this.arcs.some((a) => a.from === sender)) this.heard.delete(sender);
    this.endRejoinWhenSettled();
  }

  /** Gives up on senders silent for `idleMs`: a read through to them would only add latency. Returns who was dropped. */
  expire(now: number, idleMs: number): string[] {
    const gone: string[] = [];
    for (const [sender, at] of this.heard) if (now - at > idleMs) gone.push(sender);
    if (gone.length === 0) return gone;
    for (const s of gone) this.heard.delete(s);
    this.arcs = this.arcs.filter((a) => !gone.includes(a.from));
    this.endRejoinWhenSettled();
    return gone;
  }

  clear(): void {
    this.arcs = [];
    this.heard.clear();
    this.rejoinSuspectBelow = undefined;
  }
}

/** Newer ranges replace the parts of older ones they overlap (a range can only have one pending sender). */
function mergeSorted(kept: IncomingArc[], gained: IncomingArc[]): IncomingArc[] {
  if (gained.length === 0) return kept;
  const out: IncomingArc[] = [];
  for (const a of kept) {
    // Cut `a` around every gained range that overlaps it.
    let pieces: IncomingArc[] = [a];
    for (const g of gained) {
      if (g.end < a.start || g.start > a.end) continue;
      pieces = pieces.flatMap((p) => {
        if (g.end < p.start || g.start > p.end) return [p];
        const left = p.start < g.start ? [{ ...p, end: g.start - 1 }] : [];
        const right = p.end > g.end ? [{ ...p, start: g.end + 1 }] : [];
        return [...left, ...right];
      });
    }
    out.push(...pieces);
  }
  out.push(...gained);
  return out.sort((x, y) => x.start - y.start);
}
