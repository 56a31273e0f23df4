import { stripUndefined } from '../invalidation/invalidation-config';

/** When a key counts as hot and how far it is copied (NodeConfig.hotKeys). */
export interface HotKeyConfig {
  /** Off: nothing is counted, copied or logged. */
  enabled: boolean;
  /**
   * A key turns hot when its decayed read count reaches this. Each read adds 1 and the count halves
   * every `halfLifeMs`, so a steady r reads/s settles at about 1.44 × r × halfLifeMs / 1000.
   */
  threshold: number;
  halfLifeMs: number;
  /** A hot key cools once its count (reads here plus reads its copies served) falls below threshold × this. */
  coolFraction: number;
  /** Hot keys per owner; further crossings are logged but not copied. */
  maxHotKeys: number;
  /** Keys counted at once; past it the coldest are swept out. */
  maxCounted: number;
  /** Copies of other owners' hot keys this node holds, by count and bytes. */
  maxCopies: number;
  maxCopyBytes: number;
  /** Timeout of node → node requests (HOT_SYNC, fetching a copy, replays). */
  peerTimeoutMs: number;
}

export const defaultHotKeyConfig: Readonly<HotKeyConfig> = Object.freeze({
  enabled: true,
  threshold: 2_000,
  halfLifeMs: 1_000,
  coolFraction: 0.25,
  maxHotKeys: 32,
  maxCounted: 10_000,
  maxCopies: 1_024,
  maxCopyBytes: 64 * 1024 * 1024,
  peerTimeoutMs: 1_000,
});

export function resolveHotKeyConfig(partial: Partial<HotKeyConfig> = {}): HotKeyConfig {
  const c = { ...defaultHotKeyConfig, ...stripUndefined(partial) };
  for (const k of ['threshold', 'halfLifeMs', 'maxHotKeys', 'maxCounted', 'maxCopies', 'maxCopyBytes', 'peerTimeoutMs'] as const)
    if (!(c[k] > 0)) throw new RangeError(`hotKeys.${k} must be > 0, got ${String(c[k])}`);
  if (!(c.coolFraction > 0 && c.coolFraction <= 1)) throw new RangeError(`hotKeys.coolFraction must be in (0, 1], got ${c.coolFraction}`);
  return c;
}
