import { CorralError, Ops, PushKind, type RequestMeta } from '@corral/protocol';
import { HashRing, loadRingHasher } from '@corral/ring';
import type { Topology } from '../../src/topology';
import { FakePeer, type PeerRequest } from './fake-peer';

/**
 * FakePeers that act just enough like clustered nodes for routing tests: a store per peer, the
 * TOPOLOGY op, E_NOT_OWNER for a request with meta.epoch whose key this peer does not own under the
 * cluster's ring, and a log of every keyed request with its meta. Routing is what is under test
 * here; the real node's behaviour is covered by cluster-integration.test.ts.
 */
export interface SeenRequest { peer: string; op: string; keys: string[]; meta: RequestMeta | undefined }

export class FakeCluster {
  readonly seen: SeenRequest[] = [];
  /** What TOPOLOGY answers and what ownership is checked against; tests change it. */
  topology: Topology;
  /** Per peer: answer TOPOLOGY with this instead (a peer that lags behind). */
  readonly views = new Map<string, Topology>();
  /** Per peer: answer every keyed request with this error instead. */
  readonly failWith = new Map<string, CorralError>();
  private readonly stores = new Map<string, Map<string, [Buffer, number]>>();
  private version = 0;

  private constructor(readonly peers: FakePeer[], vnodes: number) {
    this.topology = { epoch: 1, vnodes, members: this.peers.map((p) => ({ id: FakeCluster.id(p), state: 'alive' as const, incarnation: 0 })) };
    for (const p of peers) this.serve(p);
  }

  static id(p: FakePeer): string { return `127.0.0.1:${p.port}`; }

  static async start(n: number, vnodes = 64): Promise<FakeCluster> {
    await loadRingHasher();
    const peers: FakePeer[] = [];
    for (let i = 0; i < n; i++) peers.push(await FakePeer.start());
    for (const p of peers) p.nodeId = FakeCluster.id(p);
    return new FakeCluster(peers, vnodes);
  }

  get ids(): string[] { return this.peers.map(FakeCluster.id); }

  private ringCache: { t: Topology; ring: HashRing } | undefined;

  /** The ring of the current topology (cached: the fake checks ownership on every request). */
  ring(t: Topology = this.topology): HashRing {
    if (this.ringCache?.t === t) return this.ringCache.ring;
    const ring = this.buildRing(t);
    this.ringCache = { t, ring };
    return ring;
  }

  private buildRing(t: Topology): HashRing {
    return new HashRing(t.members.filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => ({ id: m.id })), { vnodes: t.vnodes, epoch: t.epoch });
  }

  peer(id: string): FakePeer { return this.peers.find((p) => FakeCluster.id(p) === id)!; }
  store(id: string): Map<string, [Buffer, number]> { return this.stores.get(id)!; }

  /** Sends the current topology as a push on every client connection of every peer. */
  pushTopology(t: Topology = this.topology): void {
    for (const p of this.peers) for (const s of p.sockets) if (!s.destroyed) p.push(s, PushKind.Topology, t);
  }

  async stop(): Promise<void> {
    for (const p of this.peers) await p.stop();
  }

  private serve(p: FakePeer): void {
    const id = FakeCluster.id(p);
    this.stores.set(id, new Map());
    p.onRequest = (req) => {
      try {
        p.reply(req, this.answer(id, p.nodeId, req));
      } catch (e) {
        p.error(req, e as CorralError);
      }
    };
  }

  private answer(id: string, self: string, req: PeerRequest): unknown {
    const store = this.store(id);
    const a = req.args;
    switch (req.op) {
      case Ops.PING.code: return 'PONG';
      case Ops.STATS.code: return { keys: store.size };
      case Ops.TOPOLOGY.code: return this.views.get(id) ?? this.topology;
    }
    const keys = req.op === Ops.MGET.code ? (a[0] as string[])
      : req.op === Ops.MSET.code ? (a[0] as Array<[string]>).map((e) => e[0])
        : [a[0] as string];
    this.seen.push({ peer: id, op: Object.values(Ops).find((o) => o.code === req.op)!.name, keys, meta: req.meta });
    const fail = this.failWith.get(id);
    if (fail) throw fail;
    if (req.meta?.epoch !== undefined && !req.meta.fallback) {
      const ring = this.ring();
      for (const k of keys) {
        const owner = ring.ownerOf(k);
        if (owner !== self) throw new CorralError('E_NOT_OWNER', `${k} belongs to ${owner}`, { epoch: this.topology.epoch, owner });
      }
    }
    switch (req.op) {
      case Ops.GET.code: return store.get(keys[0]!) ?? null;
      case Ops.SET.code: store.set(keys[0]!, [a[1] as Buffer, ((a[2] ?? {}) as { flags?: number }).flags ?? 0]); return ++this.version;
      case Ops.MGET.code: return keys.map((k) => store.get(k) ?? null);
      case Ops.MSET.code: return (a[0] as Array<[string, Buffer, number?]>).map(([k, v, f]) => { store.set(k, [v, f ?? 0]); return ++this.version; });
      default: throw new CorralError('E_UNKNOWN_OP', `op ${req.op}`);
    }
  }
}
