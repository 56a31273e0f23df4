import { CorralError, Ops, PushKind, type Clock, type InvalidationMessage, type InvalidationReplay, type SubscribeMode } from '@corral/protocol';
import { clientError } from '../errors';
import type { Logger } from '../logger';
import type { NodeConnection, PushEvent } from '../node-connection';
import type { CoherenceTracker } from './coherence-tracker';

/** How often the watch looks at its members and their silence. */
export const WATCH_TICK_MS = 25;

type Listener = [event: 'connect' | 'close' | 'push', fn: (...a: never[]) => void];

/**
 * The L1's hands on the connections: subscribes each member's connection on every (re)connect,
 * feeds its Invalidate and Heartbeat pushes to the tracker, tells it when the connection drops,
 * and replays gaps on the same connection (so the replay is ordered after every push before it).
 * Members come and go with the topology and a member's connection object may be replaced, so the
 * list is looked at again on every tick.
 */
export class MemberWatch {
  private readonly attached = new Map<NodeConnection, { id: string; listeners: Listener[] }>();
  private readonly subscribing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastTick: number;
  private closed = false;

  constructor(
    private readonly members: () => Array<[id: string, conn: NodeConnection]>,
    private readonly tracker: CoherenceTracker,
    private readonly sub: { mode: SubscribeMode; prefixes: readonly string[] },
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.lastTick = clock.now();
  }

  start(): void {
    this.scan();
    this.timer = setInterval(() => this.tick(), WATCH_TICK_MS);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const [conn, a] of this.attached) for (const [ev, fn] of a.listeners) conn.off(ev, fn as never);
    this.attached.clear();
  }

  /** The connection a node's requests go on, when it is up. */
  connectionOf(node: string): NodeConnection | undefined {
    for (const [c, a] of this.attached) if (a.id === node && c.state === 'ready') return c;
    return undefined;
  }

  replay(node: string, epoch: number, seq: number): Promise<InvalidationReplay> {
    const conn = this.connectionOf(node);
    if (conn === undefined) return Promise.reject(clientError('E_NOT_CONNECTED', `no connection to ${node} to replay on`));
    return conn.request(Ops.INVALIDATIONS_SINCE, [epoch, seq]) as Promise<InvalidationReplay>;
  }

  resubscribe(node: string): void {
    const conn = this.connectionOf(node);
    if (conn !== undefined) this.subscribe(node, conn);
  }

  /** Attaches to new members and forgets departed ones. */
  scan(): void {
    if (this.closed) return;
    const now = new Map(this.members());
    const live = new Set(now.values());
    for (const [conn, a] of this.attached) {
      if (live.has(conn)) continue;
      for (const [ev, fn] of a.listeners) conn.off(ev, fn as never);
      this.attached.delete(conn);
    }
    for (const [id, conn] of now) if (!this.attached.has(conn)) this.attach(id, conn);
    for (const node of this.tracker.nodes()) if (!now.has(node)) this.tracker.onRemoved(node);
  }

  private tick(): void {
    const t = this.clock.now();
    // A timer this late means the event loop was busy: pushes may be sitting unread in the socket.
    const starved = t - this.lastTick > 4 * WATCH_TICK_MS;
    this.lastTick = t;
    this.tracker.tick(starved);
    this.scan();
    for (const [conn, a] of this.attached) {
      const s = this.tracker.stream(a.id);
      if (s.status === 'unsynced' && !s.unsupported && conn.state === 'ready') this.subscribe(a.id, conn);
    }
  }

  private attach(id: string, conn: NodeConnection): void {
    const onConnect = () => this.subscribe(id, conn);
    const onClose = () => this.tracker.onClosed(id);
    const onPush = (p: PushEvent) => {
      if (p.kind !== PushKind.Invalidate && p.kind !== PushKind.Heartbeat) return;
      if (!isMessage(p.body)) { this.logger.warn({ node: id }, 'bad invalidation push'); return; }
      this.tracker.onMessage(id, p.body, p.kind === PushKind.Heartbeat);
    };
    conn.on('connect', onConnect);
    conn.on('close', onClose);
    conn.on('push', onPush);
    this.attached.set(conn, { id, listeners: [['connect', onConnect], ['close', onClose], ['push', onPush]] });
    if (conn.state === 'ready') this.subscribe(id, conn);
  }

  private subscribe(id: string, conn: NodeConnection): void {
    if (this.closed || this.subscribing.has(id)) return;
    this.subscribing.add(id);
    this.tracker.onSubscribing(id);
    const opts: Record<string, unknown> = { mode: this.sub.mode };
    if (this.sub.prefixes.length > 0) opts['prefixes'] = this.sub.prefixes;
    conn.request(Ops.INVALIDATIONS_SUBSCRIBE, [opts]).then((r) => {
      this.subscribing.delete(id);
      const reply = r as { epoch?: unknown; seq?: unknown; heartbeatMs?: unknown };
      if (typeof reply.epoch !== 'number' || typeof reply.seq !== 'number') throw clientError('E_INTERNAL', `bad INVALIDATIONS_SUBSCRIBE reply from ${id}`);
      this.tracker.onSubscribed(id, { epoch: reply.epoch, seq: reply.seq, heartbeatMs: typeof reply.heartbeatMs === 'number' ? reply.heartbeatMs : 100 });
    }).catch((e: unknown) => {
      this.subscribing.delete(id);
      if (e instanceof CorralError && e.code === 'E_UNKNOWN_OP') { this.tracker.onUnsupported(id); return; }
      // Retried on the next tick (or the next connect).
      this.logger.debug({ node: id, err: (e as Error).message }, 'l1 subscribe failed');
    });
  }
}

function isMessage(b: unknown): b is InvalidationMessage {
  if (typeof b !== 'object' || b === null) return false;
  const m = b as Record<string, unknown>;
  return typeof m['epoch'] === 'number' && typeof m['from'] === 'number' && typeof m['to'] === 'number'
    && (m['keys'] === undefined || Array.isArray(m['keys'])) && (m['versions'] === undefined || Array.isArray(m['versions']));
}
