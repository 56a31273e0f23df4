import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@corral/test-utils';
import pino from 'pino';
import { MemoryStore } from '../src/memory-store';
import { NodeSnapshot, type SnapshotConfig } from '../src/snapshot/node-snapshot';
import { decodeRecord, encodeRecord, SnapshotFormatError, type SnapshotRecord } from '../src/snapshot/snapshot-format';
import { openSnapshot } from '../src/snapshot/snapshot-reader';
import { writeSnapshotFile } from '../src/snapshot/snapshot-writer';

/** Snapshots in one process: file format, atomic write, verification, and what a load restores (ManualClock). */

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'corral-snap-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const limits = { maxKeyBytes: 250, maxValueBytes: 1024 * 1024 };

function logCapture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  return { log, lines, msgs: () => lines.map((l) => l['msg']) };
}

function snapshot(clock: ManualClock, cfg: Partial<SnapshotConfig> = {}, log = logCapture()) {
  const s = new NodeSnapshot({ file: join(dir, 'node.snap'), mode: 'entries', maxKeys: 1000, clock, log: log.log, limits, ...cfg });
  return { s, log };
}

describe('format', () => {
  test('entry and key records round-trip, value bytes owned by the record', () => {
    const recs: SnapshotRecord[] = [
      { kind: 'entry', key: 'k€', value: Buffer.from('hello'), flags: 3, version: 123_456_789_012, ttlMs: 5000, graceMs: 100, deltaMs: 7, sourceVersion: 42 },
      { kind: 'entry', key: 'no-ttl', value: Buffer.alloc(0), flags: 0, version: 1, ttlMs: -1, graceMs: 0, deltaMs: 0, sourceVersion: 0 },
      { kind: 'key', key: 'only-the-key' },
    ];
    for (const r of recs) {
      const b = encodeRecord(r);
      expect(b.readUInt32BE(0)).toBe(b.length - 4);
      expect(decodeRecord(b.subarray(4))).toEqual(r);
    }
  });

  test('malformed bodies are refused', () => {
    const b = encodeRecord({ kind: 'entry', key: 'k', value: Buffer.from('v'), flags: 0, version: 1, ttlMs: 1, graceMs: 0, deltaMs: 0, sourceVersion: 0 });
    expect(() => decodeRecord(b.subarray(4, b.length - 1))).toThrow(SnapshotFormatError);
    const bad = Buffer.from(b.subarray(4));
    bad[0] = 9;
    expect(() => decodeRecord(bad)).toThrow(/unknown record kind/);
  });
});

describe('file', () => {
  const header = { mode: 'entries' as const, writtenAtWallMs: 1_700_000_000_000, nodeId: 'n1' };
  const recs = (n: number): SnapshotRecord[] => Array.from({ length: n }, (_, i) => ({
    kind: 'entry', key: `k${i}`, value: Buffer.alloc(300, i % 256), flags: 0, version: i + 1, ttlMs: -1, graceMs: 0, deltaMs: 0, sourceVersion: 0,
  }));

  test('written atomically (no temporary file left) and read back in order, across read chunks', async () => {
    const file = join(dir, 's.snap');
    const w = await writeSnapshotFile(file, header, recs(5000)); // ~1.6 MB: more than one write and read chunk
    expect(w.records).toBe(5000);
    expect(readdirSync(dir)).toEqual(['s.snap']);
    const snap = (await openSnapshot(file))!;
    expect(snap.header).toEqual(header);
    expect(snap.records).toBe(5000);
    const keys: string[] = [];
    for await (const r of snap.read()) keys.push(r.key);
    expect(keys).toEqual(recs(5000).map((r) => r.key));
  });

  test('a missing file is undefined, not an error', async () => {
    await expect(openSnapshot(join(dir, 'nope'))).resolves.toBeUndefined();
  });

  test.each([
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 100)],
    ['cut inside the trailer', (b: Buffer) => b.subarray(0, b.length - 10)],
    ['one bit flipped in a value', (b: Buffer) => { const c = Buffer.from(b); c.writeUInt8(c.readUInt8(400) ^ 1, 400); return c; }],
    ['not a snapshot', () => Buffer.from('x'.repeat(500))],
    ['empty', () => Buffer.alloc(0)],
  ])('%s: refused before any record is read', async (_name, mangle) => {
    const file = join(dir, 's.snap');
    await writeSnapshotFile(file, header, recs(20));
    writeFileSync(file, mangle(readFileSync(file)));
    await expect(openSnapshot(file)).rejects.toThrow(SnapshotFormatError);
  });

  test('a newer format version is refused', async () => {
    const file = join(dir, 's.snap');
    await writeSnapshotFile(file, header, recs(1));
    const b = readFileSync(file);
    b.writeUInt16BE(99, 8);
    // With a valid checksum, as a future writer would produce it.
    createHash('sha256').update(b.subarray(0, b.length - 48)).digest().copy(b, b.length - 32);
    writeFileSync(file, b);
    await expect(openSnapshot(file)).rejects.toThrow(/format version 99/);
  });

  test('a failed write leaves the previous snapshot in place', async () => {
    const file = join(dir, 's.snap');
    await writeSnapshotFile(file, header, recs(3));
    const before = readFileSync(file);
    function* failing(): IterableIterator<SnapshotRecord> {
      yield recs(1)[0]!;
      throw new Error('disk full');
    }
    await expect(writeSnapshotFile(file, header, failing())).rejects.toThrow('disk full');
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['s.snap']);
  });
});

