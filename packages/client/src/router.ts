import type { OpSpec } from '@corral/protocol';
import type { NodeConnection, RequestOptions } from './node-connection';

/**
 * Where one keyed request goes and how it is sent. A cluster router's route attaches routing
 * hints (ring epoch, fallback) and tells the node's circuit breaker how the request went; the
 * plain route just sends on the connection. Corral batches multi-key calls per route object, so
 * a router hands out the same object for the same (node, hints) within an epoch.
 */
export interface Route {
  /** The node's id (its "host:port" in a cluster). */
  readonly node: string;
  /** The connection the request goes out on; its limits check keys and values before sending. */
  readonly conn: NodeConnection;
  /** The ring epoch this route was chosen under; unset outside a cluster. */
  readonly epoch?: number;
  /** True when the node stands in for a key's owner whose breaker is open. */
  readonly fallback?: boolean;
  request(op: OpSpec, args: readonly unknown[], opts?: RequestOptions): Promise<unknown>;
}

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
  /** The route for `key`; without it Corral sends on `connectionFor(key)` as is. */
  routeFor?(key: string): Route;
  /**
   * Called with the error of a keyed request sent on `route`. Resolving true means the router has
   * learned something (a newer topology) that makes routing the key again worth it: Corral does,
   * once. Without it, errors are surfaced as they are.
   */
  shouldRetry?(err: unknown, route: Route): Promise<boolean>;
}

/** One node owns every key. */
export class SingleNodeRouter implements Router {
  constructor(private readonly conn: NodeConnection) {}

  connectionFor(): NodeConnection { return this.conn; }
  connections(): readonly NodeConnection[] { return [this.conn]; }
  close(): Promise<void> { return this.conn.close(); }
}

const plainRoutes = new WeakMap<NodeConnection, Route>();

/** The route of a router that has no routeFor: the connection, no hints. One object per connection, for batching. */
export function plainRoute(conn: NodeConnection): Route {
  let r = plainRoutes.get(conn);
  if (!r) {
    r = {
      get node() { return conn.hello?.node || conn.node; },
      conn,
      request: (op, args, opts) => conn.request(op, args, opts),
    };
    plainRoutes.set(conn, r);
  }
  return r;
}
