import type { NodeConnection } from './node-connection';

/**
 * Where a request goes. Corral asks the router and never holds a connection itself, so cluster
 * routing over the hash ring replaces SingleNodeRouter without touching the public API.
 */
export interface Router {
  /** The connection to the node that owns `key`. */
  connectionFor(key: string): NodeConnection;
  /** Every node's connection, for ops about no key (ping, stats, flush). */
  connections(): readonly NodeConnection[];
  close(): Promise<void>;
}

/** One node owns every key. */
export class SingleNodeRouter implements Router {
  constructor(private readonly conn: NodeConnection) {}

  connectionFor(): NodeConnection { return this.conn; }
  connections(): readonly NodeConnection[] { return [this.conn]; }
  close(): Promise<void> { return this.conn.close(); }
}
