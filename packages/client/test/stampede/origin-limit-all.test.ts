import { startTestNode, type TestNode } from '@corral/test-utils';
import { Corral } from '../../src';

/** origin.limitAllLoads: a cold tier's herd of distinct-key misses is bounded too, not only cache bypasses. */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(limitAllLoads: boolean): Promise<Corral> {
  const t: TestNode = await startTestNode();
  cleanup.push(() => t.stop(200));
  const c = await Corral.connect({ seeds: [`${t.host}:${t.port}`], stampede: { origin: { maxConcurrency: 2, limitAllLoads } } });
  cleanup.push(() => c.close());
  return c;
}

/** 20 different missing keys at once; returns the most loader calls that ran at the same time. */
async function herd(c: Corral): Promise<number> {
  let running = 0, peak = 0;
  const loader = async () => { peak = Math.max(peak, ++running); await sleep(20); running--; return 'v'; };
  const values = await Promise.all(Array.from({ length: 20 }, (_, i) => c.getOrSet(`cold:${i}`, loader)));
  expect(values.every((v) => v === 'v')).toBe(true);
  return peak;
}

test('by default lease holders load at full width (one load per key, all keys at once)', async () => {
  expect(await herd(await setup(false))).toBe(20);
});

test('with limitAllLoads the fills queue behind maxConcurrency, and every caller still gets its value', async () => {
  const c = await setup(true);
  expect(await herd(c)).toBe(2);
  expect(c.stampedeStats().origin).toMatchObject({ peakRunning: 2, rejectedFull: 0, rejectedTimeout: 0 });
  expect(await c.get('cold:7')).toBe('v'); // stored as usual
});
