import type { NodeStream } from './node-stream';

/** Bytes an entry costs besides its key and value (object, list links, index slots). */
export const ENTRY_OVERHEAD_BYTES = 160;

/**
 * One cached value and where it came from: the node that served it and that node's stream
 * position when the read was sent (epoch, seq), so a gap, a restart or a lost connection of that
 * node drops exactly what it vouched for. Linked into its namespace's LRU list.
 */
export class L1Entry {
  prev: L1Entry | null = null;
  next: L1Entry | null = null;
  /** Global use counter at the last hit: the oldest tail over all namespaces is the LRU victim. */
  usedAt = 0;

  constructor(
    readonly key: string,
    readonly ns: string,
    readonly value: unknown,
    readonly bytes: number,
    readonly version: number,
    /** Monotonic ms after which it is not served (its TTL on the node, capped by maxTtlMs). */
    readonly expiresAt: number,
    readonly stream: NodeStream,
    readonly epoch: number,
    readonly seq: number,
  ) {}
}
