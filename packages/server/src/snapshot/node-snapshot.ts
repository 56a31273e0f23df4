import { rename } from 'node:fs/promises';
import type { Clock, Limits } from '@corral/protocol';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { FullEntry, MemoryStore } from '../memory-store';
import type { SnapshotMode, SnapshotRecord } from './snapshot-format';
import { openSnapshot } from './snapshot-reader';
import { writeSnapshotFile } from './snapshot-writer';

export interface SnapshotConfig {
  file: string;
  /** 'entries': keys with values, versions, remaining TTLs; 'keys': key names only, for a warmer to reload from the origin. */
  mode: SnapshotMode;
  /** The hottest this many keys are written, and at most this many are loaded. */
  maxKeys: number;
}

export interface NodeSnapshotOptions extends SnapshotConfig {
  clock: Clock;
  log: Logger;
  limits: Pick<Limits, 'maxKeyBytes' | 'maxValueBytes'>;
  registry?: Registry;
}

interface Counts {
  entriesLoaded: number; expiredSkipped: number; rejected: number; loadFailures: number; ageMs: number;
  writes: number; writeFailures: number;
}

/**
 * Warm restarts. On a graceful stop the node writes its hottest keys — by LRU order, the most
 * recently read or written first — to a snapshot file; on start it loads them before it listens,
 * so a planned restart (a deploy) does not come back cold and send every first read to the database.
 *
 * - entries mode: values come back with their version and what is left of their TTL (the TTL at
 *   the stop minus the downtime, by the wall clock); entries that expired meanwhile are skipped.
 * - keys mode, and the entries that expired: the keys are kept as a reload list, hottest first,
 *   which `SNAPKEYS` pages out to a warmer (`corral warm --from-snapshot`, `cache.snapshotKeys()`).
 *
 * A missing file is a first start. A corrupt, truncated or unreadable one never stops the node:
 * it is logged (snapshot_load_failed), counted (STATS snapshotLoadFailures, Prometheus
 * corral_snapshot_load_failures_total) and the node starts empty.
 */
export class NodeSnapshot {
  private pending: string[] = [];
  private readonly counts: Counts = { entriesLoaded: 0, expiredSkipped: 0, rejected: 0, loadFailures: 0, ageMs: -1, writes: 0, writeFailures: 0 };
  private readonly failuresMetric: Counter | undefined;
  private readonly writesMetric: Counter<'result'> | undefined;

  constructor(private readonly o: NodeSnapshotOptions) {
    if (!o.registry) return;
    const registers = [o.registry];
    this.failuresMetric = new Counter({ name: 'corral_snapshot_load_failures_total', help: 'Snapshot files that could not be loaded (the node started empty)', registers });
    this.writesMetric = new Counter({ name: 'corral_snapshot_writes_total', help: 'Snapshot writes on shutdown', labelNames: ['result'], registers });
    const counts = this.counts;
    new Gauge({ name: 'corral_snapshot_entries_loaded', help: 'Entries restored from the snapshot at start', registers, collect() { this.set(counts.entriesLoaded); } });
    const self = this;
    new Gauge({ name: 'corral_snapshot_keys_pending', help: 'Keys from the snapshot waiting to be reloaded from the origin (SNAPKEYS)', registers, collect() { this.set(self.pending.length); } });
  }

  get file(): string { return this.o.file; }
  /** Keys to reload from the origin, hottest first. */
  get pendingKeys(): readonly string[] { return this.pending; }

  /** Loads the snapshot into an empty store. Never throws. */
  async load(store: MemoryStore): Promise<void> {
    const log = this.o.log;
    const t0 = this.o.clock.now();
    const pending: string[] = [];
    try {
      const snap = await openSnapshot(this.o.file);
      if (snap === undefined) {
        log.info({ file: this.o.file }, 'snapshot_missing');
        return;
      }
      const ageMs = Math.max(0, this.o.clock.wallNow() - snap.header.writtenAtWallMs);
      // The file runs coldest to hottest: past maxKeys, the coldest are the ones left out.
      const skip = Math.max(0, snap.records - this.o.maxKeys);
      let i = 0;
      for await (const r of snap.read()) {
        if (i++ < skip) continue;
        this.restore(store, r, ageMs, pending);
      }
      this.counts.ageMs = Math.round(ageMs);
      this.pending = dedupe(pending.reverse());
      await this.consume();
      log.info({
        file: this.o.file, mode: snap.header.mode, writtenBy: snap.header.nodeId, records: snap.records, bytes: snap.bytes,
        entries: this.counts.entriesLoaded, keysPending: this.pending.length, expired: this.counts.expiredSkipped,
        rejected: this.counts.rejected, ageMs: this.counts.ageMs, ms: Math.round(this.o.clock.now() - t0),
      }, 'snapshot_loaded');
    } catch (err) {
      // Whatever got in before the failure goes: half a snapshot is worse than none (which keys are missing is arbitrary).
      if (store.size > 0) store.flush();
      this.pending = [];
      Object.assign(this.counts, { entriesLoaded: 0, expiredSkipped: 0, rejected: 0, ageMs: -1 });
      this.counts.loadFailures++;
      this.failuresMetric?.inc();
      log.error({ err, file: this.o.file }, 'snapshot_load_failed');
    }
  }

