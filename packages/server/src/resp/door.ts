import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { RespParser, RespProtocolError, type RespLimits } from './parser';
import { respError } from './encoder';
import { runRespCommand, type RespBackend, type RespReply } from './commands';

export interface RespDoorOptions {
  host: string;
  port: number;
  backend: RespBackend;
  limits: RespLimits;
  maxConnections: number;
  idleTimeoutMs: number;
  outputBufferHardBytes: number;
  logger: Logger;
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
    const write = (b: Buffer) => {
      if (socket.destroyed) return;
      socket.write(b);
      // A client that does not read its replies is dropped rather than allowed to grow memory.
      if (socket.writableLength > opts.outputBufferHardBytes) {
        this.log.warn({ remote: socket.remoteAddress, buffered: socket.writableLength }, 'resp_output_buffer_full');
        socket.destroy();
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (quitting) return;
      let cmds: Buffer[][];
      let fatal: Buffer | undefined;
      try {
        cmds = parser.push(chunk);
      } catch (e) {
        cmds = [];
        fatal = respError(`ERR ${e instanceof RespProtocolError ? e.message : 'Protocol error'}`);
      }
      const replies: RespReply[] = [];
      for (const c of cmds) {
        const r = runRespCommand(opts.backend, c);
        if (r === 'QUIT') { replies.push(Buffer.from('+OK\r\n')); quitting = true; break; }
        replies.push(r);
      }
      if (fatal) replies.push(fatal);
      const done = () => { if (quitting || fatal) socket.end(); };
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
