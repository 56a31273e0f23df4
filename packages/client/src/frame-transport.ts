import type { Socket } from 'node:net';
import { FrameDecoder, type Frame } from '@corral/protocol';

/** What a transport reports upward. One transport is one socket's life; it never reconnects. */
export interface TransportHandler {
  /** TCP is up; nothing has been said yet. */
  onOpen(): void;
  /** A chunk arrived (before its frames, if it completes any). */
  onRead(): void;
  onFrame(frame: Frame): void;
  /** Exactly once, when the socket is gone. `error` is unset only for an orderly close. */
  onClose(error: Error | undefined): void;
}

/** Kept by the owner across reconnects. Auto-pipelining keeps `writes` far below `frames`. */
export interface TransportCounters {
  /** Socket writes (a corked writev counts as one). */
  writes: number;
  /** Frames sent. */
  frames: number;
  /** Socket reads ('data' events): how batched the node's replies arrive. */
  reads: number;
}

/**
 * Above this many queued bytes a flush hands the list to the socket corked (one writev) instead of
 * concatenating it: copying large values costs more than the syscall it would save.
 */
const CONCAT_LIMIT = 64 * 1024;
/** Frames queued in one tick past which the queue is written at once instead of at the tick's end. */
export const FLUSH_FRAMES = 64;
/**
 * With fewer requests than this in flight (queued or sent), the queue leaves when the current
 * run of promise callbacks has had its turn rather than at the end of the tick: see send().
 */
export const PROMPT_BELOW = 16;

/**
 * The byte side of a connection: frames in through the pure FrameDecoder, frames out through a
 * queue flushed once per event-loop tick, or sooner once it holds FLUSH_FRAMES frames or
 * CONCAT_LIMIT bytes. That queue is the auto-pipelining: the requests issued in one tick (a loop of
 * 1000 gets, a Promise.all) leave in a few socket writes instead of one write (and, with Nagle off,
 * one TCP segment) each. The flush rides process.nextTick (or a resolved promise, see send()), so
 * tests that fake timers must leave nextTick real (`doNotFake: ['nextTick']`) or nothing is ever sent.
 */
export class FrameTransport {
  private readonly decoder: FrameDecoder;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private closed = false;
  private ended = false;
  private error: Error | undefined;

  constructor(
    private readonly socket: Socket,
    maxFrameBytes: number,
    private readonly handler: TransportHandler,
    private readonly counters: TransportCounters = { writes: 0, frames: 0, reads: 0 },
  ) {
    // Replies are decoded in place (no copy per binary field): what the client keeps or hands out
    // goes through decodeValue, which copies. A raw request()'s binary reply is a view into the
    // socket chunk it arrived in.
    this.decoder = new FrameDecoder(maxFrameBytes, { copyBuffers: false });
    socket.on('connect', () => handler.onOpen());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // 'close' always follows 'error'; remember the first error so onClose can report why.
    socket.on('error', (err) => { this.error ??= err; });
    socket.on('close', () => {
      this.closed = true;
      this.queue = [];
      handler.onClose(this.error);
    });
  }

  get isClosed(): boolean { return this.closed; }

  /**
   * Queues one encoded frame; it goes out with everything else queued in this tick. `inFlight` is
   * how many requests are out on the connection (queued or sent, not yet answered), this one included.
   */
  send(frame: Buffer, inFlight = 0): void {
    if (this.closed || this.ended) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.counters.frames++;
    // A long run of requests in one tick (a closed loop whose other steps resolve without I/O, an
    // L1 answering most reads) would otherwise hold every request back until the tick ends, leaving
    // the node idle meanwhile: past a batch's worth, what is queued leaves now.
    if (this.queue.length >= FLUSH_FRAMES || this.queuedBytes >= CONCAT_LIMIT) { this.flush(); return; }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // process.nextTick runs only once the microtask queue is empty. A caller whose other calls
      // resolve without I/O (L1 hits) keeps it busy: with little in flight the node would sit idle
      // while requests wait here, and the caller would then wait a whole round trip. So with fewer
      // than PROMPT_BELOW requests out, the queue leaves after the promise callbacks queued so far
      // (still one write for calls made together: they are queued by then); with more, the node
      // has work and the batch grows until the tick ends.
      if (inFlight < PROMPT_BELOW) void RESOLVED.then(() => this.flush());
      else process.nextTick(flushTick, this);
    }
  }

  /** Writes whatever is queued now rather than at the end of the tick. */
  flush(): void {
    this.flushScheduled = false;
    const q = this.queue;
    if (q.length === 0 || this.closed) return;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.counters.writes++;
    if (q.length === 1) {
      this.socket.write(q[0]!);
    } else if (bytes <= CONCAT_LIMIT) {
      this.socket.write(Buffer.concat(q, bytes));
    } else {
      this.socket.cork();
      for (const b of q) this.socket.write(b);
      this.socket.uncork();
    }
  }

  /** Orderly close: what is queued still goes out, then FIN. The peer's close completes it. */
  end(): void {
    if (this.ended || this.closed) return;
    this.flush();
    this.ended = true;
    this.socket.end();
  }

  /** Immediate close; queued frames are dropped. `error` is what onClose will report. */
  destroy(error?: Error): void {
    if (this.closed) return;
    if (error) this.error ??= error;
    this.queue = [];
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.counters.reads++;
    this.handler.onRead();
    const { frames, error } = this.decoder.push(chunk);
    for (const f of frames) this.handler.onFrame(f);
    // Framing is lost for good (the decoder keeps returning the error): nothing later on this
    // socket can be trusted, so the connection goes and a fresh one starts clean.
    if (error) this.destroy(error);
  }
}

function flushTick(t: FrameTransport): void { t.flush(); }
const RESOLVED = Promise.resolve();
