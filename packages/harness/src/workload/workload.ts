import type { Corral } from '@corral/client';
import type { WorkloadSpec } from '../scenario/scenario-types';
import type { KeyLedger, StaleRead } from './key-ledger';
import type { KeySpace } from './key-space';
import type { ValueCodec } from './value-codec';
import type { WindowStats } from './window-stats';

export interface WorkloadOptions {
  clients: readonly Corral[];
  keys: KeySpace;
  ledger: KeyLedger;
  codec: ValueCodec;
  spec: WorkloadSpec;
  stats: WindowStats;
  /** TTL of every write, when the scenario sets one. */
  ttlMs: number | undefined;
  /** What a node caps a gutter write's TTL at (the cluster's --gutter-ttl). */
  gutterTtlMs: number;
  /** ms since the run started. */
  now: () => number;
  /** The timeline step in progress (-1 before the first). */
  step: () => number;
  random?: () => number;
  /** Bound on operations in flight; arrivals beyond it are counted as skipped. */
  maxInFlight?: number;
  /** Called with each stale read as it is recorded (the harness probes the nodes for the key). */
  onStale?: (rec: StaleRead) => void;
}

const TICK_MS = 10;

/**
 * The application in front of the cluster: cache-aside over the scenario's key space. Arrivals
 * are open loop (a fixed rate whatever the latency, as real users do not wait for each other), so
 * a slow cluster shows up as latency and skipped arrivals rather than as a politely lower rate.
 *
 * A read that misses goes to the origin (the simulated database, which holds the last acknowledged
 * value) and refills the key with `nx`, so a refill never overwrites a newer write that raced it.
 * Every read is judged by the ledger: stale, lost, or fine.
 */
export class Workload {
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private startedAt = 0;
  private inFlight = 0;
  private next = 0;
  private readonly pending = new Set<Promise<void>>();
  /** Members whose breaker is not closed, per client: their keys go to a gutter, whose writes expire soon. */
  private readonly downOwners: Array<Set<string>>;
  /** Each client's ring epoch, kept from its 'topology' events (topology() copies the member list: not once per op). */
  private readonly epochs: number[];
  private readonly random: () => number;

  constructor(private readonly o: WorkloadOptions) {
    this.random = o.random ?? Math.random;
    this.epochs = o.clients.map((c) => c.topology().epoch);
    this.downOwners = o.clients.map((c, n) => {
      const down = new Set<string>();
      c.on('breaker', (ch) => { if (ch.state === 'closed') down.delete(ch.node); else down.add(ch.node); });
      // A member that leaves the client's ring takes its breaker with it (no 'closed' event); if
      // it comes back, it does with a new, closed one. Without this, writes to its keys after its
      // return would be taken for gutter writes, whose short TTL excuses later misses.
      c.on('topology', (epoch) => {
        this.epochs[n] = epoch;
        const open = new Set(c.topology().members.filter((m) => m.breaker !== undefined && m.breaker !== 'closed').map((m) => m.id));
        for (const id of down) if (!open.has(id)) down.delete(id);
      });
      return down;
    });
  }

