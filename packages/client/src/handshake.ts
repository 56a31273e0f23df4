import { DefaultLimits, PROTOCOL_VERSION } from '@corral/protocol';

/** The limits a node enforces, as it states them in its HELLO reply. */
export interface NodeLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  maxFrameBytes: number;
}

export interface HelloReply {
  version: number;
  /** The node's id. */
  node: string;
  /** The node's software version. */
  server: string;
  /** Whether this connection may run admin ops (FLUSH). */
  admin: boolean;
  limits: NodeLimits;
}

export interface HelloOptions {
  name: string;
  auth?: string;
}

/** HELLO's arguments. Absent fields are left out, not sent as nil: the node rejects unknown or mistyped options. */
export function helloArgs(opts: HelloOptions): unknown[] {
  const o: Record<string, string> = { name: opts.name };
  if (opts.auth !== undefined) o.auth = opts.auth;
  return [PROTOCOL_VERSION, o];
}

const num = (x: unknown, fallback: number): number =>
  typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : fallback;

/**
 * Reads a HELLO reply leniently: a field a node leaves out falls back to the protocol defaults,
 * so the handshake never fails on a node that says less than we would like.
 */
export function parseHello(reply: unknown): HelloReply {
  const r = (typeof reply === 'object' && reply !== null ? reply : {}) as Record<string, unknown>;
  const l = (typeof r.limits === 'object' && r.limits !== null ? r.limits : {}) as Record<string, unknown>;
  return {
    version: num(r.version, PROTOCOL_VERSION),
    node: typeof r.node === 'string' ? r.node : '',
    server: typeof r.server === 'string' ? r.server : '',
    admin: r.admin === true,
    limits: {
      maxKeyBytes: num(l.maxKeyBytes, DefaultLimits.maxKeyBytes),
      maxValueBytes: num(l.maxValueBytes, DefaultLimits.maxValueBytes),
      maxFrameBytes: num(l.maxFrameBytes, DefaultLimits.maxFrameBytes),
    },
  };
}
