/** The knobs, events and states of a NodeConnection, kept apart from the machinery that runs them. */
import type { RequestMeta } from '@corral/protocol';
import type { BackoffOptions } from './backoff';
import type { HelloReply } from './handshake';
import type { Logger } from './logger';

export type ConnectionState =
  | 'idle'          // connect() not called yet
  | 'connecting'    // TCP connect in progress
  | 'handshaking'   // HELLO sent, reply not yet in
  | 'ready'
  | 'disconnected'  // waiting out the backoff before the next attempt
  | 'closing'       // close() called: draining in-flight replies
  | 'closed';

export interface NodeAddress { host: string; port: number }

export interface NodeConnectionOptions extends NodeAddress {
  /** Sent in HELLO; shows up in the node's logs. Corral's default: `corral-client:<pid>`. */
  name?: string;
  /** The node's admin token, sent in HELLO (needed for flush() when the node has one). */
  auth?: string;
  /** Default per-request timeout in ms, from the call to the reply (default 1000); 0 = none. */
  timeoutMs?: number;
  /** Bound on TCP connect + HELLO for each attempt (default 2000). */
  connectTimeoutMs?: number;
  /** Bound on close() (default 2000): past it the socket is destroyed and what is still in flight is rejected. */
  closeTimeoutMs?: number;
  /** Reconnect backoff: full jitter under min(capMs, baseMs·2ⁿ) (default 50 ms, 2 s). */
  reconnect?: Partial<BackoffOptions>;
  /** Requests made while not connected wait here, at most this many (default 1000); 0 = fail them at once. */
  maxOfflineQueue?: number;
  /** Largest reply frame accepted. Larger than the node's request limit: one MGET reply carries many values. */
  maxReplyBytes?: number;
  /** pino-shaped; nothing is logged without one. */
  logger?: Logger;
  /** For tests: the jitter source of the reconnect backoff. */
  random?: () => number;
}

export interface RequestOptions {
  /** Overrides the connection's default; 0 = no timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Routing hints for the node (ring epoch, fallback); set by a cluster router, not by users. */
  meta?: RequestMeta;
}

export interface PushEvent { kind: number; body: unknown }

export interface NodeConnectionEvents {
  /** Every successful handshake, the first and each reconnect. */
  connect: [hello: HelloReply];
  /** A connection that had said 'connect' is gone; `error` is unset for an orderly close. */
  close: [error: Error | undefined];
  /** Trouble that belongs to no single request. Unlike a bare EventEmitter, no listener means it is only logged. */
  error: [error: Error];
  /** A push frame (PushKind): invalidations, topology, goodbye. */
  push: [push: PushEvent];
  /** A reconnect attempt is scheduled. */
  reconnecting: [info: { attempt: number; delayMs: number }];
}

export const ConnectionDefaults = {
  timeoutMs: 1000,
  connectTimeoutMs: 2000,
  closeTimeoutMs: 2000,
  maxOfflineQueue: 1000,
  maxReplyBytes: 64 * 1024 * 1024,
} as const;
