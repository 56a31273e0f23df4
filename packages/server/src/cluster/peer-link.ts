import { connect, type Socket } from 'node:net';
import { CorralError, encodeRequest, FrameDecoder, DefaultLimits, Ops, PROTOCOL_VERSION, type OpSpec, type RequestMeta } from '@corral/protocol';

/** One connection attempt's socket, and when it last received anything (performance.now()). */
interface Conn { socket: Socket; heardAt: number }
interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; conn: Conn }

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
 *
 * A request that times out on a socket that stayed silent the whole time it waited closes that
 * socket, and the next request dials afresh. A connection that lived through a partition (or a
 * peer's freeze) is not closed by anything: what was written into it sits in TCP's retransmission
 * backoff, which after a few seconds of outage waits many more seconds between tries, so without
 * this every request on it would time out long after the network is back.
 */
export class PeerLink {
  private conn: Conn | undefined;
  private connecting: Promise<Conn> | undefined;
  /** The socket of the connect in progress, so close() can abort it (a connect to a cut-off peer waits for the timeout). */
  private connectingSocket: Socket | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failedAt = -Infinity;
  private closed = false;

  constructor(readonly id: string, private readonly opts: PeerLinkOptions) {}

  async request(op: OpSpec, args: unknown[], meta?: RequestMeta): Promise<unknown> {
    if (this.closed) throw new CorralError('E_CLIENT_CLOSED', 'peer link closed');
    const conn = await this.ensure();
    const id = this.takeId();
    const sentAt = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // Silent since the request went out: the socket is presumed dead; the next request redials.
        if (conn.heardAt < sentAt) conn.socket.destroy();
        reject(new CorralError('E_TIMEOUT', `${this.id} did not answer ${op.name} within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, conn });
      conn.socket.write(encodeRequest(id, op.code, args, meta));
    });
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
    return id;
  }

  private ensure(): Promise<Conn> {
    if (this.conn && !this.conn.socket.destroyed) return Promise.resolve(this.conn);
    if (this.connecting) return this.connecting;
    if (performance.now() - this.failedAt < this.opts.retryAfterMs)
      return Promise.reject(new CorralError('E_NOT_CONNECTED', `${this.id} is unreachable (retrying shortly)`));
    const [host, port] = splitAddress(this.id);
    // Everything below refers to this attempt's own promise and socket: a socket closing late
    // (one this link already gave up on) must not settle or clear a newer attempt.
    const attempt: Promise<Conn> = new Promise<Conn>((resolve, reject) => {
      const s = connect({ host, port, noDelay: true });
      this.connectingSocket = s;
      const conn: Conn = { socket: s, heardAt: -Infinity };
      let settled = false;
      const decoder = new FrameDecoder(this.opts.maxFrameBytes ?? DefaultLimits.maxFrameBytes);
      // The request timeout must cover the connect too: a cut-off peer (partition) does not
      // refuse, its SYNs just vanish, and the kernel would keep retrying for minutes.
      const connectTimer = setTimeout(() => s.destroy(), this.opts.timeoutMs);
      s.once('connect', () => {
        clearTimeout(connectTimer);
        if (this.closed) { s.destroy(); return; } // settled (rejected) by 'close'
        settled = true;
        if (this.connecting === attempt) { this.connecting = undefined; this.connectingSocket = undefined; }
        conn.heardAt = performance.now();
        // Requests on a connection run in order, so nothing needs to wait for this reply (it is ignored).
        if (this.opts.hello?.auth !== undefined) s.write(encodeRequest(this.takeId(), Ops.HELLO.code, [PROTOCOL_VERSION, { name: 'corral-peer', auth: this.opts.hello.auth }]));
        this.conn = conn;
        resolve(conn);
      });
      s.on('data', (chunk: Buffer) => {
        conn.heardAt = performance.now();
        const r = decoder.push(chunk);
        for (const f of r.frames) {
          if (f.kind !== 1 && f.kind !== 2) continue;
          const p = this.pending.get(f.id);
          if (!p || p.conn !== conn) continue;
          this.pending.delete(f.id);
          clearTimeout(p.timer);
          if (f.kind === 1) p.resolve(f.result);
          else p.reject(new CorralError(f.code as never, f.message, f.details));
        }
        if (r.error) s.destroy(r.error);
      });
      let error: string | undefined;
      s.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message; }); // surfaced through close
      s.once('close', () => {
        clearTimeout(connectTimer);
        if (!settled) {
          settled = true;
          if (this.connecting === attempt) { this.connecting = undefined; this.connectingSocket = undefined; }
          this.failedAt = performance.now();
          reject(new CorralError('E_NOT_CONNECTED', `cannot reach ${this.id}${error === undefined ? '' : ` (${error})`}`));
        }
        if (this.conn === conn) this.conn = undefined;
        this.fail(conn, new CorralError('E_CONNECTION_CLOSED', `connection to ${this.id} closed`));
      });
    });
    this.connecting = attempt;
    return attempt;
  }

  /** Fails the requests waiting on `conn` (all of them without one). */
  private fail(conn: Conn | undefined, e: CorralError): void {
    for (const [id, p] of this.pending) {
      if (conn !== undefined && p.conn !== conn) continue;
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }

  close(): void {
    this.closed = true;
    this.connectingSocket?.destroy();
    this.conn?.socket.destroy();
    this.fail(undefined, new CorralError('E_CLIENT_CLOSED', 'peer link closed'));
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

  /**
   * Closes the link to `id` (failing what is in flight on it); the next get() makes a new one.
   * For a member that was declared dead, or that comes back from dead: whatever socket we had to
   * it went through the outage and cannot be trusted.
   */
  drop(id: string): void {
    const l = this.links.get(id);
    if (!l) return;
    this.links.delete(id);
    l.close();
  }

  closeAll(): void {
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}
