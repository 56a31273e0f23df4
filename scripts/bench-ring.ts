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

const QUICK = process.argv.includes('--quick');
const KEY_COUNT = QUICK ? 100_000 : 1_000_000;
const NODE_COUNTS = [3, 10, 50];
const VNODE_COUNTS = [40, 100, 160, 256, 500, 1000];
/** Random member sets per (N, vnodes) for the balance distribution: one set is one sample. */
const MEMBER_SETS = QUICK ? 10 : 40;
/** Different nodes added / removed per (N, vnodes), to average out which node it happens to be. */
const CHANGE_TRIALS = 3;
const LOOKUP_RUNS = 3;
const BOUNDED_LOAD_SLOT_BITS = 16;
const BOUNDED_LOAD_EPSILONS = [0.1, 0.25];

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
  printBoundedLoad();
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// ---------- balance, movement and speed on the fixed key set ----------

function printKeyTable(): void {
  console.log(`## Keys per node, movement, lookups (fixed ids 10.0.0.1.., ${CHANGE_TRIALS} add and ${CHANGE_TRIALS} remove trials)\n`);
  console.log('moved/ideal: fraction of keys that moved ÷ 1/(N+1) on add, ÷ 1/N on remove (mean, max over trials).');
  console.log('excess: keys that moved anywhere other than to the added node / from the removed node (must be 0).\n');
  table(
    ['N', 'vnodes', 'max/mean', 'stddev/mean', 'add moved/ideal', 'remove moved/ideal', 'excess', 'ownerOf M/s'],
    NODE_COUNTS.flatMap((n) =>
      VNODE_COUNTS.map((vnodes) => {
        const ring = new HashRing(fixedIds(n).map((id) => ({ id })), { vnodes });
        const owners = ownersOf(ring);
        const counts = ring.members().map((m) => owners.filter((o) => o === m.id).length);
        const balance = loadBalance(counts);
        const adds = range(CHANGE_TRIALS).map((t) => measureChange(ring, owners, ring.withMember({ id: fixedId(n + 1 + t) }), n + 1));
        const removes = range(CHANGE_TRIALS).map((t) => measureChange(ring, owners, ring.withoutMember(fixedId(1 + Math.floor((t * n) / CHANGE_TRIALS))), n));
        return [
          n, vnodes, balance.maxOverMean.toFixed(3), balance.stdDevOverMean.toFixed(3),
          meanMax(adds.map((c) => c.movedOverIdeal)), meanMax(removes.map((c) => c.movedOverIdeal)),
          sum([...adds, ...removes].map((c) => c.excess)), lookupsPerSecond(ring),
        ];
      }),
    ),
  );
}

interface Change { movedOverIdeal: number; excess: number }

/** Moves between two members present in both rings are excess: consistent hashing promises none. */
function measureChange(before: HashRing, beforeOwners: readonly string[], after: HashRing, idealDivisor: number): Change {
  let moved = 0;
  let excess = 0;
  for (let i = 0; i < keyHashes.length; i++) {
    const was = beforeOwners[i]!;
    const now = after.ownerOfHash(keyHashes[i]!);
    if (was === now) continue;
    moved++;
    if (after.has(was) && before.has(now)) excess++;
  }
  return { movedOverIdeal: (moved / keyHashes.length) * idealDivisor, excess };
}
