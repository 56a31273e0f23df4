import type { DecodedValue } from './value-codec';

/** A key that was written and acknowledged, not evicted, not expired, not overwritten, and then could not be read. */
export interface LostKey {
  key: string;
  /** The step during which it was found unreadable (-1: before the timeline). */
  step: number;
  /** ms since the run started. */
  atMs: number;
  detectedBy: 'read' | 'sweep';
  lastAckedSeq: number;
  lastAckedVersion: number;
  /** The node that owned it (as the client routed) when its last write was acknowledged. */
  ownerAtWrite: string | undefined;
  /** Wall-clock time, to line it up with the node logs. */
  atWall: string;
  /**
   * A later read (or a refill refused because the key exists) found the very same write again: it
   * was unreadable for a while, not gone. Such keys are reported as unavailable, not as lost.
   */
  cameBack: boolean;
  /** The key's last acknowledged writes (client, ring epoch, owner, times), oldest first: to trace it. */
  writes?: WriteRecord[];
}

export type ReadVerdict = 'hit' | 'stale' | 'miss' | 'lost' | 'foreign' | 'away';

/** Who made an acknowledged write and how it was routed: what a stale read is traced back with. */
export interface WriteContext {
  /** The client's name (harness-client-N), or 'preload'. */
  client?: string;
  /** The client's ring epoch when it sent the write and when the acknowledgement came back. */
  epochAtSend?: number;
  epochAtAck?: number;
  /** The key's owner in the client's ring when it sent the write (the node it went to, unless `gutter`). */
  ownerAtSend?: string;
  /** The owner's breaker was not closed when it was sent or acknowledged: it went to a gutter. */
  gutter?: boolean;
  /** A refill (SET nx of the value the origin holds), not a fresh write. */
  refill?: boolean;
  /** Wall-clock ms (Date.now()) when it was sent, to line it up with the node logs. */
  sentWall?: number;
}

/** One acknowledged write of a key, as the ledger keeps the last few of each key. */
export interface WriteRecord extends WriteContext {
  seq: number;
  version: number;
  /** ms since the run started. */
  sentAtMs: number;
  ackedAtMs: number;
  /** The owner in the client's ring when it was acknowledged. */
  owner: string | undefined;
  ackedWall: number;
}

/** The read's side of a stale read: who read, by which ring, routed where. */
export interface ReadContext {
  client: string;
  step: number;
  sentAtMs: number;
  atMs: number;
  sentWall: number;
  epochAtSend: number;
  epochAtReply: number;
  ownerAtSend: string;
  ownerAtReply: string;
  /** The owner's breaker in the reading client when the read was sent (not 'closed': the read went to a gutter). */
  ownerBreakerAtSend: string | undefined;
}

/** A read that returned an older write than the last one acknowledged before it was sent. */
export interface StaleRead extends ReadContext {
  key: string;
  atWall: string;
  /** The write the read returned and the last acknowledged write it should have seen (at least). */
  readSeq: number;
  expectedSeq: number;
  /** The key's acknowledged writes the ledger still holds (the last few), oldest first. */
  writes: WriteRecord[];
  /**
   * Right after the stale read, what each node up held for the key (HANDOFF_GET: the store as it
   * is, no read-through) and its ring epoch: where the missed write went, and who still had the old one.
   */
  probe?: { atMs: number; nodes: Record<string, { seq: number | null; version: number | null; epoch: number | null } | { error: string }> };
}

/** Acknowledged writes kept per key for tracing stale reads. */
const HISTORY = 6;

const LIVE = 0;
const LOST = 1;

/**
 * What the run knows about every key: the last write the cluster acknowledged (sequence number,
 * version, when, who owned it, when its TTL may run out) and whether a write is in flight. Reads
 * are judged against it:
 *
 * - a miss is a *loss* when the last acknowledged write finished before the read was sent and
 *   cannot have expired (its TTL, or the gutter TTL when the owner's breaker was open, counted
 *   from when the write was *sent*, the earliest it could have started);
 * - a value older than the last write acknowledged before the read was sent is a *stale read*.
 *
 * One write per key at a time (the workload asks `beginWrite` first), so "the last acknowledged
 * write" is well defined without trusting clocks.
 */
export class KeyLedger {
  private readonly ackedSeq: Uint32Array;
  private readonly issuedSeq: Uint32Array;
  private readonly ackedVersion: Float64Array;
  private readonly ackedAt: Float64Array;
  private readonly expiresAt: Float64Array;
  private readonly ownerAt: Int16Array;
  private readonly state: Uint8Array;
  private readonly inFlight: Uint8Array;
  private readonly owners: string[] = [];
  private readonly lostByKey = new Map<number, LostKey>();
  readonly lost: LostKey[] = [];
  private readonly history = new Map<number, WriteRecord[]>();
  readonly stale: StaleRead[] = [];
  /**
   * Members restarting from a snapshot right now (planned, announced by the harness). A key last
   * written to one of them is away until it is back, not lost: a miss meanwhile is judged 'away'
   * (nothing recorded, no refill) and the sweep after the step judges the key for real.
   */
  readonly plannedAway = new Set<string>();

  constructor(readonly size: number, private readonly keyName: (i: number) => string) {
    this.ackedSeq = new Uint32Array(size);
    this.issuedSeq = new Uint32Array(size);
    this.ackedVersion = new Float64Array(size);
    this.ackedAt = new Float64Array(size).fill(Infinity);
    this.expiresAt = new Float64Array(size).fill(Infinity);
    this.ownerAt = new Int16Array(size).fill(-1);
    this.state = new Uint8Array(size);
    this.inFlight = new Uint8Array(size);
  }

