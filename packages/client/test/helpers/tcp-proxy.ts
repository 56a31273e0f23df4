import net from 'node:net';
import { once } from 'node:events';

/**
 * A TCP pass-through between a client and a real node, for faults the node cannot be asked for:
 * holding its replies (a stalled node or a congested network: the client sees silence) and
 * cutting connections mid-request. Bytes are forwarded untouched; it knows nothing of frames.
 */
export class TcpProxy {
  private held: Array<{ socket: net.Socket; data: Buffer }> | undefined;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private readonly server: net.Server;
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(target);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = (): void => { this.pairs.delete(pair); client.destroy(); upstream.destroy(); };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => (this.held ? this.held.push({ socket: client, data: d }) : client.write(d)));
    });
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const p = new TcpProxy(target);
    p.server.listen(0, '127.0.0.1');
    await once(p.server, 'listening');
    p.port = (p.server.address() as net.AddressInfo).port;
    return p;
  }

  /** From now on the node's bytes are kept back. */
  holdReplies(): void { this.held ??= []; }

  /** Delivers what was kept back, in order, and forwards again. */
  releaseReplies(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { socket, data } of held) if (!socket.destroyed) socket.write(data);
  }

  /** Cuts every connection, both sides, without a goodbye. */
  cutAll(): void {
    for (const [a, b] of this.pairs) { a.destroy(); b.destroy(); }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
