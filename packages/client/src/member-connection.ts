import { EventEmitter } from 'node:events';
import { Ops, type Clock, type OpSpec, type RequestMeta } from '@corral/protocol';
import { Backoff, DefaultBackoff } from './backoff';
import { CircuitBreaker, type BreakerOptions, type BreakerStateChange } from './circuit-breaker';
import { silentLogger, type Logger } from './logger';
import { NodeConnection, type NodeConnectionOptions, type PushEvent, type RequestOptions } from './node-connection';
import { outcomeOf } from './node-failure';
import type { Route } from './router';
import { parseAddress } from './seeds';

export interface MemberConnectionOptions {
  /** The member's id, its "host:port". */
  id: string;
  connection: Omit<NodeConnectionOptions, 'host' | 'port'>;
  breaker?: Partial<BreakerOptions>;
  clock?: Clock;
  /** An already connected connection to this member (the seed the topology came from). */
  adopt?: NodeConnection;
}

export interface MemberConnectionEvents {
  push: [push: PushEvent];
  stateChange: [change: BreakerStateChange];
  error: [error: Error];
}

interface MemberRoutes { epoch: number; owner: Route; fallback: Route }

/**
 * One cluster member as the client sees it: its pipelined connection, its circuit breaker, and the
 * routes that send to it. Every request to the member goes through `request`, so the breaker hears
 * about every outcome; the connection's own life (a drop, each refused redial) counts too, so a
 * member that dies while the client is idle is known to be down before the next call pays for it.
 */
export class MemberConnection extends EventEmitter<MemberConnectionEvents> {
  readonly id: string;
  readonly breaker: CircuitBreaker;
  /** Settles (never rejects) when the first connection attempt has: callers need not wait on a dead member. */
  readonly ready: Promise<void>;
  private connValue: NodeConnection;
  private readonly connection: Omit<NodeConnectionOptions, 'host' | 'port'>;
  private readonly backoff: Backoff;
  private readonly logger: Logger;
  private retryTimer: NodeJS.Timeout | undefined;
  private closePromise: Promise<void> | undefined;
  private routeCache: MemberRoutes | undefined;

  constructor(opts: MemberConnectionOptions) {
    super();
    this.id = opts.id;
    this.connection = opts.connection;
    this.logger = opts.connection.logger ?? silentLogger;
    this.backoff = new Backoff({
      baseMs: opts.connection.reconnect?.baseMs ?? DefaultBackoff.baseMs,
      capMs: opts.connection.reconnect?.capMs ?? DefaultBackoff.capMs,
    }, opts.connection.random);
    this.breaker = new CircuitBreaker({
      ...opts.breaker,
      node: this.id,
      logger: this.logger,
      ...(opts.clock && { clock: opts.clock }),
      // PING rather than a caller's request: the probe's outcome must not be some user's error.
      probe: () => this.request(Ops.PING, []),
    });
    this.breaker.on('stateChange', (c) => this.emit('stateChange', c));
    if (opts.adopt) {
      this.connValue = this.wire(opts.adopt);
      this.ready = Promise.resolve();
    } else {
      this.connValue = this.dial();
      this.ready = this.start(this.connValue);
    }
  }

  /** The current connection. It is replaced only while the member has never been reached. */
  get conn(): NodeConnection { return this.connValue; }

  /** Sends on the member's connection and tells the breaker how it went. */
  request(op: OpSpec, args: readonly unknown[], opts?: RequestOptions, meta = opts?.meta): Promise<unknown> {
    return this.connValue.request(op, args, opts, meta, this.observe);
  }

  /** Every request's outcome, as it settles, to the breaker. */
  private readonly observe = (err: Error | undefined): void => {
    const outcome = err === undefined ? 'success' : outcomeOf(err);
    if (outcome === 'failure') this.breaker.recordFailure();
    else if (outcome === 'success') this.breaker.recordSuccess();
  };

  /** This member's routes under ring `epoch`: as the owner (meta.epoch) and as a gutter (meta.fallback). */
  routes(epoch: number): MemberRoutes {
    if (this.routeCache?.epoch !== epoch)
      this.routeCache = { epoch, owner: this.route(epoch, { epoch }, false), fallback: this.route(epoch, { fallback: true }, true) };
    return this.routeCache;
  }

  /** Graceful (in-flight replies are waited for, within closeTimeoutMs) and idempotent. */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      clearTimeout(this.retryTimer);
      this.breaker.dispose();
      await this.connValue.close();
    })();
    return this.closePromise;
  }

  private route(epoch: number, meta: RequestMeta, fallback: boolean): Route {
    const member = this;
    return {
      node: this.id,
      epoch,
      fallback,
      get conn() { return member.conn; },
      request: (op, args, opts) => this.request(op, args, opts, meta),
    };
  }

  /**
   * NodeConnection gives up after a failed first connect (its caller may have other seeds to try).
   * A member has no alternative: it gets a fresh connection after a backoff, again and again, and
   * each failure counts for the breaker. Calls made meanwhile wait in the fresh connection's
   * offline queue, or go to the fallback once the breaker is open.
   */
  private start(conn: NodeConnection): Promise<void> {
    return conn.connect().then(
      () => { this.backoff.reset(); },
      (err: Error) => {
        if (this.closePromise || conn !== this.connValue) return;
        this.logger.warn({ node: this.id, attempt: this.backoff.attempts, err: err.message }, 'cluster member unreachable');
        this.breaker.recordFailure();
        const next = this.dial();
        this.connValue = next;
        conn.removeAllListeners();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (!this.closePromise) void this.start(next);
        }, this.backoff.next());
      },
    );
  }

  /**
   * The id is the address: that is what makes it the same on every node and client. It is parsed
   * only here, so an adopted seed connection works whatever its node calls itself (--node-id).
   */
  private dial(): NodeConnection {
    return this.wire(new NodeConnection({ ...this.connection, ...parseAddress(this.id) }));
  }

  private wire(conn: NodeConnection): NodeConnection {
    // 'reconnecting' follows the drop of a live connection and every failed redial: one count per
    // event, however many requests were in flight (those are neutral, see node-failure.ts).
    conn.on('reconnecting', () => this.breaker.recordFailure());
    conn.on('connect', () => this.breaker.recordSuccess());
    conn.on('push', (p) => this.emit('push', p));
    conn.on('error', (e) => { if (this.listenerCount('error') > 0) this.emit('error', e); });
    return conn;
  }
}