  start(): void {
    if (this.timer) return;
    this.startedAt = this.o.now();
    this.started = 0;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops new arrivals and waits for the operations in flight (each is bounded by its timeout). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private tick(): void {
    const due = Math.floor(((this.o.now() - this.startedAt) / 1000) * this.o.spec.rate) - this.started;
    const max = this.o.maxInFlight ?? 512;
    for (let n = 0; n < due; n++) {
      this.started++;
      if (this.inFlight >= max) {
        this.o.stats.count('skipped');
        continue;
      }
      const c = this.next++ % this.o.clients.length;
      const i = this.o.keys.pick();
      const op = this.random() < this.o.spec.readRatio ? this.read(c, i) : this.write(c, i);
      this.inFlight++;
      const p = op.finally(() => { this.inFlight--; this.pending.delete(p); });
      this.pending.add(p);
    }
  }

  private async read(c: number, i: number): Promise<void> {
    const { ledger, codec, stats } = this.o;
    const client = this.o.clients[c]!;
    const key = this.o.keys.key(i);
    const expected = ledger.expectation(i);
    const sentAt = this.o.now();
    const sentWall = Date.now();
    const epochAtSend = this.epochs[c]!;
    const ownerAtSend = client.ownerOf(key);
    const ownerBreakerAtSend = this.downOwners[c]!.has(ownerAtSend) ? breakerOf(client, ownerAtSend) : 'closed';
    let value: unknown;
    try {
      value = await client.get(key, { timeoutMs: this.o.spec.timeoutMs });
    } catch (e) {
      this.failed(e, sentAt);
      return;
    }
    const now = this.o.now();
    stats.latency(now - sentAt);
    stats.count('ops');
    stats.count('reads');
    const decoded = value === undefined ? undefined : codec.decode(value) ?? 'foreign';
    const verdict = ledger.judge(i, sentAt, now, expected, decoded, { step: this.o.step(), detectedBy: 'read' });
    if (verdict === 'hit' || verdict === 'stale' || verdict === 'foreign') stats.count('hits');
    if (verdict === 'stale') {
      stats.count('staleReads');
      const rec = ledger.recordStale(i, (decoded as { seq: number }).seq, expected.seq, {
        client: clientName(c), step: this.o.step(), sentAtMs: round1(sentAt), atMs: round1(now), sentWall,
        epochAtSend, epochAtReply: this.epochs[c]!, ownerAtSend, ownerAtReply: client.ownerOf(key), ownerBreakerAtSend,
      });
      this.o.onStale?.(rec);
    }
    // Away: its node is restarting from a snapshot (planned); the application would load it from
    // the origin, but the cache is not refilled, so the sweep can tell whether the node brought it back.
    if (verdict === 'away') { stats.count('misses'); stats.count('originLoads'); return; }
    if (verdict === 'miss' || verdict === 'lost') {
      stats.count('misses');
      if (verdict === 'lost') stats.count('missedAcked');
      await this.refill(c, i);
    }
  }

  /** The miss path: load from the origin, then cache it unless someone wrote the key meanwhile. */
  private async refill(c: number, i: number): Promise<void> {
    const { ledger, stats } = this.o;
    stats.count('originLoads');
    if (this.o.spec.originLatencyMs > 0) await new Promise((r) => setTimeout(r, this.o.spec.originLatencyMs));
    const seq = ledger.beginWrite(i, false);
    if (seq === undefined || seq === 0) {
      if (seq === 0) ledger.endWrite(i);
      return; // a write is in flight and will fill it; or the key was never written (nothing to load)
    }
    await this.put(c, i, seq, true);
  }

  private async write(c: number, i: number): Promise<void> {
    const seq = this.o.ledger.beginWrite(i, true);
    if (seq === undefined) return this.read(c, i); // one write per key at a time keeps "last acknowledged" well defined
    const sentAt = this.o.now();
    const ok = await this.put(c, i, seq, false);
    if (!ok) return;
    const now = this.o.now();
    this.o.stats.latency(now - sentAt);
    this.o.stats.count('ops');
    this.o.stats.count('writes');
  }

  /** SET (or SET nx for a refill) and record the acknowledgement. Returns whether it was acknowledged. */
  private async put(c: number, i: number, seq: number, refill: boolean): Promise<boolean> {
    const { ledger, codec } = this.o;
    const client = this.o.clients[c]!;
    const key = this.o.keys.key(i);
    const owner = client.ownerOf(key);
    const gutterAtSend = this.downOwners[c]!.has(owner);
    const epochAtSend = this.epochs[c]!;
    const sentWall = Date.now();
    const sentAt = this.o.now();
    let version: number | undefined;
    try {
      version = await client.set(key, codec.encode(i, seq), {
        timeoutMs: this.o.spec.timeoutMs,
        ...(this.o.ttlMs !== undefined && { ttlMs: this.o.ttlMs }),
        ...(refill && { nx: true }),
      });
    } catch (e) {
      ledger.endWrite(i);
      if (!refill) this.failed(e, sentAt);
      return false;
    }
    if (version === undefined) {
      ledger.endWrite(i); // nx refused: the key is there after all
      ledger.foundAgain(i);
      return false;
    }
    const gutter = gutterAtSend || this.downOwners[c]!.has(client.ownerOf(key));
    const ttl = gutter ? Math.min(this.o.gutterTtlMs, this.o.ttlMs ?? Infinity) : this.o.ttlMs;
    ledger.ackWrite(i, seq, version, sentAt, this.o.now(), ttl, client.ownerOf(key), {
      client: clientName(c), epochAtSend, epochAtAck: this.epochs[c]!, ownerAtSend: owner, gutter, refill, sentWall,
    });
    return true;
  }

  private failed(e: unknown, sentAt: number): void {
    this.o.stats.latency(this.o.now() - sentAt);
    this.o.stats.error(String((e as { code?: unknown }).code ?? 'E_UNKNOWN'));
  }
}

const clientName = (c: number): string => `harness-client-${c + 1}`;
const round1 = (ms: number): number => Math.round(ms * 10) / 10;

function breakerOf(client: Corral, id: string): string | undefined {
  return client.topology().members.find((m) => m.id === id)?.breaker;
}
