/**
 * One process of the L1 coherence test (coherence.process.test.ts): the writer, or a reader with an
 * L1. Runs the compiled client (`@corral/client` → packages/client/dist). Time is wall-clock in
 * microseconds-precise ms (timeOrigin + now), comparable across the processes of one machine.
 *
 * argv[1]: JSON { role, seeds, name, keys, durationMs, out }
 *   writer: each of its workers owns a slice of the keys and writes them in turn, one at a time, so
 *           the acks of a key are in order; every ack (key, n, when) goes to `out`.
 *   reader: 16 loops reading random keys as fast as they can, each yielding to the event loop every
 *           50 reads (as a server handling requests does); every value read (key, n, when the read
 *           started) goes to `out`.
 * Prints one JSON line of figures when done.
 */
import { writeFileSync } from 'node:fs';
import { Corral } from '@corral/client';

interface Args { role: 'writer' | 'reader'; seeds: string[]; name: string; keys: number; durationMs: number; out: string }
const args = JSON.parse(process.argv[process.argv.length - 1]!) as Args;
const now = () => performance.timeOrigin + performance.now();
const CAP = 3_000_000;

async function main(): Promise<void> {
  const cache = await Corral.connect({
    seeds: args.seeds, name: args.name, timeoutMs: 1_000, onNodeDown: 'fail-fast',
    reconnect: { baseMs: 20, capMs: 200 }, breaker: { openMs: 200 },
    ...(args.role === 'reader' && { l1: { maxEntries: 10_000 } }),
  });
  cache.on('error', () => undefined);
  const keyIdx = new Int32Array(CAP);
  const ns = new Int32Array(CAP);
  const at = new Float64Array(CAP);
  let count = 0;
  let errors = 0;
  const deadline = now() + args.durationMs;
  if (args.role === 'writer') {
    const written = new Int32Array(args.keys);
    const workers = 8;
    await Promise.all(Array.from({ length: workers }, async (_x, w) => {
      for (let i = 0; now() < deadline; i++) {
        const k = w + workers * (i % Math.ceil(args.keys / workers));
        if (k >= args.keys) continue;
        const n = ++written[k]!;
        try {
          await cache.set(`k${k}`, n);
          if (count < CAP) { keyIdx[count] = k; ns[count] = n; at[count] = now(); count++; }
        } catch {
          errors++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }));
  } else {
    // Several loops, as a server handling concurrent requests has: a miss waits for its node while
    // the others go on reading from the L1.
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (now() < deadline) {
        for (let j = 0; j < 50; j++) {
          const k = Math.floor(Math.random() * args.keys);
          const t = now();
          try {
            const v = await cache.get(`k${k}`);
            if (typeof v === 'number' && count < CAP) { keyIdx[count] = k; ns[count] = v; at[count] = t; count++; }
          } catch {
            errors++;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    }));
  }
  const buf = Buffer.alloc(count * 16);
  for (let i = 0; i < count; i++) { buf.writeInt32LE(keyIdx[i]!, i * 16); buf.writeInt32LE(ns[i]!, i * 16 + 4); buf.writeDoubleLE(at[i]!, i * 16 + 8); }
  writeFileSync(args.out, buf);
  process.stdout.write(`${JSON.stringify({ name: args.name, count, errors, l1: cache.l1Stats() ?? null })}\n`);
  await cache.close();
}

main().then(() => process.exit(0), (e: unknown) => { process.stdout.write(`${JSON.stringify({ name: args.name, fatal: String(e) })}\n`); process.exit(1); });
