import { Ops } from '@corral/protocol';
import type { NodeConnection, NodeConnectionOptions } from './node-connection';
import { clientError } from './errors';
import { firstSeedThat } from './seeds';
import { ownsKeys, parseTopology, type Topology } from './topology';

export interface Discovered {
  /** The seed connection the topology came over; the router keeps it for that member. */
  conn: NodeConnection;
  /** Undefined when the node predates TOPOLOGY: it is a single node that owns every key. */
  topology: Topology | undefined;
}

/**
 * The first seed that answers TOPOLOGY with a usable topology. A seed whose topology has no member
 * owning keys is skipped like one that does not answer: routing cannot start from it, and another
 * seed may know better.
 */
export function discoverTopology(seeds: readonly string[], opts: Omit<NodeConnectionOptions, 'host' | 'port'>): Promise<Discovered> {
  return firstSeedThat(seeds, opts, async (conn) => {
    let reply: unknown;
    try {
      reply = await conn.request(Ops.TOPOLOGY, []);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'E_UNKNOWN_OP') return undefined;
      throw e;
    }
    const t = parseTopology(reply);
    if (!t.members.some(ownsKeys)) throw clientError('E_INTERNAL', `its topology (epoch ${t.epoch}) has no member that owns keys`);
    return t;
  }).then(({ conn, value }) => ({ conn, topology: value }));
}
