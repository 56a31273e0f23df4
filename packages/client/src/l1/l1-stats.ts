import type { DropReason } from './near-cache';

/** Why a node's entries were dropped all at once. */
export type FlushReason = 'connection' | 'epoch' | 'replay' | 'silence' | 'flush' | 'removed';

/** What the L1 did (Corral.l1Stats()). Counters only go up; `entries`/`bytes`/`hotKeys` are gauges. */
export interface L1Stats {
  enabled: boolean;
  mode: 'tracking' | 'broadcast' | 'none';
  entries: number;
  bytes: number;
  /** Reads answered from the L1. */
  hits: number;
  /** Reads the L1 could not answer (absent, expired, or its node not vouching right now). */
  misses: number;
  /** Of the misses: found on a node (an L2 hit) or not there either. */
  l2Hits: number;
  l2Misses: number;
  /** hits / (hits + misses). */
  hitRatio: number;
  fills: number;
  /** Replies not cached because an invalidation of their key arrived while they were out. */
  fillsRefused: number;
  /** Replies not cached because their node's stream was not in sync, or they came from a fallback node. */
  fillsRefusedUnsynced: number;
  messagesReceived: number;
  heartbeatsReceived: number;
  /** Keys named by invalidation pushes and replays. */
  invalidationsReceived: number;
  gapsDetected: number;
  /** Gaps repaired by a replay from the node's log (no flush). */
  rangesReplayed: number;
  /** Gaps the node's log no longer covered (the node's entries were dropped). */
  replaysLost: number;
  /** Replays that failed (timeout, connection lost): the node's entries were dropped. */
  replaysFailed: number;
  /** Node streams that changed epoch (a restart). */
  epochChanges: number;
  /** Wholesale drops of a node's entries, by reason, and how many entries they took. */
  flushes: Record<FlushReason, number>;
  entriesDroppedByFlush: number;
  /** Entries dropped one by one, by reason. */
  dropped: Record<DropReason, number>;
  /** Hot keys known from the nodes' heartbeats, and reads sent to a non-owner for one. */
  hotKeys: number;
  hotReads: number;
  hotReadsRefused: number;
  /** Reads that went to a node (L1 misses, hot reads), by node. */
  readsByNode: Record<string, number>;
  /** Of those, the reads of hot keys (sent to any member), by node: how well one key's load is spread. */
  hotReadsByNode: Record<string, number>;
  namespaces: Record<string, { entries: number; bytes: number }>;
  /** Each node's invalidation stream as this client follows it. */
  nodes: Record<string, { status: 'unsynced' | 'synced' | 'repairing'; epoch: number; seq: number; entries: number; hotKeys: number }>;
}

export type L1Counters = Omit<L1Stats, 'enabled' | 'mode' | 'entries' | 'bytes' | 'hitRatio' | 'dropped' | 'hotKeys' | 'namespaces' | 'nodes'>;

export function newL1Counters(): L1Counters {
  return {
    hits: 0, misses: 0, l2Hits: 0, l2Misses: 0, fills: 0, fillsRefused: 0, fillsRefusedUnsynced: 0,
    messagesReceived: 0, heartbeatsReceived: 0, invalidationsReceived: 0, gapsDetected: 0, rangesReplayed: 0,
    replaysLost: 0, replaysFailed: 0, epochChanges: 0,
    flushes: { connection: 0, epoch: 0, replay: 0, silence: 0, flush: 0, removed: 0 },
    entriesDroppedByFlush: 0, hotReads: 0, hotReadsRefused: 0, readsByNode: {}, hotReadsByNode: {},
  };
}
