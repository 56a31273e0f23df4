import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { GossipEnvelope } from './gossip-envelope';
import { decodeMessage, encodeMessage } from './message-codec';
import type { Message } from './messages';
import type { MembershipStats } from './stats';
import { FrameTooLargeError, readFrame, writeFrame } from './tcp-frames';

export type PushPullMessage = Extract<Message, { type: 'push-pull' }>;

export interface PushPullServerOptions {
  envelope: GossipEnvelope;
  stats: MembershipStats;
  logger: Logger;
  maxFrameBytes: number;
  maxMembers: number;
  timeoutMs: number;
  /** Concurrent exchanges served; more are refused (the peer retries next interval). */
  maxConnections: number;
  /** Returns our state to send back; merging theirs is up to the handler. */
  handle: (msg: PushPullMessage) => PushPullMessage;
}

/** The TCP side of the gossip port: answers full-state exchanges (periodic anti-entropy and joins). */
export class PushPullServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Test hook: a frozen server refuses every connection. */
  frozen = false;

  constructor(private readonly opts: PushPullServerOptions) {}

  listen(host: string, port: number): Promise<void> {
    const server = createServer((socket) => this.serve(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.opts.logger.warn({ err }, 'push-pull server error'));
        this.server = server;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    if (this.frozen || this.sockets.size >= this.opts.maxConnections) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.opts.timeoutMs, () => socket.destroy());
    this.exchange(socket).catch((err: unknown) => {
      this.opts.logger.debug({ err }, 'push-pull request failed');
      socket.destroy();
    });
  }

  private async exchange(socket: Socket): Promise<void> {
    const { envelope, stats } = this.opts;
    let frame: Buffer;
    try {
      frame = await readFrame(socket, this.opts.maxFrameBytes);
    } catch (err) {
      if (err instanceof FrameTooLargeError) stats.malformed++;
      throw err;
    }
    stats.bytesIn += frame.length;
    const opened = envelope.open(frame, 'tcp');
    if (!opened.ok) {
      if (opened.reason === 'auth') stats.authFailures++;
      else stats.malformed++;
      socket.destroy();
      return;
    }
    let msg: Message;
    try {
      msg = decodeMessage(opened.payload, { maxMembers: this.opts.maxMembers });
    } catch {
      stats.malformed++;
      socket.destroy();
      return;
    }
    if (msg.type !== 'push-pull') {
      stats.malformed++;
      socket.destroy();
      return;
    }
    const reply = envelope.seal(encodeMessage(this.opts.handle(msg)), 'tcp');
    stats.bytesOut += reply.length;
    stats.pushPulls++;
    writeFrame(socket, reply);
    socket.end();
  }
}
