import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port" or "[v6]:port"; undefined for anything else (addresses arrive from the wire). */
export function parseHostPort(addr: string): HostPort | undefined {
  if (addr.length === 0 || addr.length > 300) return undefined;
  let host: string;
  let portText: string;
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']:');
    if (close < 0) return undefined;
    host = addr.slice(1, close);
    portText = addr.slice(close + 2);
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon <= 0) return undefined;
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (host.includes(':')) return undefined;
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65_535 || host.length === 0) return undefined;
  return { host, port };
}

export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** The address peers should dial: advertiseHost, else the bind host, else a non-internal IP. */
export function advertisedHost(bindHost: string, advertiseHost?: string): string {
  if (advertiseHost) return advertiseHost;
  if (!isWildcard(bindHost)) return bindHost;
  const wantV6 = bindHost === '::';
  for (const list of Object.values(networkInterfaces())) {
    for (const nic of list ?? []) {
      if (nic.internal) continue;
      if ((nic.family === 'IPv6') === wantV6) return nic.address;
    }
  }
  return wantV6 ? '::1' : '127.0.0.1';
}
