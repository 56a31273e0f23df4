import type { Socket } from 'node:net';
import {
  CorralError, encodeError, encodePush, encodeResponse, FrameDecoder, FrameKind, HEADER_BYTES, PushKind,
  type Limits, type RequestFrame,
} from '@corral/protocol';
import type { Logger } from 'pino';
import type { CommandExecutor } from './command-executor';
import { newConnectionContext, type ConnectionContext } from './connection-context';
import type { DropReason, NodeMetrics } from './node-metrics';
import { CONGESTED_RECHECK_MS, ReadPause } from './read-pause';

export interface ConnectionServices {
  executor: CommandExecutor;
  limits: Limits;
  /** How far past a write's deadline (request meta) it is still applied (clock skew). */
  deadlineGraceMs: number;
  metrics: NodeMetrics;
  log: Logger;
}

/** The reply slot of a request that is answered later (see replyLater). */
const NO_REPLY_YET = Buffer.alloc(0);
/** While shutting down, a connection that stayed silent this long has nothing more in flight. */
export const DRAIN_QUIET_MS = 100;
/** After a framing error the error frame gets this long to reach the peer before the socket is destroyed. */
const LINGER_AFTER_ERROR_MS = 1_000;

/**
 * One client connection on the native protocol. Requests are executed in arrival order; the replies
 * produced for one incoming chunk go out in one socket write, which gives pipelining for free.
 *
 * Output is bounded: once unwritten replies pass the soft limit the connection stops executing and
 * stops reading (decoded requests wait in `queue`, at most one chunk's worth), resuming on
 * 'drain'. Past the hard limit, or paused for outputBufferPauseMs without the client reading
 * anything, the client is dropped: one that does not read its replies must not make the node
 * buffer without end, while a slow but steady reader is only slowed down.
 */
export class NodeConnection {
  readonly ctx: ConnectionContext;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly decoder: FrameDecoder;
  private queue: Array<RequestFrame | undefined> = [];
  private head = 0;
  private fatal: CorralError | undefined;
  private readonly readPause: ReadPause;
  private quietTimer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private draining = false;
  private peerEnded = false;
  /** We called end(): nothing more is written or executed. */
  private ending = false;
  private isClosed = false;
  /** Requests answered later (replyLater): the connection is not idle while any is outstanding. */
  private parked = 0;

