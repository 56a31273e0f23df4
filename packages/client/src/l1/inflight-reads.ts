import type { NodeStream } from './node-stream';

/**
 * A read on its way (the Redis docs' "placeholder"): an invalidation of its key that arrives while
 * it is out means its reply may predate the change, so it must not be cached. With versions the
 * rule can be kept exactly rather than bluntly: an invalidation to version v spoils only a reply
 * older than v (a reply at v or newer already shows the change); one without a version (delete,
 * expiry, flush) spoils it whatever it says.
 */
export class ReadToken {
  poisoned = false;
  /** The reply must be at least this version. */
  minVersion = 0;

  constructor(
    readonly key: string,
    readonly stream: NodeStream,
    /** The node's stream generation when the read left: a wholesale drop since spoils it. */
    readonly gen: number,
    /** The stream position when the read left: the entry's (epoch, seq). */
    readonly seq: number,
    /** Topology changes since spoil it too (the key may have moved). */
    readonly topologyGen: number,
  ) {}
}

export class InflightReads {
  private readonly byKey = new Map<string, ReadToken | Set<ReadToken>>();

  get size(): number { return this.byKey.size; }

  begin(key: string, stream: NodeStream, topologyGen: number): ReadToken {
    const t = new ReadToken(key, stream, stream.gen, stream.covered, topologyGen);
    const cur = this.byKey.get(key);
    // One read per key is the common case: no Set for it.
    if (cur === undefined) this.byKey.set(key, t);
    else if (cur instanceof Set) cur.add(t);
    else this.byKey.set(key, new Set([cur, t]));
    return t;
  }

  end(t: ReadToken): void {
    const cur = this.byKey.get(t.key);
    if (cur === t) this.byKey.delete(t.key);
    else if (cur instanceof Set) {
      cur.delete(t);
      if (cur.size === 0) this.byKey.delete(t.key);
    }
  }

  /** `key` changed to `version` (0: no version): spoils the reads of it now out. */
  invalidate(key: string, version: number): void {
    const cur = this.byKey.get(key);
    if (cur === undefined) return;
    if (cur instanceof Set) for (const t of cur) spoil(t, version);
    else spoil(cur, version);
  }

  /** Everything changed (a FLUSH from a node whose keys we cannot tell apart from others'). */
  invalidateAll(): void {
    for (const cur of this.byKey.values()) {
      if (cur instanceof Set) for (const t of cur) t.poisoned = true;
      else cur.poisoned = true;
    }
  }
}

function spoil(t: ReadToken, version: number): void {
  if (version === 0) t.poisoned = true;
  else if (version > t.minVersion) t.minVersion = version;
}