  /**
   * A snapshot is used once: loaded, it becomes `<file>.loaded`, so a crash later (which writes
   * nothing) does not bring its values back at the next start: by then they may be long
   * overwritten. The keys still to reload are carried into the next snapshot by save().
   */
  private async consume(): Promise<void> {
    try {
      await rename(this.o.file, `${this.o.file}.loaded`);
    } catch (err) {
      this.o.log.warn({ err, file: this.o.file }, 'snapshot_consume_failed');
    }
  }

  /** Writes the hottest keys (graceful stop). Never throws: a failed snapshot must not fail the shutdown. */
  async save(store: MemoryStore, nodeId: string): Promise<void> {
    const t0 = this.o.clock.now();
    // Collected now, in one go: the LRU list must not change under the iteration.
    const entries = [...store.hottest(this.o.maxKeys)];
    const room = this.o.maxKeys - entries.length;
    // Keys still waiting for a reload stay listed (a second restart before a warmer ran must not forget them).
    const carried = room > 0 ? this.pending.filter((k) => !store.exists(k)).slice(0, room) : [];
    const mode = this.o.mode;
    function* records(): IterableIterator<SnapshotRecord> {
      for (let i = carried.length - 1; i >= 0; i--) yield { kind: 'key', key: carried[i]! };
      for (let i = entries.length - 1; i >= 0; i--) yield mode === 'entries' ? entryRecord(entries[i]!) : { kind: 'key', key: entries[i]!.key };
    }
    try {
      const w = await writeSnapshotFile(this.o.file, { mode, writtenAtWallMs: this.o.clock.wallNow(), nodeId }, records());
      this.counts.writes++;
      this.writesMetric?.labels('ok').inc();
      this.o.log.info({
        file: this.o.file, mode, records: w.records, entries: mode === 'entries' ? entries.length : 0,
        keys: mode === 'entries' ? carried.length : w.records, bytes: w.bytes, ms: Math.round(this.o.clock.now() - t0),
      }, 'snapshot_written');
    } catch (err) {
      this.counts.writeFailures++;
      this.writesMetric?.labels('failed').inc();
      this.o.log.error({ err, file: this.o.file }, 'snapshot_write_failed');
    }
  }

  /** SNAPKEYS: a page of the reload list from `cursor`; the next cursor is 0 at the end. */
  keysPage(cursor: number, count: number, maxBytes: number): [number, string[]] {
    const out: string[] = [];
    let bytes = 0;
    let i = cursor;
    for (; i < this.pending.length && out.length < count; i++) {
      const k = this.pending[i]!;
      bytes += Buffer.byteLength(k) + 5;
      if (bytes > maxBytes && out.length > 0) break;
      out.push(k);
    }
    return [i < this.pending.length ? i : 0, out];
  }

  stats(): Record<string, number | string> {
    const c = this.counts;
    return {
      snapshotMode: this.o.mode, snapshotEntriesLoaded: c.entriesLoaded, snapshotKeysPending: this.pending.length,
      snapshotExpiredSkipped: c.expiredSkipped, snapshotRejected: c.rejected, snapshotLoadFailures: c.loadFailures,
      snapshotAgeMs: c.ageMs, snapshotWrites: c.writes, snapshotWriteFailures: c.writeFailures,
    };
  }

  private restore(store: MemoryStore, r: SnapshotRecord, ageMs: number, pending: string[]): void {
    // Limits may have shrunk since the file was written; a key this node refuses is not loaded.
    if (Buffer.byteLength(r.key) > this.o.limits.maxKeyBytes) { this.counts.rejected++; return; }
    if (r.kind === 'key') { pending.push(r.key); return; }
    if (r.value.length > this.o.limits.maxValueBytes) { this.counts.rejected++; return; }
    let ttlMs: number | undefined;
    if (r.ttlMs >= 0) {
      ttlMs = Math.ceil(r.ttlMs - ageMs);
      if (ttlMs <= 0) {
        // Hot when the node stopped, expired while it was down: a warmer should reload it.
        this.counts.expiredSkipped++;
        pending.push(r.key);
        return;
      }
    }
    try {
      const entry = { value: r.value, flags: r.flags, version: r.version, graceMs: r.graceMs, deltaMs: r.deltaMs, sourceVersion: r.sourceVersion };
      // setIfNewer keeps the version and pushes the node's clock past it: later writes still get higher versions.
      if (store.setIfNewer(r.key, ttlMs === undefined ? entry : { ...entry, ttlMs })) this.counts.entriesLoaded++;
    } catch {
      this.counts.rejected++; // E_OOM: larger than this node's whole memory bound
    }
  }
}

function entryRecord(e: FullEntry): SnapshotRecord {
  return {
    kind: 'entry', key: e.key, value: e.value, flags: e.flags, version: e.version, ttlMs: e.ttlMs,
    graceMs: e.graceMs, deltaMs: e.deltaMs, sourceVersion: e.sourceVersion,
  };
}

function dedupe(keys: string[]): string[] {
  return [...new Set(keys)];
}
