/** How a node keeps and sends its invalidation stream (NodeConfig.invalidation). */
export interface InvalidationConfig {
  /** Changes kept for INVALIDATIONS_SINCE replays; a gap older than this costs the client a flush. */
  logMaxEntries: number;
  /** Byte bound on the same log (keys may be long). */
  logMaxBytes: number;
  /**
   * How often every subscriber hears from the node even when nothing changed. It bounds how long a
   * lost push goes unnoticed, and clients drop a node's L1 entries after 3 silent periods.
   */
  heartbeatMs: number;
  /** Tracking mode: (key → connections) pairs remembered; past it the oldest key is invalidated and forgotten. */
  maxTrackedKeys: number;
  /** Pushes are skipped (the subscriber then sees a gap and replays) while a connection has this much unsent output. */
  pushBacklogBytes: number;
  /** Enables the INVALIDATION_FAULTS op (drop pushes, cut connections). Never in production. */
  testHooks: boolean;
}

export const defaultInvalidationConfig: Readonly<InvalidationConfig> = Object.freeze({
  logMaxEntries: 65_536,
  logMaxBytes: 8 * 1024 * 1024,
  heartbeatMs: 100,
  maxTrackedKeys: 1_000_000,
  pushBacklogBytes: 4 * 1024 * 1024,
  testHooks: false,
});

export function resolveInvalidationConfig(partial: Partial<InvalidationConfig> = {}): InvalidationConfig {
  const c = { ...defaultInvalidationConfig, ...stripUndefined(partial) };
  for (const k of ['logMaxEntries', 'logMaxBytes', 'heartbeatMs', 'maxTrackedKeys', 'pushBacklogBytes'] as const)
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) throw new RangeError(`invalidation.${k} must be a positive integer, got ${String(c[k])}`);
  return c;
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
