import { connect, type Socket } from 'node:net';
import { CorralError, encodeRequest, FrameDecoder, DefaultLimits, Ops, PROTOCOL_VERSION, type OpSpec, type RequestMeta } from '@corral/protocol';

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export interface PeerLinkOptions {
  timeoutMs: number;
  retryAfterMs: number;
  maxFrameBytes?: number;
  /** With an admin token, every new connection starts with HELLO carrying it (handoff ops are admin ops). */
  hello?: { auth?: string };
}

/**
 * A node's connection to another node (forwarding for the RESP door, later handoff): one socket,
 * many requests in flight, replies matched by id. Connects lazily and again on the next request
 * after a failure; a node that just refused a connection is not retried for `retryAfterMs`, so a
 * dead peer costs one failed connect per interval instead of one per request.
 */
export class PeerLink {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failedAt = -Infinity;

  constructor(readonly id: string, private readonly opts: PeerLinkOptions) {}

  async request(op: OpSpec, args: unknown[], meta?: RequestMeta): Promise<unknown> {
    const socket = await this.ensure();
    const id = this.takeId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CorralError('E_TIMEOUT', `${this.id} did not answer ${op.name} within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.write(encodeRequest(id, op.code, args, meta));
    });
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
    return id;
  }

  private ensure(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    if (performance.now() - this.failedAt < this.opts.retryAfterMs)
      return Promise.reject(new CorralError('E_NOT_CONNECTED', `${this.id} is unreachable (retrying shortly)`));
    const [host, port] = splitAddress(this.id);
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port, noDelay: true });
      const decoder = new FrameDecoder(this.opts.maxFrameBytes ?? DefaultLimits.maxFrameBytes);
      // The request timeout must cover the connect too: a cut-off peer (partition) does not
      // refuse, its SYNs just vanish, and the kernel would keep retrying for minutes.
      const connectTimer = setTimeout(() => s.destroy(), this.opts.timeoutMs);
      s.once('connect', () => {
        clearTimeout(connectTimer);
        // Requests on a connection run in order, so nothing needs to wait for this reply (it is ignored).
        if (this.opts.hello?.auth !== undefined) s.write(encodeRequest(this.takeId(), Ops.HELLO.code, [PROTOCOL_VERSION, { name: 'corral-peer', auth: this.opts.hello.auth }]));
        this.socket = s; this.connecting = undefined; resolve(s);
      });
      s.on('data', (chunk: Buffer) => {
        const r = decoder.push(chunk);
        for (const f of r.frames) {
          if (f.kind !== 1 && f.kind !== 2) continue;
          const p = this.pending.get(f.id);
          if (!p) continue;
          this.pending.delete(f.id);
          clearTimeout(p.timer);
          if (f.kind === 1) p.resolve(f.result);
          else p.reject(new CorralError(f.code as never, f.message, f.details));
        }
        if (r.error) s.destroy(r.error);
      });
      s.on('error', () => { /* surfaced through close */ });
      s.once('close', () => {
        clearTimeout(connectTimer);
        if (this.connecting) { this.connecting = undefined; this.failedAt = performance.now(); reject(new CorralError('E_NOT_CONNECTED', `cannot reach ${this.id}`)); }
        if (this.socket === s) this.socket = undefined;
        this.failAll(new CorralError('E_CONNECTION_CLOSED', `connection to ${this.id} closed`));
      });
    });
    return this.connecting;
  }

  private failAll(e: CorralError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }

  close(): void {
    this.socket?.destroy();
    this.failAll(new CorralError('E_CLIENT_CLOSED', 'peer link closed'));
  }
}

export function splitAddress(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))];
}

/** One PeerLink per peer id, created on first use. */
export class PeerPool {
  private readonly links = new Map<string, PeerLink>();
  constructor(private readonly opts: PeerLinkOptions) {}

  get(id: string): PeerLink {
    let l = this.links.get(id);
    if (!l) { l = new PeerLink(id, this.opts); this.links.set(id, l); }
    return l;
  }

  closeAll(): void {
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}
