/** Defaults for every limit a node enforces. All are configurable on the node; these are safe for a LAN. */
export const DefaultLimits = {
  /** Largest frame payload a node accepts; checked from the 4-byte header before any allocation. */
  maxFrameBytes: 4 * 1024 * 1024,
  maxKeyBytes: 1024,
  maxValueBytes: 1024 * 1024,
  maxConnections: 10_000,
  idleTimeoutMs: 5 * 60_000,
  /** Above this many unwritten reply bytes the node stops reading from the connection. */
  outputBufferSoftBytes: 8 * 1024 * 1024,
  /** Above this, or paused longer than outputBufferPauseMs, the connection is dropped. */
  outputBufferHardBytes: 32 * 1024 * 1024,
  outputBufferPauseMs: 10_000,
} as const;

export type Limits = { -readonly [K in keyof typeof DefaultLimits]: number };

/** Parses sizes like "256mb", "1.5GiB", "64k", "1048576". Throws a clear Error on anything else. */
export function parseBytes(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`invalid size: ${input}`);
    return Math.floor(input);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(input);
  if (!m) throw new Error(`invalid size "${input}": use a number of bytes or a unit, e.g. 512kb, 256mb, 2gb`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : unit === 't' ? 1024 ** 4 : 1;
  return Math.floor(Number(m[1]) * mult);
}

/** Parses durations like "500ms", "30s", "5m", "1h", or a plain number of milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(input);
  if (!m) throw new Error(`invalid duration "${input}": use e.g. 250ms, 30s, 5m, 1h`);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const mult = unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1;
  return Math.round(Number(m[1]) * mult);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