  /** Reserves the key for one write; undefined when a write to it is already in flight. */
  beginWrite(i: number, fresh: boolean): number | undefined {
    if (this.inFlight[i]) return undefined;
    this.inFlight[i] = 1;
    // A refill writes the value the origin holds, i.e. the last acknowledged one: same sequence number.
    if (fresh) this.issuedSeq[i] = this.issuedSeq[i]! + 1;
    return fresh ? this.issuedSeq[i]! : this.ackedSeq[i]!;
  }

  /**
   * The write of `seq` was acknowledged with `version`. `ttlMs` is the TTL it may have got
   * (the gutter's when the owner was down), counted from `sentAt`.
   */
  ackWrite(i: number, seq: number, version: number, sentAt: number, now: number, ttlMs: number | undefined, owner: string | undefined,
    ctx: WriteContext = {}): void {
    this.inFlight[i] = 0;
    let h = this.history.get(i);
    if (!h) this.history.set(i, h = []);
    h.push({ seq, version, sentAtMs: Math.round(sentAt * 10) / 10, ackedAtMs: Math.round(now * 10) / 10, owner, ackedWall: Date.now(), ...ctx });
    if (h.length > HISTORY) h.shift();
    if (seq < this.ackedSeq[i]!) return;
    this.ackedSeq[i] = seq;
    this.ackedVersion[i] = version;
    this.ackedAt[i] = now;
    this.expiresAt[i] = ttlMs === undefined ? Infinity : sentAt + ttlMs;
    this.ownerAt[i] = owner === undefined ? -1 : this.ownerIndex(owner);
    this.state[i] = LIVE;
  }

  /** The write failed or its outcome is unknown: it may or may not have landed, which changes nothing we judge by. */
  endWrite(i: number): void {
    this.inFlight[i] = 0;
  }

  /** The write was refused because the key exists (a refill with nx): someone else's write got there first. */
  isWriting(i: number): boolean {
    return this.inFlight[i] === 1;
  }

  /** What a read sent now must at least see. */
  expectation(i: number): { seq: number; ackedAt: number } {
    return { seq: this.ackedSeq[i]!, ackedAt: this.ackedAt[i]! };
  }

  /**
   * Judges a read sent at `sentAt` when the key's last acknowledged write was `expected`.
   * `value` undefined is a miss; a value that does not decode as ours is 'foreign'.
   */
  judge(i: number, sentAt: number, now: number, expected: { seq: number; ackedAt: number }, value: DecodedValue | undefined | 'foreign',
    ctx: { step: number; detectedBy: 'read' | 'sweep' }): ReadVerdict {
    if (value === 'foreign') return 'foreign';
    if (value !== undefined) {
      const lost = this.lostByKey.get(i);
      if (lost && this.state[i] === LOST && value.seq === lost.lastAckedSeq) {
        lost.cameBack = true;
        this.state[i] = LIVE;
      }
      // Older than acknowledged, unless that write may have expired (a gutter write's short TTL) and the older copy resurfaced.
      return value.seq < expected.seq && now < this.expiresAt[i]! ? 'stale' : 'hit';
    }
    const mustExist = expected.seq > 0 && expected.ackedAt < sentAt && now < this.expiresAt[i]! && this.state[i] === LIVE;
    if (!mustExist) return 'miss';
    if (this.plannedAway.size > 0 && this.ownerAt[i]! >= 0 && this.plannedAway.has(this.owners[this.ownerAt[i]!]!)) return 'away';
    this.state[i] = LOST;
    const rec: LostKey = {
      key: this.keyName(i), step: ctx.step, atMs: Math.round(now), atWall: new Date().toISOString(), detectedBy: ctx.detectedBy,
      lastAckedSeq: this.ackedSeq[i]!, lastAckedVersion: this.ackedVersion[i]!,
      ownerAtWrite: this.ownerAt[i]! >= 0 ? this.owners[this.ownerAt[i]!] : undefined, cameBack: false,
      writes: [...(this.history.get(i) ?? [])],
    };
    this.lostByKey.set(i, rec);
    this.lost.push(rec);
    return 'lost';
  }

  /** Records a read the ledger judged 'stale', with what it knows of the key's writes; returns the record (probe it further). */
  recordStale(i: number, readSeq: number, expectedSeq: number, read: ReadContext): StaleRead {
    const rec: StaleRead = {
      key: this.keyName(i), atWall: new Date().toISOString(), readSeq, expectedSeq, ...read,
      writes: [...(this.history.get(i) ?? [])],
    };
    this.stale.push(rec);
    return rec;
  }

  /** A refill with nx was refused: the key is there after all, so a loss just recorded was only a miss. */
  foundAgain(i: number): void {
    const lost = this.lostByKey.get(i);
    if (lost && this.state[i] === LOST) {
      lost.cameBack = true;
      this.state[i] = LIVE;
    }
  }

  /**
   * Read once the cluster settled, a value older than the last acknowledged write: the cluster went
   * back in time for this key (handoff let an older version win). Only the value counts: a refill
   * rewrites the same value under a newer version, and the older copy of the same value is no regression.
   * `expected` is what was acknowledged when the read was sent: a write acknowledged while the read
   * was out may or may not be in its answer.
   */
  regressed(i: number, value: DecodedValue, expected: { seq: number }, now: number): boolean {
    return value.seq < expected.seq && now < this.expiresAt[i]!;
  }

  ackedVersionOf(i: number): number {
    return this.ackedVersion[i]!;
  }

  private ownerIndex(owner: string): number {
    let k = this.owners.indexOf(owner);
    if (k < 0) k = this.owners.push(owner) - 1;
    return k;
  }
}
