/**
 * `npm run bench:frames`: encoding the frames every request makes — a GET request, a SET request
 * with its routing meta, a GETS reply — with the protocol's own writer (fast-pack.ts, what
 * encodeRequest/encodeResponse use) against msgpackr configured as frame.ts configures it, in the
 * same process, interleaved, median of runs. Prints µs per frame and the ratio.
 *   npm run bench:frames -- --frames 1000000 --runs 5
 */
import { Command } from 'commander';
import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { fastPackFrame } from '../packages/protocol/src/fast-pack';
import { median } from './bench/load';

const f = new Command()
  .description('frame encoding: the protocol\'s own msgpack writer vs msgpackr, µs per frame')
  .option('--frames <n>', 'frames encoded per measurement', Number, 1_000_000)
  .option('--runs <n>', 'measurements per encoder (median printed)', Number, 5)
  .parse().opts<{ frames: number; runs: number }>();

const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const value = Buffer.alloc(100, 120);
const shapes: Record<string, (i: number) => unknown[]> = {
  'GET request': (i) => [0, i, 1, [`key:${i & 0xffff}`], { epoch: 5 }],
  'SET request': (i) => [0, i, 3, [`key:${i & 0xffff}`, value, { flags: 0 }], { epoch: 5, deadline: 1_764_000_000_000 }],
  'GETS reply': (i) => [1, i, [value, 0, 1_764_000_000_000_123, -1]],
};
const encoders: Record<string, (a: unknown[]) => unknown> = {
  'fast-pack': (a) => fastPackFrame(a, 4),
  msgpackr: (a) => packr.pack(a, RESERVE_START_SPACE | 4),
};

function measure(make: (i: number) => unknown[], enc: (a: unknown[]) => unknown): number {
  const t0 = performance.now();
  for (let i = 0; i < f.frames; i++) enc(make(i));
  return ((performance.now() - t0) * 1000) / f.frames;
}

console.log(`${f.frames.toLocaleString('en-US')} frames per measurement, median of ${f.runs}, µs per frame (building the array included)\n`);
console.log(`${'frame'.padEnd(12)}  ${'fast-pack'.padStart(10)}  ${'msgpackr'.padStart(10)}  ${'fast / msgpackr'.padStart(15)}`);
for (const [name, make] of Object.entries(shapes)) {
  for (const enc of Object.values(encoders)) measure(make, enc); // warm-up (JIT)
  const times: Record<string, number[]> = { 'fast-pack': [], msgpackr: [] };
  for (let r = 0; r < f.runs; r++) for (const [e, enc] of Object.entries(encoders)) times[e]!.push(measure(make, enc));
  const a = median(times['fast-pack']!);
  const b = median(times['msgpackr']!);
  console.log(`${name.padEnd(12)}  ${a.toFixed(3).padStart(10)}  ${b.toFixed(3).padStart(10)}  ${`${(a / b).toFixed(2)}×`.padStart(15)}`);
}
