import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { HashRing, hashKey, loadRingHasher } from '../src';
import { keys, manyKeys, members, vnodes } from './arbitraries';

beforeAll(() => loadRingHasher());

/** Everything a router observes about a ring for the given keys. */
function routing(ring: HashRing, sample: readonly string[]) {
  return {
    fingerprint: ring.fingerprint(),
    hashes: sample.map(hashKey),
    owners: sample.map((k) => ring.ownerOf(k)),
    preferences: sample.map((k) => ring.preferenceList(k, 3)),
    arcs: ring.arcs(),
  };
}

describe('the same members give the same ring', () => {
  it('in any input order, within a process', () => {
    fc.assert(
      fc.property(
        members(1, 10).chain((ms) => fc.tuple(fc.constant(ms), fc.shuffledSubarray(ms, { minLength: ms.length, maxLength: ms.length }))),
        vnodes,
        keys,
        ([ordered, shuffled], v, sample) => {
          expect(routing(new HashRing(shuffled, { vnodes: v }), sample)).toEqual(routing(new HashRing(ordered, { vnodes: v }), sample));
        },
      ),
    );
  });

  it('resolves colliding vnode points in favour of the smaller id, whatever the input order', () => {
    // Birthday search: ~200k labels in a 2^32 space almost surely contain a colliding pair.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined && i < 1_000_000; i++) {
      const id = `n${i}`;
      const point = hashKey(`${id}#0`); // where vnode 0 of `id` sits
      const other = seen.get(point);
      if (other !== undefined) pair = [other, id];
      else seen.set(point, id);
    }
    const [a, b] = pair!.sort();
    for (const order of [[a!, b!], [b!, a!]]) {
      const ring = new HashRing(order.map((id) => ({ id })), { vnodes: 1 });
      expect(ring.arcs()).toEqual([{ start: 0, end: 0xffffffff, owner: a }]);
      expect(ring.preferenceList('any key', 2)).toEqual([a, b]); // the loser stays reachable as a fallback
    }
  });

  it('in another process, given the members in reverse order', () => {
    const cases = fc.sample(fc.tuple(members(1, 12), vnodes), 25).map(([ms, v]) => ({ members: ms, vnodes: v }));
    const sample = [...manyKeys.slice(0, 200), '', 'ünïcødé', '🔑', 'a'.repeat(300)];
    const expected = cases.map((c) => routing(new HashRing(c.members, { vnodes: c.vnodes }), sample));

    const child = spawnSync(process.execPath, ['-r', 'ts-node/register', '-e', CHILD_SCRIPT], {
      cwd: REPO_ROOT,
      input: JSON.stringify({ cases, sample }),
      env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, 'packages/ring/tsconfig.json'), TS_NODE_TRANSPILE_ONLY: 'true' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual(expected);
  });
});

const REPO_ROOT = path.resolve(__dirname, '../../..');

// Runs the TypeScript sources through ts-node rather than dist/, so it can never test a stale build.
const CHILD_SCRIPT = `
const { HashRing, hashKey, loadRingHasher } = require('./packages/ring/src/index.ts');
const { cases, sample } = JSON.parse(require('fs').readFileSync(0, 'utf8'));
loadRingHasher().then(() => {
  const out = cases.map((c) => {
    const ring = new HashRing([...c.members].reverse(), { vnodes: c.vnodes });
    return {
      fingerprint: ring.fingerprint(),
      hashes: sample.map(hashKey),
      owners: sample.map((k) => ring.ownerOf(k)),
      preferences: sample.map((k) => ring.preferenceList(k, 3)),
      arcs: ring.arcs(),
    };
  });
  process.stdout.write(JSON.stringify(out));
});
`;
