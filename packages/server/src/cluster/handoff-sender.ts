import { setImmediate as nextTurn } from 'node:timers/promises';
import { Ops, type Clock } from '@corral/protocol';
import type { HashRing } from '@corral/ring';
import type { Logger } from 'pino';
import type { MemoryStore } from '../memory-store';
import { ByteThrottle } from './byte-throttle';
import type { HandoffConfig } from './cluster-config';
import type { ClusterView } from './cluster-view';
import type { BatchResult, WireEntry } from './handoff-receiver';
import type { PeerPool } from './peer-link';

export interface HandoffSenderOptions {
  store: MemoryStore;
  view: ClusterView;
  /** Bulk links (batch timeout). */
  peers: PeerPool;
  /** Short-timeout links for `done` notices, so a member that died unnoticed cannot hold a drain up. */
  noticePeers: PeerPool;
  config: HandoffConfig;
  clock: Clock;
  logger: Logger;
}

export type SenderState = 'idle' | 'scanning' | 'sending' | 'retrying';

export interface TargetProgress { planned: number; sent: number; rejected: number; failed: number }

/** Keys hashed per turn of the event loop while scanning: a few ms, so client requests keep flowing. */
const SCAN_CHUNK = 5_000;
/** Receivers fed at once. */
const SEND_CONCURRENCY = 4;
/** Gossip delivers a change to the members one by one; a short pause lets a burst become one pass. */
const DEBOUNCE_MS = 20;
const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 5_000;
/** Per-entry framing in a batch (array headers, flags, version, ttl), for the byte budget. */
const ENTRY_OVERHEAD_BYTES = 24;

/**
 * The sending side of handoff. After every ring change it makes a pass: scan the store for keys
 * this node no longer owns, group them by their new owner, and stream them there in throttled
 * HANDOFF batches; each key the receiver took is then deleted here (unless it was rewritten in the
 * meantime). Keys a receiver refused (its ring does not yet say it owns them) or could not take
 * (unreachable) stay and are retried with backoff. When a pass leaves nothing behind, every member
 * gets a `done` notice, which ends their reads through to this node.
 *
 * A pass works from the store, not from the ring diff: whatever this node holds and does not own
 * goes to its owner, so back-to-back changes, a node that was alone before joining, and copies
 * written as a gutter all converge without tracking which change put them here.
 */
export class HandoffSender {
  private stateNow: SenderState = 'idle';
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private readonly stopSignal = { stopped: false };
  private readonly throttle: ByteThrottle;
  private idleWaiters: Array<() => void> = [];
  /** The retry backoff in progress, so stop() can end it instead of holding the process for seconds. */
  private backoffTimer: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private pass: { n: number; epoch: number; startedAt: number; byTarget: Record<string, TargetProgress> } | undefined;
  private readonly lifetime = { passes: 0, keys: 0, bytes: 0, failedBatches: 0, byTarget: {} as Record<string, number> };
  /** Keys this node does not own and cannot send anywhere (the ring is empty: it was the last member). */
  private stranded = 0;
  private lastError: string | undefined;

  constructor(private readonly o: HandoffSenderOptions) {
    this.throttle = new ByteThrottle(o.config.maxBytesPerSec, () => o.clock.now());
  }

  get state(): SenderState { return this.stateNow; }
  get idle(): boolean { return this.stateNow === 'idle' && !this.running && !this.timer; }

  /** Plans a new pass; one in progress stops at its next batch and starts over on the new ring. */
  onRingChange(): void {
    this.dirty = true;
    // A pass waiting to retry starts over at once: the new ring may well be what it was waiting for.
    if (this.backoffTimer) { clearTimeout(this.backoffTimer.timer); this.backoffTimer.wake(); }
    this.schedule();
  }

  /** Resolves once no pass is running or planned. */
  whenIdle(): Promise<void> {
    if (this.idle || this.stopSignal.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopSignal.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.backoffTimer) { clearTimeout(this.backoffTimer.timer); this.backoffTimer.wake(); }
    this.wakeIdleWaiters();
  }

  stats(): Record<string, unknown> {
    return {
      // Planned but not started yet (debounce) counts as busy: tools wait for idle.
      state: this.idle ? 'idle' : this.stateNow === 'idle' ? 'scanning' : this.stateNow,
      pass: this.pass && { ...this.pass, byTarget: { ...this.pass.byTarget } },
      lifetime: { ...this.lifetime, byTarget: { ...this.lifetime.byTarget } },
      stranded: this.stranded,
      lastError: this.lastError ?? null,
    };
  }

