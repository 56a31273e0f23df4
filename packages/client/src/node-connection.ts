import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  CorralError, FrameKind, HEADER_BYTES, MAX_REQUEST_ID, Ops, encodeRequest, type Frame, type OpSpec, type RequestMeta,
} from '@corral/protocol';
import { Backoff, DefaultBackoff } from './backoff';
import {
  ConnectionDefaults, type ConnectionState, type NodeAddress, type NodeConnectionEvents, type NodeConnectionOptions,
  type RequestOptions,
} from './connection-options';
import { abortError, clientError, fromErrorFrame } from './errors';
import { FrameTransport, type TransportCounters } from './frame-transport';
import { helloArgs, parseHello, type HelloReply, type NodeLimits } from './handshake';
import { silentLogger, type Logger } from './logger';
import { PendingRequest, type ExpiryReason, type SettleObserver } from './pending-request';
import { DeadlineQueue } from './deadline-queue';

export * from './connection-options';

/** Lets the OS notice a peer that vanished without a FIN (power loss, partition) on an idle connection. */
const KEEPALIVE_MS = 15_000;
const NO_OPTIONS: RequestOptions = Object.freeze({});

/**
 * One multiplexed connection to one node. Requests carry ids so any number can be in flight at
 * once and replies are matched by id, in whatever order they come. The connection redials on its
 * own after a drop, with jittered backoff, and says HELLO again each time; requests made while it
 * is down wait in a bounded offline queue. Every request ends exactly once: a reply, its own
 * timeout or signal, the connection dropping under it, or close().
 */
/** A socket silent this long while requests time out on it is treated as dead and redialled. */
const WEDGED_AFTER_MS = 3_000;

export class NodeConnection extends EventEmitter<NodeConnectionEvents> {
  readonly address: NodeAddress;
  private readonly label: string;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly maxOfflineQueue: number;
  private readonly maxReplyBytes: number;
  private readonly backoff: Backoff;
  private readonly logger: Logger;
  private readonly helloOpts: { name: string; auth?: string };

  private stateValue: ConnectionState = 'idle';
  private transport: FrameTransport | undefined;
  /** When the last frame arrived (performance.now): a silent socket with requests overdue is dead. */
  private lastFrameAt = 0;
  /** The transport that completed HELLO; only it says 'close' when it goes. */
  private readyTransport: FrameTransport | undefined;
  private readonly pending = new Map<number, PendingRequest>();
  /** Requests waiting for a connection, in call order; a Set so one that expires leaves in O(1). */
  private readonly offline = new Set<PendingRequest>();
  private lastId = 0;
  private helloValue: HelloReply | undefined;
  private readonly countersValue: TransportCounters = { writes: 0, frames: 0, reads: 0 };

  /** Why the current attempt failed, when we know better than the socket (HELLO refused, timed out). */
  private attemptError: Error | undefined;
  private attemptTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private connectPromise: Promise<HelloReply> | undefined;
  private firstConnect: { resolve: (h: HelloReply) => void; reject: (e: Error) => void } | undefined;
  private closePromise: Promise<void> | undefined;
  private resolveClose: (() => void) | undefined;
  private readonly expire = (req: PendingRequest, why: ExpiryReason): void => this.onExpire(req, why);
  /** Every request's timeout, on one timer. */
  private readonly deadlines = new DeadlineQueue<PendingRequest>(() => performance.now(), (req) => this.onExpire(req, 'timeout'));

