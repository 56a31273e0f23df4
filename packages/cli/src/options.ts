import { InvalidArgumentError, Option } from 'commander';
import { parseBytes, parseDuration } from '@corral/protocol';

/** Every node flag has an environment twin (CORRAL_<FLAG>), shown in --help. */
export function envOption(flags: string, description: string, env: string): Option {
  return new Option(flags, description).env(env);
}

const wrap = <T>(parse: (s: string) => T) => (value: string): T => {
  try {
    return parse(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

export const asBytes = wrap(parseBytes);
export const asDuration = wrap(parseDuration);
export const asInt = wrap((s: string) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`"${s}" is not a non-negative integer`);
  return n;
});
/** The same parse, refusing 0: for settings where 0 would not mean "off" but "nothing works". */
export const positive = (parse: (s: string) => number) => (value: string): number => {
  const n = parse(value);
  if (!(n > 0)) throw new InvalidArgumentError(`"${value}" must be more than 0`);
  return n;
};
export const asFraction = wrap((s: string) => {
  const n = Number(s);
  if (!(n > 0 && n <= 1)) throw new Error(`"${s}" is not a fraction in (0, 1]`);
  return n;
});
export const asJsonObject = wrap((s: string) => {
  const v: unknown = JSON.parse(s);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object, e.g. \'{"expiryIntervalMs":50}\'');
  return v as Record<string, unknown>;
});
/** Milliseconds the way --help shows a default duration: 100ms, 1s, 5m, 1h. */
export function formatMs(ms: number): string {
  for (const [unit, n] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms >= n && ms % n === 0) return `${ms / n}${unit}`;
  return `${ms}ms`;
}
export const asPort = wrap((s: string) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${s}" is not a port (0..65535)`);
  return n;
});

/** Parses "host:port" (IPv6 as [::1]:port). */
export function parseAddress(s: string, defaultPort = 7070): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m) throw new InvalidArgumentError(`"${s}" is not host:port`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidArgumentError(`"${s}" has no valid port`);
  return { host: m[1]!, port };
}
export const asAddress = (s: string) => {
  parseAddress(s);
  return s;
};