  private schedule(): void {
    if (this.stopSignal.stopped || this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run()
        .catch((err: unknown) => { this.lastError = String(err); this.o.logger.error({ err }, 'handoff_pass_failed'); })
        .finally(() => {
          this.running = undefined;
          this.stateNow = 'idle';
          if (this.dirty) this.schedule();
          else this.wakeIdleWaiters();
        });
    }, DEBOUNCE_MS);
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async run(): Promise<void> {
    let backoff = RETRY_BASE_MS;
    while (!this.stopSignal.stopped) {
      this.dirty = false;
      const { ring, epoch, selfId } = this.o.view;
      this.stateNow = 'scanning';
      const plan = await this.scan(ring, selfId);
      if (this.dirty || this.stopSignal.stopped) continue;
      this.stateNow = 'sending';
      const left = await this.send(plan, epoch, selfId);
      if (this.dirty || this.stopSignal.stopped) continue;
      if (left > 0) {
        this.stateNow = 'retrying';
        await this.backoff(backoff);
        backoff = Math.min(backoff * 2, RETRY_CAP_MS);
        continue;
      }
      await this.announceDone(ring, epoch, selfId, plan);
      if (!this.dirty) return;
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => { this.backoffTimer = undefined; resolve(); };
      this.backoffTimer = { timer: setTimeout(wake, ms), wake };
    });
  }

  /** Keys held here and owned elsewhere, by owner. */
  private async scan(ring: HashRing, selfId: string): Promise<Map<string, string[]>> {
    const plan = new Map<string, string[]>();
    if (ring.size === 0) {
      this.stranded = this.o.store.size;
      return plan;
    }
    this.stranded = 0;
    let n = 0;
    for (const e of this.o.store.entries()) {
      const owner = ring.ownerOf(e.key);
      if (owner !== selfId) {
        let keys = plan.get(owner);
        if (!keys) plan.set(owner, (keys = []));
        keys.push(e.key);
      }
      if (++n % SCAN_CHUNK === 0) {
        await nextTurn();
        if (this.dirty || this.stopSignal.stopped) break;
      }
    }
    return plan;
  }

  /** Sends the plan; returns how many keys are still here and not owned (refused, unreachable, rewritten). */
  private async send(plan: Map<string, string[]>, epoch: number, selfId: string): Promise<number> {
    const byTarget: Record<string, TargetProgress> = {};
    for (const [owner, keys] of plan) byTarget[owner] = { planned: keys.length, sent: 0, rejected: 0, failed: 0 };
    this.lifetime.passes++;
    this.pass = { n: this.lifetime.passes, epoch, startedAt: this.o.clock.wallNow(), byTarget };
    if (plan.size === 0) return 0;
    this.o.logger.info({ epoch, targets: Object.fromEntries([...plan].map(([k, v]) => [k, v.length])) }, 'handoff_pass_started');
    const owners = [...plan.keys()];
    let next = 0;
    let left = 0;
    const worker = async () => {
      while (next < owners.length) {
        const owner = owners[next++]!;
        left += await this.sendTo(owner, plan.get(owner)!, epoch, selfId, byTarget[owner]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, owners.length) }, worker));
    this.o.logger.info({ epoch, left, byTarget }, 'handoff_pass_finished');
    return left;
  }

  private async sendTo(owner: string, keys: string[], epoch: number, selfId: string, progress: TargetProgress): Promise<number> {
    const { store, config } = this.o;
    const link = this.o.peers.get(owner);
    let left = 0;
    let i = 0;
    while (i < keys.length) {
      if (this.dirty || this.stopSignal.stopped) return left + keys.length - i;
      const batch: WireEntry[] = [];
      let bytes = 0;
      while (i < keys.length && batch.length < config.batchKeys) {
        const key = keys[i]!;
        const e = store.peek(key);
        if (e === undefined) { i++; progress.planned--; continue; } // expired or deleted since the scan: nothing to move
        const size = Buffer.byteLength(key) + e.value.length + ENTRY_OVERHEAD_BYTES;
        if (batch.length > 0 && bytes + size > config.batchBytes) break;
        const ttl = store.ttl(key);
        batch.push([key, e.value, e.flags, e.version, ttl > 0 ? ttl : -1]);
        bytes += size;
        i++;
      }
      if (batch.length === 0) continue;
      await this.throttle.take(bytes, this.stopSignal);
      let result: BatchResult;
      try {
        result = (await link.request(Ops.HANDOFF, [selfId, epoch, batch, {}])) as BatchResult;
      } catch (err) {
        // Unreachable or slow: keep everything for this owner; a ring change or the retry comes back for it.
        const rest = batch.length + keys.length - i;
        progress.failed += rest;
        this.lifetime.failedBatches++;
        this.lastError = `${owner}: ${(err as Error).message}`;
        this.o.logger.warn({ owner, err: (err as Error).message, keys: rest }, 'handoff_batch_failed');
        return left + rest;
      }
      const rejected = new Set(Array.isArray(result?.rejected) ? result.rejected : []);
      let accepted = 0;
      let acceptedBytes = 0;
      batch.forEach(([key, value, , version], j) => {
        if (rejected.has(j)) return;
        accepted++;
        acceptedBytes += key.length + value.length;
        // Rewritten here after it was read (a gutter write, a client on an old ring): not ours to drop, send it again.
        if (store.peek(key)?.version === version) store.delete(key);
        else if (store.peek(key) !== undefined) left++;
      });
      progress.sent += accepted;
      progress.rejected += rejected.size;
      left += rejected.size;
      this.lifetime.keys += accepted;
      this.lifetime.bytes += acceptedBytes;
      this.lifetime.byTarget[owner] = (this.lifetime.byTarget[owner] ?? 0) + accepted;
      await nextTurn();
    }
    return left;
  }

  /** Tells every member (and whoever got keys) that this node owes them nothing more under this ring. */
  private async announceDone(ring: HashRing, epoch: number, selfId: string, plan: Map<string, string[]>): Promise<void> {
    const targets = new Set([...ring.members().map((m) => m.id), ...plan.keys()]);
    targets.delete(selfId);
    const opts = { done: true, ring: ring.fingerprint() };
    await Promise.all([...targets].map((t) =>
      this.o.noticePeers.get(t).request(Ops.HANDOFF, [selfId, epoch, [], opts]).catch((err: unknown) => {
        this.o.logger.debug({ to: t, err: (err as Error).message }, 'handoff_done_notice_failed');
      })));
  }
}