  constructor(opts: NodeConnectionOptions) {
    super();
    this.address = { host: opts.host, port: opts.port };
    this.label = opts.host.includes(':') ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`;
    this.timeoutMs = opts.timeoutMs ?? ConnectionDefaults.timeoutMs;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? ConnectionDefaults.connectTimeoutMs;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? ConnectionDefaults.closeTimeoutMs;
    this.maxOfflineQueue = opts.maxOfflineQueue ?? ConnectionDefaults.maxOfflineQueue;
    this.maxReplyBytes = opts.maxReplyBytes ?? ConnectionDefaults.maxReplyBytes;
    this.backoff = new Backoff({
      baseMs: opts.reconnect?.baseMs ?? DefaultBackoff.baseMs,
      capMs: opts.reconnect?.capMs ?? DefaultBackoff.capMs,
    }, opts.random);
    this.logger = opts.logger ?? silentLogger;
    this.helloOpts = { name: opts.name ?? `corral-client:${process.pid}`, ...(opts.auth !== undefined && { auth: opts.auth }) };
  }

  /** "host:port", for messages and logs. */
  get node(): string { return this.label; }
  get state(): ConnectionState { return this.stateValue; }
  /** The last HELLO reply; kept while disconnected, so limits stay known. */
  get hello(): HelloReply | undefined { return this.helloValue; }
  get limits(): NodeLimits | undefined { return this.helloValue?.limits; }
  get inFlight(): number { return this.pending.size; }
  get queued(): number { return this.offline.size; }
  /** Totals over every socket this connection has had. */
  get counters(): Readonly<TransportCounters> { return this.countersValue; }

  /**
   * Makes the first connection. One attempt, no retry: if it fails the connection is closed and
   * the promise rejects, so a caller holding several seeds can move on to the next. From the first
   * success on, drops are retried forever (until close()). Calling it again returns the same promise.
   */
  connect(): Promise<HelloReply> {
    if (this.connectPromise) return this.connectPromise;
    if (this.stateValue !== 'idle') return Promise.reject(clientError('E_CLIENT_CLOSED'));
    this.connectPromise = new Promise<HelloReply>((resolve, reject) => { this.firstConnect = { resolve, reject }; });
    this.attempt();
    return this.connectPromise;
  }

  /**
   * Sends one request and resolves with the node's result, or rejects with a CorralError. `meta`
   * (default: opts.meta) and `observer` (told of the outcome as it settles, before the promise's
   * callbacks run) are for a cluster member, which would otherwise wrap every call in another
   * promise and options object.
   */
  request(op: OpSpec, args: readonly unknown[], opts: RequestOptions = NO_OPTIONS, meta = opts.meta, observer?: SettleObserver): Promise<unknown> {
    const state = this.stateValue;
    const early = state === 'closing' || state === 'closed' ? clientError('E_CLIENT_CLOSED')
      : opts.signal?.aborted ? abortError(opts.signal) : undefined;
    if (early !== undefined) {
      observer?.(early);
      return Promise.reject(early);
    }
    return new Promise((resolve, reject) => {
      const req = new PendingRequest(op, args, meta, resolve, reject, observer);
      if (state !== 'ready') {
        if (this.offline.size >= this.maxOfflineQueue) {
          req.reject(clientError('E_NOT_CONNECTED',
            `not connected to ${this.label} and the offline queue is full (${this.maxOfflineQueue} requests)`, { node: this.label }));
          return;
        }
        this.offline.add(req);
      }
      req.arm(opts.timeoutMs ?? this.timeoutMs, opts.signal, this.deadlines, this.expire);
      if (state === 'ready') this.write(this.transport!, req);
    });
  }

  /**
   * Fails every request still waiting in the offline queue (never sent, so safe to send elsewhere)
   * with `err`, now rather than at its timeout; returns how many. A cluster router calls it when
   * the node's circuit breaker opens, so those calls can go to a fallback.
   */
  rejectQueued(err: Error): number {
    const n = this.offline.size;
    this.rejectOffline(err);
    return n;
  }

  /**
   * Graceful, then forced, and idempotent (the same promise every time). New requests fail with
   * E_CLIENT_CLOSED at once; in-flight ones get up to closeTimeoutMs for their replies, then FIN;
   * at the bound the socket is destroyed and whatever is left fails with E_CLIENT_CLOSED.
   * Never rejects.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closePromise = new Promise<void>((resolve) => { this.resolveClose = resolve; });
    const t = this.transport;
    const wasReady = this.stateValue === 'ready';
    this.stateValue = 'closing';
    clearTimeout(this.reconnectTimer);
    this.rejectOffline(clientError('E_CLIENT_CLOSED', 'the client was closed before the request could be sent'));
    if (!t) {
      this.finishClose();
    } else if (!wasReady) {
      t.destroy(); // mid-handshake: nothing of the caller's is on this socket yet
    } else {
      // The bound goes first, so a node that never answers, or never closes its side, cannot hold close() open.
      this.closeTimer = setTimeout(() => t.destroy(), this.closeTimeoutMs);
      this.endIfDrained();
    }
    return this.closePromise;
  }

  private attempt(): void {
    this.stateValue = 'connecting';
    this.attemptError = undefined;
    // Nagle off: auto-pipelining already batches per tick; Nagle would only add a round trip of delay.
    const socket = net.connect({ host: this.address.host, port: this.address.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS });
    const t: FrameTransport = new FrameTransport(socket, this.maxReplyBytes, {
      onOpen: () => this.onOpen(t),
      onRead: () => { this.lastFrameAt = performance.now(); },
      onFrame: (f) => this.onFrame(t, f),
      onClose: (err) => this.onClose(t, err),
    }, this.countersValue);
    this.transport = t;
    this.lastFrameAt = performance.now();
    this.attemptTimer = setTimeout(() => this.failAttempt(t, clientError('E_NOT_CONNECTED',
      `no connection and HELLO reply from ${this.label} within ${this.connectTimeoutMs} ms`, { node: this.label })),
    this.connectTimeoutMs);
  }

  private failAttempt(t: FrameTransport, err: Error): void {
    if (t.isClosed) return;
    this.attemptError ??= err;
    t.destroy(err);
  }

  /** TCP is up: HELLO goes first, and the caller's requests wait until its reply is in. */
  private onOpen(t: FrameTransport): void {
    if (t !== this.transport || this.stateValue !== 'connecting') return;
    this.stateValue = 'handshaking';
    const hello = new PendingRequest(Ops.HELLO, helloArgs(this.helloOpts), undefined,
      (reply) => this.onHello(t, reply),
      (err) => this.failAttempt(t, err));
    this.write(t, hello);
  }

  private onHello(t: FrameTransport, reply: unknown): void {
    if (t !== this.transport || this.stateValue !== 'handshaking') return;
    clearTimeout(this.attemptTimer);
    const hello = parseHello(reply);
    this.helloValue = hello;
    this.stateValue = 'ready';
    this.readyTransport = t;
    this.backoff.reset();
    // Drain before anyone hears 'connect': a listener that calls close() then waits for these too.
    const waiting = [...this.offline];
    this.offline.clear();
    for (const req of waiting) this.write(t, req);
    const first = this.firstConnect;
    this.firstConnect = undefined;
    first?.resolve(hello);
    this.emit('connect', hello);
  }

  private write(t: FrameTransport, req: PendingRequest): void {
    const id = this.nextId();
    const now = performance.now();
    let frame: Buffer;
    try {
      frame = encodeRequest(id, req.op.code, req.args as unknown[], writeMeta(req, now));
    } catch (e) {
      req.reject(clientError('E_BAD_ARGS', `${req.op.name}: arguments cannot be encoded: ${(e as Error).message}`, undefined, e));
      return;
    }
    // The node treats a frame over its limit as lost framing and drops the connection, taking every
    // other request in flight down with it; refuse the one request here instead.
    const limit = this.helloValue?.limits.maxFrameBytes;
    if (limit !== undefined && frame.length - HEADER_BYTES > limit) {
      req.reject(clientError('E_FRAME_TOO_LARGE',
        `${req.op.name} request is ${frame.length - HEADER_BYTES} bytes, ${this.label} accepts frames up to ${limit}`,
        { bytes: frame.length - HEADER_BYTES, limit }));
      return;
    }
    req.id = id;
    req.sentAt = now;
    this.pending.set(id, req);
    t.send(frame, this.pending.size);
  }

  /** Ids wrap within uint32 and skip 0 (an error frame with id 0 is about the connection). */
  private nextId(): number {
    do this.lastId = this.lastId >= MAX_REQUEST_ID ? 1 : this.lastId + 1;
    while (this.pending.has(this.lastId));
    return this.lastId;
  }

  private onFrame(t: FrameTransport, f: Frame): void {
    if (t !== this.transport) return;
    switch (f.kind) {
      case FrameKind.Response:
        this.take(f.id)?.resolve(f.result);
        break;
      case FrameKind.Error: {
        const err = fromErrorFrame(f);
        if (f.id !== 0) this.take(f.id)?.reject(err);
        // About the connection (too many connections, shutting down, output buffer full): the node
        // closes it next. During a handshake it is the reason the attempt failed.
        else if (this.stateValue === 'handshaking' || this.stateValue === 'connecting') this.attemptError ??= err;
        else this.report(err, 'the node reported a connection error');
        break;
      }
      case FrameKind.Push:
        this.emit('push', { kind: f.push, body: f.body });
        break;
      case FrameKind.Request:
        t.destroy(clientError('E_BAD_FRAME', `${this.label} sent a request frame; only replies and pushes flow to a client`));
        break;
    }
    this.endIfDrained();
  }

  /** The request a reply is for; undefined for a late reply to one that already timed out or was aborted. */
  private take(id: number): PendingRequest | undefined {
    const req = this.pending.get(id);
    if (req) this.pending.delete(id);
    return req;
  }

  private onExpire(req: PendingRequest, why: ExpiryReason): void {
    if (req.settled) return;
    const sent = req.id !== 0;
    if (sent) {
      if (this.pending.get(req.id) === req) this.pending.delete(req.id);
    } else {
      this.offline.delete(req);
    }
    // Nothing at all came back on the socket while this request waited, and the socket has been
    // silent for WEDGED_AFTER_MS: the connection is wedged (a partition leaves TCP retransmitting
    // with growing backoff for minutes), not slow. Dropping it makes the next request redial
    // instead of queueing behind a dead socket.
    if (sent && why !== 'abort' && this.transport && this.lastFrameAt < req.sentAt && performance.now() - this.lastFrameAt >= WEDGED_AFTER_MS)
      this.transport.destroy(clientError('E_TIMEOUT', `${this.label} sent nothing for ${req.timeoutMs} ms with a request outstanding`));
    if (why === 'abort') req.reject(abortError(req.abortSignal!));
    else if (sent) req.reject(clientError('E_TIMEOUT', `${req.op.name} got no reply from ${this.label} within ${req.timeoutMs} ms`,
      { node: this.label, op: req.op.name, timeoutMs: req.timeoutMs }));
    else req.reject(clientError('E_NOT_CONNECTED', `${req.op.name} waited ${req.timeoutMs} ms for a connection to ${this.label}`,
      { node: this.label, op: req.op.name, timeoutMs: req.timeoutMs }));
    this.endIfDrained();
  }

  private endIfDrained(): void {
    if (this.stateValue === 'closing' && this.pending.size === 0) this.transport?.end();
  }

  private onClose(t: FrameTransport, error: Error | undefined): void {
    if (t !== this.transport) return;
    this.transport = undefined;
    clearTimeout(this.attemptTimer);
    const wasReady = this.readyTransport === t;
    this.readyTransport = undefined;
    const closing = this.stateValue === 'closing';
    const why = this.attemptError ?? error;

    const inflight = [...this.pending.values()];
    this.pending.clear();
    const inflightError = closing
      ? clientError('E_CLIENT_CLOSED', 'the client was closed before the reply arrived; the request may or may not have been applied')
      : clientError('E_CONNECTION_CLOSED',
        `the connection to ${this.label} closed before the reply arrived; the request may or may not have been applied`,
        { node: this.label }, why);
    for (const req of inflight) req.reject(inflightError);

    if (wasReady) {
      if (error && !closing) this.report(error, 'connection lost');
      this.emit('close', error);
    }
    if (closing) {
      this.finishClose();
      return;
    }
    if (this.firstConnect) {
      // The first attempt gets no retry: the caller has other seeds to try, or wants to know now.
      const err = why instanceof CorralError ? why
        : clientError('E_NOT_CONNECTED', `could not connect to ${this.label}: ${why?.message ?? 'closed during the handshake'}`,
          { node: this.label }, why);
      const { reject } = this.firstConnect;
      this.firstConnect = undefined;
      this.stateValue = 'closed';
      this.closePromise = Promise.resolve();
      this.rejectOffline(err);
      reject(err);
      return;
    }
    if (!wasReady && why) {
      // A refusal from the node itself (E_AUTH, E_PROTOCOL_VERSION) will not fix itself: say so loudly.
      if (why instanceof CorralError && why.code !== 'E_NOT_CONNECTED') this.report(why, 'reconnect refused');
      else this.logger.warn({ node: this.label, attempt: this.backoff.attempts, err: why.message }, 'reconnect attempt failed');
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.stateValue = 'disconnected';
    const delayMs = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.attempt();
    }, delayMs);
    this.emit('reconnecting', { attempt: this.backoff.attempts, delayMs });
  }

  private rejectOffline(err: Error): void {
    const waiting = [...this.offline];
    this.offline.clear();
    for (const req of waiting) req.reject(err);
  }

  private finishClose(): void {
    this.stateValue = 'closed';
    clearTimeout(this.closeTimer);
    clearTimeout(this.attemptTimer);
    clearTimeout(this.reconnectTimer);
    const first = this.firstConnect;
    this.firstConnect = undefined;
    first?.reject(clientError('E_CLIENT_CLOSED', 'the client was closed before it connected'));
    this.resolveClose?.();
  }

  private report(err: Error, msg: string): void {
    this.logger.warn({ node: this.label, code: (err as { code?: unknown }).code, err: err.message }, msg);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * A write's meta carries the wall-clock time its caller stops waiting (the request's timeout, what
 * is left of it for one that waited offline): a node that gets it later refuses it rather than
 * apply a write the caller was told had failed (E_DEADLINE_PASSED). Reads need no deadline.
 */
function writeMeta(req: PendingRequest, now: number): RequestMeta | undefined {
  const m = req.meta;
  if (!req.op.mutates || req.timeoutMs <= 0) return m;
  const deadline = Math.ceil(Date.now() + req.deadline - now);
  if (m === undefined) return { deadline };
  // Spelled out rather than spread: this runs for every write.
  const out: RequestMeta = { deadline };
  if (m.epoch !== undefined) out.epoch = m.epoch;
  if (m.fallback !== undefined) out.fallback = m.fallback;
  return out;
}
