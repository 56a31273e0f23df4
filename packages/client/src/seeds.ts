import { clientError } from './errors';
import { NodeConnection, type NodeAddress, type NodeConnectionOptions } from './node-connection';

/** Parses "host:port", "[v6]:port" or a bare port (loopback). */
export function parseAddress(seed: string): NodeAddress {
  const s = seed.trim();
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65536))
    throw clientError('E_BAD_ARGS', `invalid seed "${seed}": use host:port, e.g. 127.0.0.1:7070`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/**
 * Tries the seeds in order and keeps the first that completes a handshake. A node that answers
 * but refuses us (E_AUTH, E_PROTOCOL_VERSION) ends the search: the next seed is configured the
 * same way and would refuse us too, and "wrong token" is more useful than "no seed answered".
 */
export async function connectFirstSeed(
  seeds: readonly string[],
  opts: Omit<NodeConnectionOptions, 'host' | 'port'>,
): Promise<NodeConnection> {
  return (await firstSeedThat(seeds, opts, async () => undefined)).conn;
}

/**
 * Like connectFirstSeed, but a seed must also pass `use` (e.g. answer TOPOLOGY) to be kept; one
 * that fails it is closed and the search goes on, as for a seed that did not connect.
 */
export async function firstSeedThat<T>(
  seeds: readonly string[],
  opts: Omit<NodeConnectionOptions, 'host' | 'port'>,
  use: (conn: NodeConnection) => Promise<T>,
): Promise<{ conn: NodeConnection; value: T }> {
  if (seeds.length === 0) throw clientError('E_BAD_ARGS', 'at least one seed is needed');
  const addresses = seeds.map(parseAddress);
  const failures: string[] = [];
  for (const addr of addresses) {
    const conn = new NodeConnection({ ...opts, ...addr });
    try {
      await conn.connect();
    } catch (e) {
      await conn.close();
      const code = (e as { code?: string }).code;
      if (code === 'E_AUTH' || code === 'E_PROTOCOL_VERSION') throw e;
      failures.push(`${conn.node}: ${(e as Error).message}`);
      continue;
    }
    try {
      return { conn, value: await use(conn) };
    } catch (e) {
      await conn.close();
      failures.push(`${conn.node}: ${(e as Error).message}`);
    }
  }
  throw clientError('E_NOT_CONNECTED', `no seed answered (${failures.join('; ')})`, { seeds: [...seeds] });
}
