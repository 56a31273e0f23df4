import net from 'node:net';
import { once } from 'node:events';
import {
  CorralError, DefaultLimits, FrameDecoder, Ops, PROTOCOL_VERSION,
  encodeError, encodeFrame, encodePush, encodeResponse, type RequestFrame,
} from '@corral/protocol';

/**
 * A raw TCP peer that speaks frames, for the transport's edge cases a real node will not produce
 * on demand: never replying, replying out of order, dropping mid-request, pushing, sending garbage.
 * It is not a cache: it stores nothing and answers only what a test tells it to (HELLO aside).
 */
export interface PeerRequest extends RequestFrame { socket: net.Socket }

/** How the peer answers HELLO: normally, never, with an error for the request, or with an id-0 error and a close. */
export type HelloMode = 'reply' | 'ignore' | { error: CorralError; connection?: boolean };

export class FakePeer {
  readonly sockets: net.Socket[] = [];
  readonly requests: PeerRequest[] = [];
  readonly hellos: PeerRequest[] = [];
  /** HELLOs and requests, in arrival order. */
  readonly frames: PeerRequest[] = [];
  /** 'data' events seen, over all sockets: how many writes the client's requests arrived in (at most). */
  chunks = 0;
  connections = 0;
  hello: HelloMode = 'reply';
  /** The node id HELLO reports. */
  nodeId = 'fake';
  /** Called for every non-HELLO request as it arrives, for tests that want the peer to answer on its own. */
  onRequest: ((req: PeerRequest) => void) | undefined;
  limits: Record<string, number> = { maxKeyBytes: DefaultLimits.maxKeyBytes, maxValueBytes: DefaultLimits.maxValueBytes, maxFrameBytes: DefaultLimits.maxFrameBytes };
  private waiters: Array<() => void> = [];
  private server: net.Server;

  private constructor(public port: number) {
    this.server = this.makeServer();
  }

  static async start(port = 0): Promise<FakePeer> {
    const peer = new FakePeer(port);
    await peer.listen(port);
    return peer;
  }

  private makeServer(): net.Server {
    return net.createServer((socket) => {
      this.connections++;
      this.sockets.push(socket);
      socket.on('error', () => {});
      const decoder = new FrameDecoder(DefaultLimits.maxFrameBytes);
      socket.on('data', (chunk) => {
        this.chunks++;
        for (const f of decoder.push(chunk).frames) {
          if (f.kind !== 0) continue;
          const req: PeerRequest = { ...f, socket };
          this.frames.push(req);
          if (f.op === Ops.HELLO.code) {
            this.hellos.push(req);
            if (this.hello === 'reply') socket.write(encodeResponse(f.id, { version: PROTOCOL_VERSION, node: this.nodeId, server: 'fake/0', admin: false, limits: this.limits }));
            else if (this.hello !== 'ignore' && this.hello.connection) socket.end(encodeError(0, this.hello.error));
            else if (this.hello !== 'ignore') socket.write(encodeError(f.id, this.hello.error));
          } else {
            this.requests.push(req);
            this.onRequest?.(req);
          }
          this.notify();
        }
      });
    });
  }

  private async listen(port: number): Promise<void> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `n` non-HELLO requests have arrived in total. */
  async waitForRequests(n: number): Promise<PeerRequest[]> {
    while (this.requests.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.requests.slice(0, n);
  }

  async waitForHellos(n: number): Promise<void> {
    while (this.hellos.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }

  reply(req: PeerRequest, result: unknown): void { req.socket.write(encodeResponse(req.id, result)); }
  error(req: PeerRequest, err: CorralError): void { req.socket.write(encodeError(req.id, err)); }
  push(socket: net.Socket, kind: number, body: unknown): void { socket.write(encodePush(kind, body)); }
  connectionError(socket: net.Socket, err: CorralError): void { socket.write(encodeError(0, err)); }
  /** A frame no client should get: a request. */
  sendRequestFrame(socket: net.Socket): void { socket.write(encodeFrame({ kind: 0, id: 1, op: 1, args: [] })); }

  get lastSocket(): net.Socket { return this.sockets[this.sockets.length - 1]!; }

  /** Drops every client connection; the server keeps listening. */
  dropAll(): void { for (const s of this.sockets) s.destroy(); }

  /** Stops listening and drops everyone, so reconnects are refused. */
  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.port);
  }
}

/** A port nothing listens on (bound, read, released). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
