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
