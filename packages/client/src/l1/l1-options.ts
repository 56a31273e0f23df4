import { clientError } from '../errors';

/** `CorralOptions.l1`: the near cache. Absent or false: no L1. */
export interface L1Options {
  /** Entries kept at most (over all namespaces). Default 10 000. */
  maxEntries?: number;
  /** Bytes kept at most: keys, encoded values and per-entry overhead. Default 64 MiB. */
  maxBytes?: number;
  /**
   * The longest an entry is served from the L1, whatever its TTL on the node: the safety net under
   * the invalidation machinery (a bug there is then stale for at most this long). Default 60 s.
   */
  maxTtlMs?: number;
  /**
   * How the nodes tell this client what changed (docs/l1.md has the measured cost of each):
   * 'tracking' (default) — only keys this client read, each told once until read again;
   * 'broadcast' — every change (under `prefixes`, when given), whether read or not.
   */
  mode?: 'tracking' | 'broadcast';
  /** Broadcast only: the key prefixes to hear about (and the only keys cached). */
  prefixes?: string[];
  /**
   * Tenants: the namespace of a key. Each namespace is its own LRU with its own bounds
   * (maxEntriesPerNamespace, maxBytesPerNamespace), so one tenant's working set cannot evict
   * another's, and stats are per namespace. Default: one namespace for every key.
   */
  namespaceOf?: (key: string) => string;
  maxEntriesPerNamespace?: number;
  maxBytesPerNamespace?: number;
  /** Namespaces kept at most; keys of further namespaces are not cached. Default 64. */
  maxNamespaces?: number;
  /**
   * A node not heard from for this long (no push, no heartbeat) has its entries dropped: the bound
   * on staleness when pushes are lost silently. Default 3 × the node's heartbeat period.
   */
  heartbeatTimeoutMs?: number;
}

/** `CorralOptions.hotKeys`: reading hot keys from any node. */
export interface HotKeyReadOptions {
  /** Default true once the client subscribes (l1 set, or hotKeys given). */
  enabled?: boolean;
  /** Read hot keys from this member when it is up (local affinity: the node on this host); default a random member per read. */
  prefer?: string;
}

export interface ResolvedL1Options {
  enabled: boolean;
  maxEntries: number;
  maxBytes: number;
  maxTtlMs: number;
  mode: 'tracking' | 'broadcast' | 'none';
  prefixes: string[];
  namespaceOf: ((key: string) => string) | undefined;
  maxEntriesPerNamespace: number;
  maxBytesPerNamespace: number;
  maxNamespaces: number;
  heartbeatTimeoutMs: number | undefined;
  hotKeys: boolean;
  prefer: string | undefined;
}

export const L1Defaults = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxTtlMs: 60_000,
  maxNamespaces: 64,
} as const;

/** Undefined when the client needs no subscription at all (no L1, no hot-key reads). */
export function resolveL1Options(l1: L1Options | boolean | undefined, hot: HotKeyReadOptions | boolean | undefined): ResolvedL1Options | undefined {
  const o: L1Options | undefined = l1 === true ? {} : l1 === false ? undefined : l1;
  const h: HotKeyReadOptions | undefined = hot === true ? {} : hot === false ? { enabled: false } : hot;
  const hotOn = h?.enabled ?? (o !== undefined || h !== undefined);
  if (o === undefined && !hotOn) return undefined;
  const positive = (name: string, v: number | undefined, dflt: number): number => {
    const x = v ?? dflt;
    if (!(x > 0) || !Number.isFinite(x)) throw clientError('E_BAD_ARGS', `l1.${name} must be a positive number (got ${String(v)})`);
    return x;
  };
  const maxEntries = positive('maxEntries', o?.maxEntries, L1Defaults.maxEntries);
  const maxBytes = positive('maxBytes', o?.maxBytes, L1Defaults.maxBytes);
  const mode = o === undefined ? 'none' : o.mode ?? 'tracking';
  if (mode !== 'tracking' && mode !== 'broadcast' && mode !== 'none')
    throw clientError('E_BAD_ARGS', `l1.mode must be 'tracking' or 'broadcast' (got ${String(mode)})`);
  if (o?.prefixes !== undefined && mode !== 'broadcast') throw clientError('E_BAD_ARGS', 'l1.prefixes needs mode: \'broadcast\'');
  return {
    enabled: o !== undefined,
    maxEntries,
    maxBytes,
    maxTtlMs: positive('maxTtlMs', o?.maxTtlMs, L1Defaults.maxTtlMs),
    mode,
    prefixes: o?.prefixes ?? [],
    namespaceOf: o?.namespaceOf,
    maxEntriesPerNamespace: positive('maxEntriesPerNamespace', o?.maxEntriesPerNamespace, maxEntries),
    maxBytesPerNamespace: positive('maxBytesPerNamespace', o?.maxBytesPerNamespace, maxBytes),
    maxNamespaces: positive('maxNamespaces', o?.maxNamespaces, L1Defaults.maxNamespaces),
    heartbeatTimeoutMs: o?.heartbeatTimeoutMs === undefined ? undefined : positive('heartbeatTimeoutMs', o.heartbeatTimeoutMs, 1),
    hotKeys: hotOn,
    prefer: h?.prefer,
  };
}
