/**
 * Ring quality, measured: balance, movement on membership change, lookup speed, and a
 * bounded-load comparison. Prints markdown tables; docs/ring.md quotes a run.
 *
 *   npx ts-node --transpile-only -P tsconfig.test.json scripts/bench-ring.ts [--quick]
 *
 * `-P tsconfig.test.json` matters: the root tsconfig.json has no compilerOptions, so ts-node
 * would compile for ES5 without esModuleInterop and xxhash-wasm would not load.
 */
import { DEFAULT_VNODES, HashRing, hashKey, loadBalance, loadRingHasher, ringBalance } from '../packages/ring/src';
import { seededRandom } from '../packages/protocol/src/random';

const QUICK = process.argv.includes('--quick');
const KEY_COUNT = QUICK ? 100_000 : 1_000_000;
const NODE_COUNTS = [3, 10, 50];
const VNODE_COUNTS = [40, 100, 160, 256, 500, 1000];
/** Random member sets per (N, vnodes) for the balance distribution: one set is one sample. */
const MEMBER_SETS = QUICK ? 10 : 40;
/** Different nodes added / removed per (N, vnodes), to average out which node it happens to be. */
const CHANGE_TRIALS = 3;
const LOOKUP_RUNS = 5;
const BOUNDED_LOAD_SLOT_BITS = 16;
const BOUNDED_LOAD_FACTORS = [1.1, 1.25];
const BOUNDED_LOAD_LOW_VNODES = 100;

const keys = Array.from({ length: KEY_COUNT }, (_, i) => `key:${i}`);
let keyHashes = new Uint32Array(0);

function main(): Promise<void> {
  if (!(class {}).toString().startsWith('class')) {
    throw new Error('compiled for ES5: run with `npx ts-node --transpile-only -P tsconfig.test.json scripts/bench-ring.ts`');
  }
  return loadRingHasher().then(run);
}

