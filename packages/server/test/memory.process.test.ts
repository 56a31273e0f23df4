import { encodeRequest, Ops } from '@corral/protocol';
import { RawConnection, spawnNodeProcess, type NodeProcess } from '@corral/test-utils';

/**
 * A real node process with --max-memory 32mb takes 3× that in writes. Runs the built dist/ code:
 * `npx tsc -b` first (`npm test` does).
 *
 * Measured RSS (Node 20.20, x64; baseline after start ~55 MiB), after writing 96 MiB of values:
 *   value size   keys kept   RSS      over baseline
 *   100 B        53,935      189 MiB  134 MiB   (peak while writing 244 MiB: GC slack under 1M-entry churn)
 *   1 KiB        21,718      164-172 MiB  109-117 MiB
 *   8 KiB         3,851      127 MiB   72 MiB
 * The accounted bytes are at the bound; the rest is the V8 heap's committed-but-free space and
 * evicted values not yet collected (external memory is freed only by GC), plus malloc
 * fragmentation. So size a node's container at roughly max-memory × 4 + 64 MiB for ~1 KiB values.
 * The test asserts over-baseline RSS ≤ 5 × max-memory (160 MiB) with 1 KiB values: ~40% headroom.
 */
const MAX_MEMORY = 32 * 1024 * 1024;
const RSS_OVER_BASELINE_LIMIT = 5 * MAX_MEMORY;

describe('memory bound in a real node process', () => {
  let proc: NodeProcess;
  let conn: RawConnection;

  beforeAll(async () => {
    proc = await spawnNodeProcess(['--max-memory', '32mb']);
    conn = await RawConnection.connect(proc.port);
  });
  afterAll(async () => {
    conn?.close();
    if (proc) {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  });

  test('writing 3× max-memory keeps accounted bytes within the bound, evicts oldest first, and bounds RSS', async () => {
    const stats = async () => {
      const s = await conn.call('STATS') as Record<string, number>;
      conn.frames.length = 0; // keep the test client's memory flat too
      return s;
    };
    const baseline = (await stats())['rssBytes']!;
    const value = Buffer.alloc(1024, 7);
    const total = Math.ceil((3 * MAX_MEMORY) / value.length);
    const batch = 256;
    let id = 1;
    let peakRss = 0;
    for (let i = 0; i < total; i += batch) {
      const frames: Buffer[] = [];
      for (let j = i; j < Math.min(total, i + batch); j++) frames.push(encodeRequest(id++, Ops.SET.code, [`key:${j}`, value]));
      conn.sendRaw(Buffer.concat(frames));
      const last = await conn.reply(id - 1, 10_000);
      expect(last.kind).toBe(1);
      conn.frames.length = 0;
      if ((i / batch) % 40 === 0) {
        const s = await stats();
        expect(s['bytesUsed']).toBeLessThanOrEqual(MAX_MEMORY);
        peakRss = Math.max(peakRss, s['rssBytes']!);
      }
    }
    const s = await stats();
    peakRss = Math.max(peakRss, s['rssBytes']!);
    expect(s['bytesUsed']).toBeLessThanOrEqual(MAX_MEMORY);
    expect(s['bytesUsed']).toBeGreaterThan(MAX_MEMORY * 0.95);
    expect(s['evictions']).toBeGreaterThan(0);
    expect(s['evictions']! + s['keys']!).toBe(total);
    expect(await conn.call('EXISTS', [`key:${total - 1}`])).toBe(true);
    expect(await conn.call('EXISTS', ['key:0'])).toBe(false);
    expect(peakRss - baseline).toBeLessThanOrEqual(RSS_OVER_BASELINE_LIMIT);
  });
});
