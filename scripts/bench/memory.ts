import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Corral } from '@corral/client';
import { spawnLocalNode, stopLocalNodes } from '@corral/cli';

interface NodeMemory { bytes: number; rss: number }

async function nodeMemory(c: Corral): Promise<NodeMemory> {
  const s = (await c.stats()) as Record<string, unknown>;
  return { bytes: Number(s.bytesUsed), rss: Number(s.rssBytes) };
}

/** Loads n entries into a fresh node process and reports accounted bytes and RSS growth. */
export async function measureBytesPerEntry(n: number, valueSize: number) {
  const node = await spawnLocalNode({ name: 'bench-mem', host: '127.0.0.1', port: 0, logDir: join(tmpdir(), 'corral-bench'), extraArgs: ['--max-memory', '4gb'] });
  try {
    const c = await Corral.connect({ seeds: [`${node.host}:${node.port}`], timeoutMs: 30_000 });
    const before = await nodeMemory(c);
    const value = Buffer.alloc(valueSize, 97);
    let raw = 0;
    const batch = 2000;
    for (let i = 0; i < n; i += batch) {
      const entries = Array.from({ length: Math.min(batch, n - i) }, (_x, j) => [`key:${i + j}`, value] as [string, Buffer]);
      for (const [k] of entries) raw += Buffer.byteLength(k) + valueSize;
      await c.mset(entries);
    }
    const after = await nodeMemory(c);
    await c.close();
    return { accountedBytes: after.bytes - before.bytes, rssGrowthBytes: after.rss - before.rss, rawBytes: raw };
  } finally {
    await stopLocalNodes([node]);
  }
}