function run(): void {
  const started = Date.now();
  keyHashes = Uint32Array.from(keys, hashKey);
  console.log(`# Corral ring benchmark\n`);
  console.log(`${KEY_COUNT.toLocaleString('en-US')} keys \`key:0\` .. \`key:${KEY_COUNT - 1}\`; node ids \`10.0.0.i:7070\`; Node ${process.version}; default vnodes ${DEFAULT_VNODES}\n`);
  printKeyTable();
  printBalanceDistribution();
  printLookupSpeed();
  printBoundedLoad();
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// ---------- balance and movement on the fixed key set ----------

function printKeyTable(): void {
  console.log(`## Keys per node and movement (fixed ids 10.0.0.1.., ${CHANGE_TRIALS} add and ${CHANGE_TRIALS} remove trials)\n`);
  console.log('moved/ideal: fraction of keys that moved ÷ 1/(N+1) on add, ÷ 1/N on remove (mean, max over trials).');
  console.log('excess: keys that moved anywhere other than to the added node / from the removed node (must be 0).\n');
  table(
    ['N', 'vnodes', 'max/mean', 'stddev/mean', 'add moved/ideal', 'remove moved/ideal', 'excess'],
    NODE_COUNTS.flatMap((n) =>
      VNODE_COUNTS.map((vnodes) => {
        const ring = new HashRing(fixedIds(n).map((id) => ({ id })), { vnodes });
        const owners = ownersOf(ring);
        const balance = loadBalance(countPerMember(ring, owners));
        const adds = range(CHANGE_TRIALS).map((t) => measureChange(ring, owners, ring.withMember({ id: fixedId(n + 1 + t) }), n + 1));
        const removes = range(CHANGE_TRIALS).map((t) => measureChange(ring, owners, ring.withoutMember(fixedId(1 + Math.floor((t * n) / CHANGE_TRIALS))), n));
        return [
          n, vnodes, balance.maxOverMean.toFixed(3), balance.stdDevOverMean.toFixed(3),
          meanMax(adds.map((c) => c.movedOverIdeal)), meanMax(removes.map((c) => c.movedOverIdeal)),
          sum([...adds, ...removes].map((c) => c.excess)),
        ];
      }),
    ),
  );
}

interface Change { movedOverIdeal: number; excess: number }

function measureChange(before: HashRing, beforeOwners: readonly string[], after: HashRing, idealDivisor: number): Change {
  return compareOwners(before, beforeOwners, after, ownersOf(after), idealDivisor);
}

function ownersOf(ring: HashRing): string[] {
  return Array.from(keyHashes, (h) => ring.ownerOfHash(h));
}

function countPerMember(ring: HashRing, owners: readonly string[]): number[] {
  const counts = new Map(ring.members().map((m) => [m.id, 0]));
  for (const owner of owners) counts.set(owner, counts.get(owner)! + 1);
  return [...counts.values()];
}

function printLookupSpeed(): void {
  console.log(`\n## Lookup speed, millions per second (median of ${LOOKUP_RUNS} passes over all keys)\n`);
  console.log('Vnode counts take turns within each pass, so load from other processes hits them alike.');
  console.log('ownerOf: hash the string key, then search (what a client does). ownerOfHash: the search alone.\n');
  const rows: Array<Array<string | number>> = [];
  for (const n of NODE_COUNTS) {
    const rings = VNODE_COUNTS.map((vnodes) => new HashRing(fixedIds(n).map((id) => ({ id })), { vnodes }));
    const full = rings.map((): number[] => []);
    const search = rings.map((): number[] => []);
    for (let run = 0; run < LOOKUP_RUNS; run++) {
      rings.forEach((ring, i) => {
        full[i]!.push(rate(() => keys.reduce((sink, key) => sink + ring.ownerOf(key).length, 0)));
        search[i]!.push(rate(() => keyHashes.reduce((sink, h) => sink + ring.ownerOfHash(h).length, 0)));
      });
    }
    rows.push([n, 'ownerOf', ...full.map((rates) => (median(rates) / 1e6).toFixed(2))]);
    rows.push([n, 'ownerOfHash', ...search.map((rates) => (median(rates) / 1e6).toFixed(2))]);
    rows.push([n, 'ring KiB', ...rings.map((ring) => Math.round((ring.pointCount * 8) / 1024))]);
  }
  table(['N', 'measure', ...VNODE_COUNTS.map((v) => `${v} vnodes`)], rows);
}

/** Lookups per second for one pass over all keys. */
function rate(pass: () => number): number {
  const t0 = process.hrtime.bigint();
  const sink = pass();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink === 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return keys.length / seconds;
}

// ---------- balance over many member sets (exact, from arc lengths) ----------

function printBalanceDistribution(): void {
  console.log(`\n## max/mean over ${MEMBER_SETS} random member sets (exact shares of the hash space, no key sampling)\n`);
  console.log('One fixed set of ids is one sample; this is the spread a real cluster can land anywhere in.\n');
  const random = seededRandom(0x5eed);
  table(
    ['N', 'vnodes', 'median', 'p90', 'worst', 'share of sets ≤ 1.10', 'build ms (median)'],
    NODE_COUNTS.flatMap((n) =>
      VNODE_COUNTS.map((vnodes) => {
        const ratios: number[] = [];
        const buildMs: number[] = [];
        for (let set = 0; set < MEMBER_SETS; set++) {
          const members = randomIds(n, random).map((id) => ({ id }));
          const t0 = process.hrtime.bigint();
          const ring = new HashRing(members, { vnodes });
          buildMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
          ratios.push(ringBalance(ring).maxOverMean);
        }
        const within = ratios.filter((r) => r <= 1.1).length / ratios.length;
        return [n, vnodes, fmt(median(ratios)), fmt(quantile(ratios, 0.9)), fmt(Math.max(...ratios)), `${Math.round(within * 100)}%`, median(buildMs).toFixed(1)];
      }),
    ),
  );
}

// ---------- bounded loads ----------

/**
 * Mirrokni, Thorup, Zadimoghaddam's bounded loads made into a static map, since every client
 * must compute owners from the member list alone: the balls are 2^16 equal slices of the key
 * space, inserted clockwise from 0, each going to the first member clockwise from its position
 * whose load is under ceil(c * slots / N). A key's owner is its slice's owner.
 */
function boundedLoadOwners(ring: HashRing, c: number): string[] {
  const slots = 2 ** BOUNDED_LOAD_SLOT_BITS;
  const slotWidth = 2 ** (32 - BOUNDED_LOAD_SLOT_BITS);
  const capacity = Math.ceil((c * slots) / ring.size);
  const load = new Map<string, number>();
  const table: string[] = [];
  for (let slot = 0; slot < slots; slot++) {
    let owner: string | undefined;
    for (let r = 1; owner === undefined; r = Math.min(r * 2, ring.size)) {
      owner = ring.preferenceListOfHash(slot * slotWidth, r).find((id) => (load.get(id) ?? 0) < capacity);
    }
    load.set(owner, (load.get(owner) ?? 0) + 1);
    table.push(owner);
  }
  return Array.from(keyHashes, (h) => table[Math.floor(h / slotWidth)]!);
}

function printBoundedLoad(): void {
  const vnodeCounts = [...new Set([BOUNDED_LOAD_LOW_VNODES, DEFAULT_VNODES])];
  console.log(`\n## Bounded loads (static, 2^${BOUNDED_LOAD_SLOT_BITS} slices) vs plain vnodes, fixed ids, one add and one remove\n`);
  console.log('excess: keys moved between two members that are in both rings (plain vnodes: always 0).\n');
  const rows: Array<Array<string | number>> = [];
  for (const n of NODE_COUNTS) {
    for (const vnodes of vnodeCounts) {
      const ring = new HashRing(fixedIds(n).map((id) => ({ id })), { vnodes });
      const added = ring.withMember({ id: fixedId(n + 1) });
      const removed = ring.withoutMember(fixedId(1));
      for (const c of [Infinity, ...BOUNDED_LOAD_FACTORS]) {
        const owners = (r: HashRing) => (c === Infinity ? ownersOf(r) : boundedLoadOwners(r, c));
        const base = owners(ring);
        const add = compareOwners(ring, base, added, owners(added), n + 1);
        const remove = compareOwners(ring, base, removed, owners(removed), n);
        const variant = c === Infinity ? 'plain' : `bounded c=${c}`;
        rows.push([n, vnodes, variant, fmt(loadBalance(countPerMember(ring, base)).maxOverMean), fmt(add.movedOverIdeal), fmt(remove.movedOverIdeal), pct(add.excess), pct(remove.excess)]);
      }
    }
  }
  table(['N', 'vnodes', 'variant', 'max/mean', 'add moved/ideal', 'remove moved/ideal', 'add excess', 'remove excess'], rows);
}

/** Moves between two members present in both rings are excess: consistent hashing promises none. */
function compareOwners(before: HashRing, beforeOwners: readonly string[], after: HashRing, afterOwners: readonly string[], idealDivisor: number): Change {
  let moved = 0;
  let excess = 0;
  for (let i = 0; i < beforeOwners.length; i++) {
    const was = beforeOwners[i]!;
    const now = afterOwners[i]!;
    if (was === now) continue;
    moved++;
    if (after.has(was) && before.has(now)) excess++;
  }
  return { movedOverIdeal: (moved / beforeOwners.length) * idealDivisor, excess };
}

// ---------- helpers ----------

function fixedId(i: number): string {
  return `10.0.${i >> 8}.${i & 255}:7070`;
}

function fixedIds(n: number): string[] {
  return range(n).map((i) => fixedId(i + 1));
}

function randomIds(n: number, random: () => number): string[] {
  const ids = new Set<string>();
  const byte = () => Math.floor(random() * 256);
  while (ids.size < n) ids.add(`10.${byte()}.${byte()}.${byte()}:${7000 + Math.floor(random() * 1000)}`);
  return [...ids];
}


function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

function meanMax(xs: readonly number[]): string {
  return `${fmt(sum(xs) / xs.length)} / ${fmt(Math.max(...xs))}`;
}

function fmt(x: number): string {
  return x.toFixed(3);
}

function pct(count: number): string {
  return `${((count / KEY_COUNT) * 100).toFixed(2)}%`;
}

function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, c) => cell.padStart(widths[c]!)).join(' | ')} |`;
  console.log(line(cells[0]!));
  console.log(`|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`);
  for (const row of cells.slice(1)) console.log(line(row));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
