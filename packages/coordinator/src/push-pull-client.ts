import { connect } from 'node:net';
import type { HostPort } from './address';
import { CoordinatorError } from './errors';
import type { GossipEnvelope } from './gossip-envelope';
import { decodeMessage, encodeMessage } from './message-codec';
import type { Message } from './messages';
import type { PushPullMessage } from './push-pull-server';
import type { MembershipStats } from './stats';
import { FrameTooLargeError, readFrame, writeFrame } from './tcp-frames';

export interface PushPullClientOptions {
  envelope: GossipEnvelope;
  stats: MembershipStats;
  maxFrameBytes: number;
  maxMembers: number;
  timeoutMs: number;
  /** Aborting destroys the connection (stop() must not wait out a slow peer). */
  signal?: AbortSignal;
}

/** Sends our full state to `to` and returns theirs. Rejects with E_PUSH_PULL_FAILED on any failure. */
export async function pushPullExchange(to: HostPort, msg: PushPullMessage, opts: PushPullClientOptions): Promise<PushPullMessage> {
  const { envelope, stats } = opts;
  const request = envelope.seal(encodeMessage(msg), 'tcp');
  if (request.length > opts.maxFrameBytes) {
    throw new CoordinatorError('E_PUSH_PULL_FAILED', `our state (${request.length} bytes) is over maxPushPullBytes`);
  }
  const socket = connect({ host: to.host, port: to.port });
  // readFrame reports errors while it listens; this keeps a late reset from becoming uncaught.
  socket.on('error', () => undefined);
  socket.setTimeout(opts.timeoutMs, () => socket.destroy(new Error('push-pull timed out')));
  const onAbort = (): void => void socket.destroy(new Error('push-pull aborted'));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const replyPromise = readFrame(socket, opts.maxFrameBytes);
    socket.once('connect', () => {
      stats.bytesOut += request.length;
      writeFrame(socket, request);
    });
    let frame: Buffer;
    try {
      frame = await replyPromise;
    } catch (err) {
      if (err instanceof FrameTooLargeError) stats.malformed++;
      throw new CoordinatorError('E_PUSH_PULL_FAILED', `push-pull with ${to.host}:${to.port}: ${(err as Error).message}`);
    }
    stats.bytesIn += frame.length;
    const opened = envelope.open(frame, 'tcp');
    if (!opened.ok) {
      if (opened.reason === 'auth') stats.authFailures++;
      else stats.malformed++;
      throw new CoordinatorError('E_PUSH_PULL_FAILED', `push-pull reply from ${to.host}:${to.port} failed the ${opened.reason} check`);
    }
    let reply: Message | undefined;
    try {
      reply = decodeMessage(opened.payload, { maxMembers: opts.maxMembers });
    } catch {
      reply = undefined;
    }
    if (!reply || reply.type !== 'push-pull') {
      stats.malformed++;
      throw new CoordinatorError('E_PUSH_PULL_FAILED', `push-pull reply from ${to.host}:${to.port} is malformed`);
    }
    stats.pushPulls++;
    return reply;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}
