import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CorralError, opByCode, PROTOCOL_VERSION, validateArgs,
  type ErrorCode, type Limits, type OpName, type OpSpec, type RequestMeta,
} from '@corral/protocol';
import type { KeyOwnership } from './cluster/key-ownership';
import type { ReadThrough } from './cluster/read-through';
import type { ConnectionContext } from './connection-context';
import { leaseHandlers } from './leases/lease-handlers';
import type { LeaseService } from './leases/lease-service';
import { lockHandlers } from './locks/lock-handlers';
import type { LockService } from './locks/lock-service';
import type { GetsResult, MemoryStore } from './memory-store';
import { entrySize } from './store-entry';

export const SERVER_NAME = 'corral/0.1.0';

/** Sees every request's outcome: metrics hang off this, not off each transport. */
export interface OpObserver {
  onOp(op: OpSpec | undefined, result: 'ok' | ErrorCode): void;
  onInternalError(op: OpSpec, err: unknown, ctx: ConnectionContext): void;
}

export interface CommandExecutorOptions {
  store: MemoryStore;
  limits: Pick<Limits, 'maxKeyBytes' | 'maxValueBytes' | 'maxFrameBytes'>;
  /** A function because the id may only be known after the listener binds (port 0). */
  nodeId: () => string;
  adminToken?: string;
  /** Node-level figures (connections, memory) merged into STATS. */
  extraStats?: () => Record<string, number | string>;
  /** The TOPOLOGY reply: the cluster as this node sees it (the coordinator's view, later). */
  topology: () => unknown;
  /** Routing hints (request meta): ownership checks and gutter mode. Absent on a lone node. */
  ownership?: KeyOwnership;
  observer?: OpObserver;
  /** LGET/LSET/LDROP and SETIFNEWER (leases/); without it those ops are E_UNKNOWN_OP. */
  leases?: LeaseService;
  /** LOCK/UNLOCK/LOCKEXTEND (locks/). */
  locks?: LockService;
  /** A miss for a key whose range is still being handed to this node is read from its previous owner (cluster/). */
  readThrough?: ReadThrough;
  /** Handlers of op groups that live elsewhere (cluster/: HANDOFF, CLUSTER_*). */
  extraHandlers?: Partial<Record<OpName, Handler>>;
  /** Sees every key GET, GETS and MGET read: L1 tracking and hot-key counting (invalidation/, hotkeys/). */
  onRead?: (key: string, ctx: ConnectionContext) => void;
  /**
   * Called before every mutating op, with what it returns called after it (whether it threw or
   * not): the invalidation stream learns which connection made the changes in between (its own
   * L1 needs no push for them) and that its L1 holds what it wrote (invalidation/).
   */
  onWrite?: (op: OpSpec, args: unknown[], ctx: ConnectionContext) => (() => void) | undefined;
}

type Handler = (args: unknown[], ctx: ConnectionContext) => unknown;

/** The core ops this executor must implement (a compile error otherwise). Later rows of the op
 *  table (leases, locks, handoff) get handlers as their features land; until then they are
 *  E_UNKNOWN_OP, so the table can grow without breaking the node's build. */
export type CoreOpName = 'PING' | 'HELLO' | 'GET' | 'GETS' | 'SET' | 'DEL' | 'TOUCH' | 'EXISTS' | 'TTL' | 'MGET' | 'MSET'
  | 'INCRBY' | 'STATS' | 'FLUSH' | 'TOPOLOGY';
type Handlers = Record<CoreOpName, Handler> & Partial<Record<OpName, Handler>>;
type Options = Record<string, unknown>;

/** Per-key framing in an MGET reply (array header + bin header) — generous. */
const MGET_PER_KEY_BYTES = 16;

/**
 * Runs one op against the store. Transport-independent: the native listener calls it, the RESP
 * door will call the same one, and cluster routing (E_NOT_OWNER) wraps it. Every failure comes
 * out as a CorralError; a bug inside a handler becomes E_INTERNAL for that request only.
 *
 * Requests before HELLO are allowed: HELLO checks the protocol version and authenticates, so a
 * connection that skips it simply speaks version 1 without admin rights, which matter only when the
 * node has an admin token (the client always sends HELLO first; `nc` and health checks need not).
 */
export class CommandExecutor {
  private readonly store: MemoryStore;
  private readonly tokenDigest: Buffer | undefined;
  private readonly handlers: Handlers;

