import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { RespParser, RespProtocolError, type RespLimits } from './parser';
import { respError } from './encoder';
import { runRespCommand, type RespBackend, type RespReply } from './commands';
import type { DropReason } from '../node-metrics';
import { CONGESTED_RECHECK_MS, ReadPause } from '../read-pause';

export interface RespDoorOptions {
  host: string;
  port: number;
  backend: RespBackend;
  limits: RespLimits;
  maxConnections: number;
  idleTimeoutMs: number;
  /** Unsent replies past which the door stops reading from the client (as the native listener does). */
  outputBufferSoftBytes: number;
  /** Past this the client is dropped at once. */
  outputBufferHardBytes: number;
  /** A client paused this long without reading anything is dropped. */
  outputBufferPauseMs: number;
  logger: Logger;
  /** A client dropped for its output (the node's dropped-connections metric). */
  onDrop?: (reason: DropReason) => void;
}

/**
 * The Redis-compatible door: RESP2 over TCP, each command mapped onto the native op table.
 * Replies leave in request order even when some are forwarded to other nodes (async).
 */
export class RespDoor {
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server, private readonly log: Logger) {}

  static start(opts: RespDoorOptions): Promise<RespDoor> {
    const log = opts.logger.child({ component: 'resp' });
    const server = createServer({ noDelay: true });
    const door = new RespDoor(server, log);
    server.on('connection', (s) => door.accept(s, opts));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        log.info({ host: opts.host, port: door.port }, 'resp_listening');
        resolve(door);
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  private accept(socket: Socket, opts: RespDoorOptions): void {
    if (this.sockets.size >= opts.maxConnections) {
      socket.end(respError('ERR max number of clients reached'));
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (opts.idleTimeoutMs > 0) socket.setTimeout(opts.idleTimeoutMs, () => socket.destroy());
    const parser = new RespParser(opts.limits);
    let tail: Promise<void> | undefined;
    let quitting = false;
    // Commands parsed but not run yet: past the soft output limit the door stops running them and
    // stops reading, so a client that does not read its replies cannot make the node execute (and
    // buffer the replies of) a whole pipeline; past the hard limit, or paused without reading for
    // outputBufferPauseMs, it is dropped. The same rules as the native listener (NodeConnection).
    let queue: Array<Buffer[] | undefined> = [];
    let head = 0;
    let fatal: Buffer | undefined;
    const soft = opts.outputBufferSoftBytes;
    const drop = (reason: DropReason) => {
      if (socket.destroyed) return;
      this.log.warn({ remote: socket.remoteAddress, buffered: socket.writableLength, reason }, 'resp_conn_dropped');
      opts.onDrop?.(reason);
      socket.destroy();
    };
    const readPause = new ReadPause(socket, opts.outputBufferPauseMs, () => drop('output_buffer_stalled'));
    socket.on('close', () => { readPause.dispose(); queue = []; });
    const write = (b: Buffer) => {
      if (socket.destroyed) return;
      socket.write(b);
      if (socket.writableLength > opts.outputBufferHardBytes) drop('output_buffer_hard');
    };
    // Replies leave in command order: after any earlier batch still waiting for a forwarded reply.
    const send = (replies: RespReply[], end: boolean) => {
      const done = () => { if (end) socket.end(); };
      if (!tail && replies.every((r) => Buffer.isBuffer(r))) {
        if (replies.length) write(replies.length === 1 ? (replies[0] as Buffer) : Buffer.concat(replies as Buffer[]));
        done();
        return;
      }
      const prev = tail ?? Promise.resolve();
      const mine: Promise<void> = prev.then(async () => {
        write(Buffer.concat(await Promise.all(replies)));
        done();
      }).finally(() => { if (tail === mine) tail = undefined; });
      tail = mine;
    };
    const pump = () => {
      if (socket.destroyed) return;
      const replies: RespReply[] = [];
      let bytes = 0;
      while (head < queue.length && socket.writableLength + bytes < soft) {
        const c = queue[head]!;
        queue[head++] = undefined;
        const r = runRespCommand(opts.backend, c);
        if (r === 'QUIT') { replies.push(Buffer.from('+OK\r\n')); quitting = true; break; }
        replies.push(r);
        if (Buffer.isBuffer(r)) bytes += r.length;
      }
      const ran = quitting || head === queue.length;
      if (ran) { queue = []; head = 0; }
      if (ran && fatal) replies.push(fatal);
      send(replies, ran && (quitting || fatal !== undefined));
      if (ran && !quitting && !fatal) readPause.resume();
      else if (!ran) {
        readPause.pause();
        // 'drain' runs the rest; it only comes after a write the socket refused, so look again otherwise.
        if (!socket.writableNeedDrain) setTimeout(pump, CONGESTED_RECHECK_MS);
      }
    };
    socket.on('drain', () => {
      readPause.progressed();
      if (socket.writableLength < soft) pump();
    });
    socket.on('data', (chunk: Buffer) => {
      if (quitting || fatal) return;
      try {
        for (const c of parser.push(chunk)) queue.push(c);
      } catch (e) {
        fatal = respError(`ERR ${e instanceof RespProtocolError ? e.message : 'Protocol error'}`);
      }
      pump();
    });
  }

  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.end();
    const t = setTimeout(() => { for (const s of this.sockets) s.destroy(); }, graceMs);
    t.unref();
    await closed;
    clearTimeout(t);
  }
}
