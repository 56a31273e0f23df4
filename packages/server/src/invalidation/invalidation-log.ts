/** The changes after a sequence number, as INVALIDATIONS_SINCE returns them. */
export interface LogRange {
  from: number;
  to: number;
  keys: Array<string | null>;
  versions: number[];
}

/** Accounting per entry beyond the key's characters (slots in two arrays, the seq arithmetic). */
const ENTRY_OVERHEAD_BYTES = 24;

/**
 * The recent past of one invalidation stream: a ring buffer of (key, version) by sequence number,
 * bounded by entry count and by bytes (keys may be up to a KiB each). A subscriber that missed a
 * push asks for the range after the last seq it saw; when the oldest entries have already been
 * overwritten the answer is "lost" and the subscriber must drop what it holds from this node.
 * Sequence numbers are implicit: slot i holds seq `first + i` (mod capacity).
 */
export class InvalidationLog {
  private readonly keys: Array<string | null>;
  private readonly versions: Float64Array;
  private head = 0; // slot of the oldest entry
  private count = 0;
  private firstSeq = 1; // seq of the oldest entry held (or of the next one, when empty)
  private bytes = 0;

  constructor(readonly maxEntries: number, readonly maxBytes: number) {
    if (!(maxEntries >= 1) || !Number.isSafeInteger(maxEntries)) throw new RangeError(`maxEntries must be an integer >= 1, got ${maxEntries}`);
    this.keys = new Array<string | null>(maxEntries).fill(null);
    this.versions = new Float64Array(maxEntries);
  }

  get size(): number { return this.count; }
  get byteSize(): number { return this.bytes; }
  /** The oldest seq a replay can start from. */
  get oldestSeq(): number { return this.firstSeq; }

  /** Records the change with sequence number `seq`, which must follow the previous one. */
  append(seq: number, key: string | null, version: number): void {
    if (this.count > 0 && seq !== this.firstSeq + this.count)
      throw new RangeError(`seq ${seq} does not follow ${this.firstSeq + this.count - 1}`);
    if (this.count === 0) this.firstSeq = seq;
    const size = entryBytes(key);
    while (this.count > 0 && (this.count >= this.maxEntries || this.bytes + size > this.maxBytes)) this.dropOldest();
    if (this.count === 0) this.firstSeq = seq;
    const slot = (this.head + this.count) % this.maxEntries;
    this.keys[slot] = key;
    this.versions[slot] = version;
    this.count++;
    this.bytes += size;
  }

  /**
   * Every change after `afterSeq` up to the newest, or undefined when some of them are gone.
   * `current` is the stream's newest seq, so an empty log still answers "nothing since".
   */
  since(afterSeq: number, current: number): LogRange | undefined {
    if (afterSeq >= current) return { from: current + 1, to: current, keys: [], versions: [] };
    if (this.count === 0 || afterSeq + 1 < this.firstSeq) return undefined;
    const keys: Array<string | null> = [];
    const versions: number[] = [];
    for (let seq = afterSeq + 1; seq <= current; seq++) {
      const slot = (this.head + (seq - this.firstSeq)) % this.maxEntries;
      keys.push(this.keys[slot]!);
      versions.push(this.versions[slot]!);
    }
    return { from: afterSeq + 1, to: current, keys, versions };
  }

  /** Bytes the keys of `since(afterSeq)` would take, without building it (to refuse huge replays early). */
  bytesSince(afterSeq: number): number {
    let n = 0;
    for (let seq = Math.max(afterSeq + 1, this.firstSeq); seq < this.firstSeq + this.count; seq++)
      n += entryBytes(this.keys[(this.head + (seq - this.firstSeq)) % this.maxEntries]!);
    return n;
  }

  private dropOldest(): void {
    this.bytes -= entryBytes(this.keys[this.head]!);
    this.keys[this.head] = null;
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
    this.firstSeq++;
  }
}

function entryBytes(key: string | null): number {
  // What the key costs in the heap (V8 strings take 1 or 2 bytes a character), not on the wire.
  return ENTRY_OVERHEAD_BYTES + (key === null ? 0 : key.length * 2);
}