  constructor(private readonly opts: CommandExecutorOptions) {
    this.store = opts.store;
    this.tokenDigest = opts.adminToken === undefined ? undefined : digest(opts.adminToken);
    this.handlers = this.buildHandlers();
  }

  /** Looks the op up, validates its arguments and runs it. Returns the reply or throws a CorralError. */
  dispatch(opCode: number, args: unknown[], ctx: ConnectionContext, meta?: RequestMeta): unknown {
    const op = opByCode(opCode);
    if (op === undefined) {
      this.opts.observer?.onOp(undefined, 'E_UNKNOWN_OP');
      throw new CorralError('E_UNKNOWN_OP', `unknown op code ${opCode}`);
    }
    const invalid = validateArgs(op, args, this.opts.limits);
    if (invalid) {
      this.opts.observer?.onOp(op, invalid.code);
      throw invalid;
    }
    if (meta && this.opts.ownership) {
      try {
        this.opts.ownership.apply(op, args, meta);
      } catch (e) {
        this.opts.observer?.onOp(op, (e as CorralError).code);
        throw e;
      }
    }
    return this.execute(op, args, ctx);
  }

  /** Runs an op whose arguments are already validated. */
  execute(op: OpSpec, args: unknown[], ctx: ConnectionContext): unknown {
    try {
      if (op.admin && this.tokenDigest !== undefined && !ctx.admin)
        throw new CorralError('E_NOT_ADMIN', `${op.name} needs a HELLO with the admin token`);
      const handler = this.handlers[op.name as OpName];
      if (handler === undefined) throw new CorralError('E_UNKNOWN_OP', `op ${op.name} is not implemented by this node yet`);
      const done = op.mutates ? this.opts.onWrite?.(op, args, ctx) : undefined;
      let reply: unknown;
      try {
        reply = handler(args, ctx);
      } finally {
        if (done) done();
      }
      this.opts.observer?.onOp(op, 'ok');
      return reply;
    } catch (e) {
      if (e instanceof CorralError) {
        this.opts.observer?.onOp(op, e.code);
        throw e;
      }
      this.opts.observer?.onOp(op, 'E_INTERNAL');
      this.opts.observer?.onInternalError(op, e, ctx);
      throw new CorralError('E_INTERNAL', `internal error in ${op.name}`);
    }
  }

  private buildHandlers(): Handlers {
    const s = this.store;
    return {
      PING: () => 'PONG',
      HELLO: (a, ctx) => this.hello(a[0] as number, options(a[1]), ctx),
      GET: (a, ctx) => {
        this.opts.onRead?.(a[0] as string, ctx);
        const e = s.get(a[0] as string);
        return this.fromPrevious(a[0] as string, e?.version, getReply) ?? (e === undefined ? null : [e.value, e.flags]);
      },
      GETS: (a, ctx) => {
        this.opts.onRead?.(a[0] as string, ctx);
        const e = s.gets(a[0] as string);
        return this.fromPrevious(a[0] as string, e?.version, getsReply) ?? (e === undefined ? null : getsReply(e));
      },
      SET: (a) => {
        const o = options(a[2]);
        const flags = field<number>(o, 'flags');
        if (flags !== undefined && flags > 255) throw new CorralError('E_BAD_ARGS', 'SET: flags must be 0..255');
        return s.set(a[0] as string, a[1] as Buffer, {
          ttlMs: field(o, 'ttlMs'), flags, nx: field(o, 'nx'), xx: field(o, 'xx'), ifVersion: field(o, 'ifVersion'),
        });
      },
      DEL: (a) => s.delete(a[0] as string),
      TOUCH: (a) => s.touch(a[0] as string, a[1] as number),
      EXISTS: (a) => s.exists(a[0] as string),
      TTL: (a) => s.ttl(a[0] as string),
      MGET: (a, ctx) => {
        if (this.opts.onRead) for (const k of a[0] as string[]) this.opts.onRead(k, ctx);
        return this.mget(a[0] as string[]);
      },
      MSET: (a) => this.mset(a[0] as Array<[string, Buffer, number?]>, options(a[1])),
      INCRBY: (a) => s.incrBy(a[0] as string, a[1] as number, field(options(a[2]), 'ttlMs')),
      STATS: () => ({ ...s.stats(), ...this.opts.extraStats?.() }),
      FLUSH: () => s.flush(),
      TOPOLOGY: () => this.opts.topology(),
      ...(this.opts.leases ? leaseHandlers(this.opts.leases, s) : {}),
      ...(this.opts.locks ? lockHandlers(this.opts.locks) : {}),
      ...this.opts.extraHandlers,
    };
  }

