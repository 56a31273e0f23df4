import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawConnection, spawnNodeProcess, type NodeProcess } from '@corral/test-utils';

/**
 * Warm restarts with real processes through `corral node start` (the compiled CLI: `npx tsc -b`
 * first): SIGTERM writes the snapshot, a restart with the same file has the keys back.
 */

let dir: string;
const procs: NodeProcess[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'corral-snap-proc-')); });
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(args: string[], env?: NodeJS.ProcessEnv): Promise<NodeProcess> {
  const p = await spawnNodeProcess(['--shutdown-grace', '2s', ...args], env && { env });
  procs.push(p);
  return p;
}

test('SIGTERM writes the hottest keys; a restart with the same file serves them with their versions and remaining TTLs', async () => {
  const file = join(dir, 'node.snap');
  const a = await start(['--snapshot-file', file]);
  const conn = await RawConnection.connect(a.port);
  const n = 500;
  const versions = new Map<string, number>();
  const firstSetAt = Date.now();
  for (let i = 0; i < n; i++) {
    const key = `user:${i}`;
    const opts = i % 2 === 0 ? { ttlMs: 60_000 } : {};
    versions.set(key, (await conn.call('SET', [key, Buffer.from(`value-${i}`), opts])) as number);
  }
  await conn.call('SET', ['brief', Buffer.from('gone by the restart'), { ttlMs: 300 }]);
  a.kill('SIGTERM');
  expect(await a.exited).toEqual({ code: 0, signal: null });
  const written = await a.waitForLog((l) => l['msg'] === 'snapshot_written');
  expect(written).toMatchObject({ mode: 'entries', records: n + 1, entries: n + 1 });
  conn.close();

  await new Promise((r) => setTimeout(r, 400)); // 'brief' expires while the node is down
  const b = await start(['--snapshot-file', file]);
  const loaded = await b.waitForLog((l) => l['msg'] === 'snapshot_loaded');
  expect(loaded).toMatchObject({ entries: n, expired: 1, keysPending: 1 });
  const c = await RawConnection.connect(b.port);
  for (let i = 0; i < n; i++) {
    const key = `user:${i}`;
    const [value, flags, version, ttlMs] = (await c.call('GETS', [key])) as [Buffer, number, number, number];
    expect(Buffer.from(value).toString()).toBe(`value-${i}`);
    expect(flags).toBe(0);
    expect(version).toBe(versions.get(key));
    if (i % 2 === 0) {
      expect(ttlMs).toBeLessThanOrEqual(60_000 - 400);
      // At most the time since the first SET has passed for any key (the 500 writes and these reads
      // take a while on a loaded machine; a bound from the stop alone failed by 2 ms once).
      expect(ttlMs).toBeGreaterThanOrEqual(60_000 - (Date.now() - firstSetAt) - 5);
    } else {
      expect(ttlMs).toBe(-1);
    }
  }
  expect(await c.call('GET', ['brief'])).toBeNull();
  expect(await c.call('SNAPKEYS', [])).toEqual([0, ['brief']]);
  const stats = (await c.call('STATS', [])) as Record<string, unknown>;
  expect(stats).toMatchObject({ keys: n, snapshotEntriesLoaded: n, snapshotKeysPending: 1, snapshotLoadFailures: 0 });
  // A write after the restart gets a higher version than anything restored.
  const after = (await c.call('SET', ['user:1', Buffer.from('new')])) as number;
  expect(after).toBeGreaterThan(Math.max(...versions.values()));
  c.close();

  // The snapshot was used up by that load: a crash now (which writes nothing) restarts empty
  // instead of bringing back values that may have changed since.
  expect(existsSync(file)).toBe(false);
  expect(existsSync(`${file}.loaded`)).toBe(true);
  b.kill('SIGKILL');
  await b.exited;
  const d = await start(['--snapshot-file', file]);
  await d.waitForLog((l) => l['msg'] === 'snapshot_missing');
  const e = await RawConnection.connect(d.port);
  expect(await e.call('GET', ['user:2'])).toBeNull();
  e.close();
});

test('a corrupt snapshot never prevents a start: the node logs it, counts it and starts empty (CORRAL_SNAPSHOT_FILE)', async () => {
  const file = join(dir, 'node.snap');
  const a = await start(['--snapshot-file', file]);
  const conn = await RawConnection.connect(a.port);
  for (let i = 0; i < 50; i++) await conn.call('SET', [`k${i}`, Buffer.alloc(100, i)]);
  a.kill('SIGTERM');
  await a.exited;
  conn.close();
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2))); // truncated, as by a full disk

  const b = await start([], { CORRAL_SNAPSHOT_FILE: file });
  const failed = await b.waitForLog((l) => l['msg'] === 'snapshot_load_failed');
  expect(failed['level']).toBe(50);
  expect(JSON.stringify(failed['err'])).toMatch(/trailer|truncated/);
  const c = await RawConnection.connect(b.port);
  expect(await c.call('GET', ['k1'])).toBeNull();
  expect((await c.call('STATS', [])) as Record<string, unknown>).toMatchObject({ keys: 0, snapshotLoadFailures: 1 });
  c.close();

  const garbage = join(dir, 'garbage.snap');
  writeFileSync(garbage, 'this is not a snapshot at all, just some text that happens to be long enough\n'.repeat(3));
  const d = await start(['--snapshot-file', garbage, '--snapshot-mode', 'keys']);
  await d.waitForLog((l) => l['msg'] === 'snapshot_load_failed');
  const e = await RawConnection.connect(d.port);
  expect(await e.call('PING', [])).toBe('PONG');
  e.close();
});
