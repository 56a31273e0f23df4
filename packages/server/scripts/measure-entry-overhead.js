#!/usr/bin/env node
// Measures what one MemoryStore entry really costs, to check ENTRY_OVERHEAD_BYTES (store-entry.ts).
// Usage: npx tsc -b packages/server && node --expose-gc packages/server/scripts/measure-entry-overhead.js [count] [keyBytes] [valueBytes]
'use strict';
const { MemoryStore, ENTRY_OVERHEAD_BYTES } = require('../dist');

if (typeof global.gc !== 'function') { console.error('run with node --expose-gc'); process.exit(2); }
const count = Number(process.argv[2] ?? 1_000_000);
const keyBytes = Number(process.argv[3] ?? 16);
const valueBytes = Number(process.argv[4] ?? 32);

function settle() { for (let i = 0; i < 4; i++) global.gc(); }
function mem() { const m = process.memoryUsage(); return { heap: m.heapUsed, ext: m.external, rss: m.rss }; }

const store = new MemoryStore({ maxMemoryBytes: Number.MAX_SAFE_INTEGER });
settle();
const before = mem();
const pad = 'k'.repeat(Math.max(0, keyBytes - 8));
for (let i = 0; i < count; i++) {
  const key = pad + String(i).padStart(8, '0');
  // Like the frame decoder's copyBuffers: each value is its own allocation.
  const value = Buffer.allocUnsafeSlow(valueBytes).fill(i & 0xff);
  store.set(key, value, { ttlMs: i % 2 ? 0 : 3_600_000 });
}
settle();
const after = mem();
const heap = (after.heap - before.heap) / count;
const ext = (after.ext - before.ext) / count;
const rss = (after.rss - before.rss) / count;
const payload = keyBytes + valueBytes;
console.log(JSON.stringify({
  count, keyBytes, valueBytes,
  heapPerEntry: +heap.toFixed(1), externalPerEntry: +ext.toFixed(1), rssPerEntry: +rss.toFixed(1),
  overheadPerEntry: +(heap + ext - payload).toFixed(1),
  rssOverheadPerEntry: +(rss - payload).toFixed(1),
  ENTRY_OVERHEAD_BYTES,
  accountedPerEntry: store.bytesUsed / count,
}));