describe('NodeSnapshot', () => {
  test('entries come back with their version, flags, lease metadata and what is left of their TTL', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const a = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    const v1 = a.set('ttl', Buffer.from('one'), { ttlMs: 60_000, flags: 1, graceMs: 5_000, deltaMs: 40, sourceVersion: 9 })!;
    const v2 = a.set('forever', Buffer.from('two'))!;
    a.set('short', Buffer.from('three'), { ttlMs: 2_000 });
    const { s } = snapshot(clock);
    clock.advance(1_000);
    await s.save(a, 'n1');

    clock.advance(5_000); // downtime, by the wall clock
    const b = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    const { s: s2, log } = snapshot(clock);
    await s2.load(b);
    expect(b.gets('ttl')).toEqual({ value: Buffer.from('one'), flags: 1, version: v1, ttlMs: 54_000 });
    expect(b.gets('forever')).toEqual({ value: Buffer.from('two'), flags: 0, version: v2, ttlMs: -1 });
    expect(b.exists('short')).toBe(false); // 1 s left at the stop, 5 s down
    expect(b.lookupWithGrace('ttl', false)!.entry.deltaMs).toBe(40);
    expect(s2.pendingKeys).toEqual(['short']); // hot, but expired while down: for a warmer
    expect(s2.stats()).toMatchObject({ snapshotEntriesLoaded: 2, snapshotExpiredSkipped: 1, snapshotKeysPending: 1, snapshotLoadFailures: 0, snapshotAgeMs: 5_000 });
    // The version clock is past every restored version: a write after the restart wins.
    expect(b.set('forever', Buffer.from('new'))!).toBeGreaterThan(v2);
    // Grace and source version came along too.
    clock.advance(54_500);
    expect(b.lookupWithGrace('ttl', false)?.stale).toBe(true);
    expect(b.set('ttl', Buffer.from('old'), { sourceVersion: 9, ifSourceNewer: true })).toBeNull();
    expect(log.msgs()).toContain('snapshot_loaded');
  });

  test('the hottest keys are kept (LRU order), and come back hottest-first in the LRU', async () => {
    const clock = new ManualClock();
    const a = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    for (let i = 0; i < 10; i++) a.set(`k${i}`, Buffer.from(String(i)));
    a.get('k2'); a.get('k7'); a.get('k4'); // now the hottest: k4, k7, k2, then k9, k8...
    const { s } = snapshot(clock, { maxKeys: 5 });
    await s.save(a, 'n1');
    const b = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    await snapshot(clock).s.load(b);
    expect([...b.hottest(100)].map((e) => e.key)).toEqual(['k4', 'k7', 'k2', 'k9', 'k8']);
  });

  test('loading fewer keys than the file holds keeps the hottest', async () => {
    const clock = new ManualClock();
    const a = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    for (let i = 0; i < 10; i++) a.set(`k${i}`, Buffer.from(String(i)));
    await snapshot(clock).s.save(a, 'n1');
    const b = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    await snapshot(clock, { maxKeys: 3 }).s.load(b);
    expect([...b.hottest(100)].map((e) => e.key)).toEqual(['k9', 'k8', 'k7']);
  });

  test('keys mode: no values are written; the keys come back as the reload list, hottest first, and survive another restart', async () => {
    const clock = new ManualClock();
    const a = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    for (let i = 0; i < 4; i++) a.set(`k${i}`, Buffer.alloc(1000, 1));
    const { s, log } = snapshot(clock, { mode: 'keys' });
    await s.save(a, 'n1');
    expect(readFileSync(join(dir, 'node.snap')).length).toBeLessThan(200);
    expect(log.lines.find((l) => l['msg'] === 'snapshot_written')).toMatchObject({ mode: 'keys', records: 4, keys: 4 });

    const b = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    const s2 = snapshot(clock, { mode: 'keys' }).s;
    await s2.load(b);
    expect(b.size).toBe(0);
    expect(s2.pendingKeys).toEqual(['k3', 'k2', 'k1', 'k0']);
    expect(s2.keysPage(0, 3, 1 << 20)).toEqual([3, ['k3', 'k2', 'k1']]);
    expect(s2.keysPage(3, 3, 1 << 20)).toEqual([0, ['k0']]);
    expect(s2.keysPage(0, 10, 6)).toEqual([1, ['k3']]); // at least one key, then the byte bound

    // One key was reloaded by a warmer, then the node restarts again: the other three are still asked for.
    b.set('k1', Buffer.from('x'));
    await s2.save(b, 'n1');
    const s3 = snapshot(clock, { mode: 'keys' }).s;
    await s3.load(new MemoryStore({ maxMemoryBytes: 1 << 26, clock }));
    expect(s3.pendingKeys).toEqual(['k1', 'k3', 'k2', 'k0']);
  });

  test('a corrupt file: logged, counted, the node starts empty; a missing file is just a first start', async () => {
    const clock = new ManualClock();
    const a = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    for (let i = 0; i < 100; i++) a.set(`k${i}`, Buffer.from(String(i)));
    await snapshot(clock).s.save(a, 'n1');
    const file = join(dir, 'node.snap');
    const b = readFileSync(file);
    b.writeUInt8(b.readUInt8(b.length - 60) ^ 0xff, b.length - 60);
    writeFileSync(file, b);

    const store = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    const { s, log } = snapshot(clock);
    await s.load(store);
    expect(store.size).toBe(0);
    expect(s.stats()).toMatchObject({ snapshotLoadFailures: 1, snapshotEntriesLoaded: 0 });
    const line = log.lines.find((l) => l['msg'] === 'snapshot_load_failed')!;
    expect(line['level']).toBe(50);
    expect(JSON.stringify(line['err'])).toContain('checksum');

    rmSync(file);
    const fresh = snapshot(clock);
    await fresh.s.load(store);
    expect(fresh.s.stats()).toMatchObject({ snapshotLoadFailures: 0 });
    expect(fresh.log.msgs()).toEqual(['snapshot_missing']);
    expect(existsSync(file)).toBe(false);
  });

  test('entries a smaller node refuses are skipped and counted, the rest load', async () => {
    const clock = new ManualClock();
    const a = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    a.set('big', Buffer.alloc(2 * 1024 * 1024));
    a.set('small', Buffer.from('s'));
    await snapshot(clock).s.save(a, 'n1');
    const b = new MemoryStore({ maxMemoryBytes: 1 << 26, clock });
    const s = snapshot(clock).s;
    await s.load(b);
    expect(b.exists('small')).toBe(true);
    expect(b.exists('big')).toBe(false);
    expect(s.stats()).toMatchObject({ snapshotRejected: 1, snapshotEntriesLoaded: 1 });
  });
});