  constructor(private readonly socket: Socket, id: number, private readonly svc: ConnectionServices) {
    this.ctx = newConnectionContext(id, `${socket.remoteAddress}:${socket.remotePort}`);
    this.decoder = new FrameDecoder(svc.limits.maxFrameBytes);
    this.readPause = new ReadPause(socket, svc.limits.outputBufferPauseMs, () => this.drop('output_buffer_stalled'));
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
    socket.setNoDelay(true);
    socket.setTimeout(svc.limits.idleTimeoutMs, () => this.drop('idle'));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.readPause.progressed();
      this.pump();
    });
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (err) => svc.log.debug({ conn: id, remote: this.ctx.remote, err: err.message }, 'conn_error'));
    socket.on('close', () => this.onClose());
  }

  /** Graceful shutdown: tell the client, keep serving what it already sent, end once it goes quiet. */
  beginDrain(): void {
    if (this.draining || this.isClosed) return;
    this.draining = true;
    if (!this.ending) this.socket.write(encodePush(PushKind.Goodbye, { reason: 'shutdown' }));
    if (this.idle()) this.armQuiet();
  }

  /**
   * A server push (topology, invalidations) to a client that said HELLO; raw tools that never
   * did would not know what to do with one. Dropped when the connection is on its way out.
   */
  sendPush(frame: Buffer): void {
    if (!this.ctx.hello || this.isClosed || this.ending || this.socket.destroyed) return;
    this.socket.write(frame);
  }

  /** Replies and pushes written but not yet sent: the invalidation stream skips a push past its bound (the client replays). */
  get pendingOutputBytes(): number { return this.socket.writableLength; }

  /** Shutdown grace is over. */
  forceClose(): void {
    this.drop('shutdown_timeout');
  }

  private onData(chunk: Buffer): void {
    if (this.ending || this.fatal) return;
    this.clearQuiet();
    const { frames, error } = this.decoder.push(chunk);
    let fatal = error;
    for (const f of frames) {
      if (f.kind !== FrameKind.Request) {
        fatal = new CorralError('E_BAD_FRAME', 'a client may only send request frames');
        break;
      }
      this.queue.push(f);
    }
    if (fatal) {
      this.fatal = fatal;
      this.svc.metrics.badFrame();
      this.socket.pause();
      this.svc.log.info({ conn: this.ctx.id, remote: this.ctx.remote, code: fatal.code, why: fatal.message }, 'conn_bad_frame');
    }
    this.pump();
  }

  /** Executes queued requests while the output buffer has room, and writes their replies at once. */
  private pump(): void {
    this.pumpTimer = undefined;
    if (this.isClosed || this.ending || this.socket.destroyed) return;
    const soft = this.svc.limits.outputBufferSoftBytes;
    const base = this.socket.writableLength;
    const out: Buffer[] = [];
    let bytes = 0;
    while (this.head < this.queue.length && base + bytes < soft) {
      const f = this.queue[this.head]!;
      this.queue[this.head++] = undefined; // let the request's buffers go as soon as it ran
      const reply = this.reply(f);
      out.push(reply);
      bytes += reply.length;
    }
    const done = this.head === this.queue.length;
    if (done) { this.queue = []; this.head = 0; }
    const closeNow = done && (this.fatal !== undefined || this.peerEnded);
    if (done && this.fatal) {
      const e = encodeError(0, this.fatal);
      out.push(e);
      bytes += e.length;
    }
    if (out.length > 0) this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out, bytes));
    if (closeNow) return this.finish(this.fatal ? 'bad_frame' : undefined);
    this.applyBackpressure(done);
  }

  private reply(f: RequestFrame): Buffer {
    const deadline = f.meta?.deadline;
    if (deadline !== undefined && Date.now() > deadline + this.svc.deadlineGraceMs) return this.pastDeadline(f, deadline);
    try {
      const result = this.svc.executor.dispatch(f.op, f.args, this.ctx, f.meta);
      if (result instanceof Promise) {
        this.replyLater(f.id, result);
        return NO_REPLY_YET;
      }
      return this.encodeReply(f.id, result);
    } catch (e) {
      if (e instanceof CorralError) return encodeError(f.id, e);
      // The executor already maps handler bugs; this is the encoder failing on a reply.
      this.svc.log.error({ err: e, conn: this.ctx.id, op: f.op }, 'reply_encode_failed');
      return encodeError(f.id, new CorralError('E_INTERNAL'));
    }
  }

  /**
   * The client stopped waiting for this write and told its caller it failed; it arrived late (this
   * node was frozen, or the socket stalled), and applying it now could overwrite a write made since.
   */
  private pastDeadline(f: RequestFrame, deadline: number): Buffer {
    this.svc.metrics.writePastDeadline();
    const late = Date.now() - deadline;
    this.svc.log.debug({ conn: this.ctx.id, op: f.op, lateMs: late }, 'write_past_deadline');
    return encodeError(f.id, new CorralError('E_DEADLINE_PASSED', `the request arrived ${late} ms after its deadline (grace ${this.svc.deadlineGraceMs} ms); not applied`,
      { lateMs: late, graceMs: this.svc.deadlineGraceMs }));
  }

  private encodeReply(id: number, result: unknown): Buffer {
    const buf = encodeResponse(id, result);
    if (buf.length - HEADER_BYTES > this.svc.limits.maxFrameBytes)
      return encodeError(id, new CorralError('E_VALUE_TOO_LARGE', `reply is ${buf.length} bytes, over the frame limit`));
    return buf;
  }

  /**
   * A handler that answered with a promise: a parked LGET waiting on a lease, a queued LOCK. Its
   * reply goes out on its own when it settles, after later requests' replies; the client matches
   * replies by id, so the order does not matter.
   */
  private replyLater(id: number, result: Promise<unknown>): void {
    this.parked++;
    result
      .then((r) => this.encodeReply(id, r), (e: unknown) => {
        if (e instanceof CorralError) return encodeError(id, e);
        this.svc.log.error({ err: e, conn: this.ctx.id }, 'parked_request_failed');
        return encodeError(id, new CorralError('E_INTERNAL'));
      })
      .catch((e: unknown) => {
        this.svc.log.error({ err: e, conn: this.ctx.id }, 'reply_encode_failed');
        return encodeError(id, new CorralError('E_INTERNAL'));
      })
      .then((buf) => {
        this.parked--;
        if (this.isClosed || this.ending) return;
        this.socket.write(buf);
        if (this.peerEnded && this.idle()) this.finish();
        else if (this.draining && this.idle()) this.armQuiet();
      });
  }

  private applyBackpressure(done: boolean): void {
    const { outputBufferSoftBytes: soft, outputBufferHardBytes: hard } = this.svc.limits;
    const w = this.socket.writableLength;
    if (w > hard) return this.drop('output_buffer_hard');
    if (w < soft && done) {
      this.readPause.resume(!this.fatal);
      if (this.draining && this.idle()) this.armQuiet();
      return;
    }
    this.readPause.pause();
    // 'drain' only comes after a write that returned false; otherwise look again ourselves.
    if (this.socket.writableNeedDrain || this.pumpTimer) return;
    this.pumpTimer = w >= soft ? setTimeout(() => this.pump(), CONGESTED_RECHECK_MS) : setImmediate(() => this.pump());
  }


  private onPeerEnd(): void {
    this.peerEnded = true;
    if (this.head === this.queue.length && !this.readPause.paused && this.parked === 0) this.finish();
  }

  private idle(): boolean {
    return this.head === this.queue.length && !this.readPause.paused && this.socket.writableLength === 0 && this.parked === 0;
  }

  private armQuiet(): void {
    this.clearQuiet();
    this.quietTimer = setTimeout(() => {
      if (this.head === this.queue.length && this.parked === 0) this.finish();
    }, DRAIN_QUIET_MS);
  }

  private clearQuiet(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
  }

  /** Ends our side after the replies already written; destroys if the peer does not close in time. */
  private finish(reason?: DropReason): void {
    if (this.ending || this.isClosed) return;
    this.ending = true;
    if (reason) this.svc.metrics.connectionDropped(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_AFTER_ERROR_MS).unref();
  }

  private drop(reason: DropReason): void {
    if (this.isClosed) return;
    const level = reason === 'idle' || reason === 'shutdown_timeout' ? 'info' : 'warn';
    this.svc.log[level]({ conn: this.ctx.id, remote: this.ctx.remote, reason, pendingOutput: this.socket.writableLength }, 'conn_dropped');
    this.svc.metrics.connectionDropped(reason);
    this.socket.destroy();
  }

  private onClose(): void {
    this.isClosed = true;
    this.readPause.dispose();
    this.clearQuiet();
    if (this.pumpTimer) { clearTimeout(this.pumpTimer as NodeJS.Timeout); clearImmediate(this.pumpTimer as NodeJS.Immediate); }
    this.queue = [];
    this.svc.metrics.connectionClosed();
    this.resolveClosed();
  }
}
