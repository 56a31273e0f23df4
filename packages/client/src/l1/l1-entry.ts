import type { NodeStream } from './node-stream';

/** Bytes an entry costs besides its key and value (object, list links, index slots). */
export const ENTRY_OVERHEAD_BYTES = 160;

/**
 * One cached value and where it came from: the node that served it and that node's stream
 * position when the read was sent (epoch, seq), so a gap, a restart or a lost connection of that
 * node drops exactly what it vouched for. Linked into its namespace's recency list (see LruPartition).
 */
export class L1Entry {
  prev: L1Entry | null = null;
  next: L1Entry | null = null;
  /** Global use counter at the last hit: the oldest tail over all namespaces is the LRU victim. */
  usedAt = 0;
  /** Global use counter when it was put at the head of its list: used since then = a second chance. */
  linkedAt = 0;

  constructor(
    readonly key: string,
    readonly ns: string,
    // The rest changes in place when the same key is stored again (a write-fill): no reallocation,
    // no map churn on the write path.
    public value: unknown,
    public bytes: number,
    public version: number,
    /** Monotonic ms after which it is not served (its TTL on the node, capped by maxTtlMs). */
    public expiresAt: number,
    public stream: NodeStream,
    public epoch: number,
    public seq: number,
  ) {}
}
