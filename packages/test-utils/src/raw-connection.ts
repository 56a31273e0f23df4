import { connect, type Socket } from 'node:net';
import {
  CorralError, encodeRequest, FrameDecoder, Ops,
  type ErrorCode, type ErrorFrame, type Frame, type OpName, type ResponseFrame, type RequestMeta } from '@corral/protocol';

export interface RawConnectionOptions {
  host?: string;
  /** The largest frame this test client accepts (the node's replies). */
  maxFrameBytes?: number;
  connectTimeoutMs?: number;
}

export type ReplyFrame = ResponseFrame | ErrorFrame;

interface Waiter {
  match: (f: Frame) => boolean;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * A minimal client over a real socket for tests: it sends raw bytes or encoded request frames and
 * collects every decoded frame, so tests can see exactly what a node puts on the wire, including
 * error frames with id 0 and the connection closing. No retries, no routing, no cleverness.
 */
export class RawConnection {
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Set when the node sent bytes this client could not decode. */
  decodeError: CorralError | undefined;
  private readonly decoder: FrameDecoder;
  private waiters: Waiter[] = [];
  private closeWaiters: Array<() => void> = [];
  private nextId = 1;
  private isClosed = false;

  private constructor(readonly socket: Socket, maxFrameBytes: number) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // surfaced as 'close'; tests assert on closing, not on errno
    socket.on('close', () => this.onClose());
  }

  static connect(port: number, opts: RawConnectionOptions = {}): Promise<RawConnection> {
    const host = opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS);
      socket.once('error', (e) => { clearTimeout(timer); reject(e); });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket, opts.maxFrameBytes ?? 64 * 1024 * 1024));
      });
    });
  }

  get closed(): boolean { return this.isClosed; }

  sendRaw(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  /** Sends one request frame without waiting; returns its id. */
  send(op: OpName | number, args: unknown[], id: number = this.nextId++, meta?: RequestMeta): number {
    this.socket.write(encodeRequest(id, typeof op === 'number' ? op : Ops[op].code, args, meta));
    return id;
  }

  /** A request with routing hints (ring epoch, fallback), as a cluster-aware client sends them. */
  async callWithMeta(op: OpName, args: unknown[], meta: RequestMeta, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
    return unwrap(await this.reply(this.send(op, args, this.nextId++, meta), timeoutMs));
  }

  /** Sends one request and resolves with its reply frame (response or error). */
  request(op: OpName | number, args: unknown[] = [], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ReplyFrame> {
    const id = this.send(op, args);
    return this.reply(id, timeoutMs);
  }

  /** Sends one request; resolves with the result, rejects with a CorralError for an error frame. */
  async call(op: OpName | number, args: unknown[] = [], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
    return unwrap(await this.request(op, args, timeoutMs));
  }

  /** Waits for the reply to request `id`. */
  reply(id: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ReplyFrame> {
    return this.waitFor((f): f is ReplyFrame => (f.kind === 1 || f.kind === 2) && f.id === id, timeoutMs) as Promise<ReplyFrame>;
  }

  /** Resolves with the first frame (already received or future) that matches. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.isClosed) return Promise.reject(new Error('connection closed before the frame arrived'));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        match, resolve, reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`no matching frame within ${timeoutMs} ms (${this.frames.length} frames received)`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** Resolves when the node has closed the connection; rejects if it is still open after the timeout. */
  waitForClose(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  /** Stops reading from the socket, as a client that never reads its replies would. */
  pauseReading(): void { this.socket.pause(); }
  resumeReading(): void { this.socket.resume(); }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.decoder.push(chunk);
    if (error) this.decodeError = error;
    for (const f of frames) {
      this.frames.push(f);
      for (const w of this.waiters.filter((x) => x.match(f))) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(f);
      }
    }
  }

  private onClose(): void {
    this.isClosed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('connection closed before the frame arrived'));
    }
    this.waiters = [];
    for (const c of this.closeWaiters) c();
    this.closeWaiters = [];
  }
}

/** The result of a response frame, or the CorralError an error frame carries. */
export function unwrap(f: ReplyFrame): unknown {
  if (f.kind === 1) return f.result;
  throw new CorralError(f.code as ErrorCode, f.message, f.details);
}