  /**
   * A read while the key's range may still be on its way here from its previous owner: when that
   * owner must be asked (a miss, or a copy here that predates the range becoming this node's), a
   * promise of the newer of the two copies (null: neither has one); otherwise undefined, and the
   * caller answers from the store.
   */
  private fromPrevious(key: string, localVersion: number | undefined, shape: (r: GetsResult) => unknown): Promise<unknown> | undefined {
    const source = this.opts.readThrough?.source(key, localVersion);
    if (source === undefined) return undefined;
    return this.opts.readThrough!.fetch(key, source).then((r) => (r === undefined ? null : shape(r)));
  }

  private hello(version: number, o: Options, ctx: ConnectionContext): unknown {
    if (version !== PROTOCOL_VERSION)
      throw new CorralError('E_PROTOCOL_VERSION', `this node speaks protocol ${PROTOCOL_VERSION}, the client ${version}`,
        { supported: [PROTOCOL_VERSION] });
    const auth = field<string>(o, 'auth');
    if (auth !== undefined && this.tokenDigest !== undefined && !timingSafeEqual(digest(auth), this.tokenDigest))
      throw new CorralError('E_AUTH', 'wrong admin token');
    ctx.hello = true;
    // Without a configured token every connection may run admin ops, and HELLO says so.
    ctx.admin = this.tokenDigest === undefined || auth !== undefined;
    const name = field<string>(o, 'name');
    if (name !== undefined) ctx.clientName = name.slice(0, 128);
    const { maxKeyBytes, maxValueBytes, maxFrameBytes } = this.opts.limits;
    return {
      version: PROTOCOL_VERSION, node: this.opts.nodeId(), server: SERVER_NAME, admin: ctx.admin,
      limits: { maxKeyBytes, maxValueBytes, maxFrameBytes },
    };
  }

  private mget(keys: string[]): unknown[] | Promise<unknown[]> {
    const out: unknown[] = new Array(keys.length);
    let bytes = 0;
    let later: Array<Promise<void>> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const e = this.store.get(keys[i]!);
      out[i] = this.fromPrevious(keys[i]!, e?.version, getReply) ?? (e === undefined ? null : [e.value, e.flags]);
      if (out[i] instanceof Promise) (later ??= []).push((out[i] as Promise<unknown>).then((v) => { out[i] = v; }));
      bytes += MGET_PER_KEY_BYTES + (e === undefined ? 0 : e.value.length);
    }
    // The client rejects frames over maxFrameBytes just as we do; fail before encoding, not after.
    if (bytes > this.opts.limits.maxFrameBytes)
      throw new CorralError('E_VALUE_TOO_LARGE',
        `MGET reply would be ~${bytes} bytes, the frame limit is ${this.opts.limits.maxFrameBytes}; ask for fewer keys`);
    // Keys read through from their previous owner arrive later; the reply waits for all of them.
    return later ? Promise.all(later).then(() => out) : out;
  }

  private mset(entries: Array<[string, Buffer, number?]>, o: Options): number[] {
    // All-or-nothing on size so an oversized entry does not leave the batch half-applied.
    for (const [k, v] of entries) {
      const size = entrySize(k, v);
      if (size > this.store.maxMemoryBytes)
        throw new CorralError('E_OOM', `entry ${JSON.stringify(k.slice(0, 64))} needs ${size} bytes, max-memory is ${this.store.maxMemoryBytes}`);
    }
    const ttlMs = field<number>(o, 'ttlMs');
    return entries.map(([k, v, flags]) => this.store.set(k, v, { ttlMs, flags: flags ?? 0 }) as number);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function options(x: unknown): Options {
  return typeof x === 'object' && x !== null ? (x as Options) : {};
}

/** An option value; null (msgpack nil) counts as absent. */
function field<T>(o: Options, name: string): T | undefined {
  const v = o[name];
  return v === null || v === undefined ? undefined : (v as T);
}

// Reply shapes of a read answered from the previous owner (module-level: GET is the hottest path).
const getReply = (r: GetsResult): unknown[] => [r.value, r.flags];
const getsReply = (r: GetsResult): unknown[] => [r.value, r.flags, r.version, r.ttlMs];
