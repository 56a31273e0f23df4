import type { InvalidationReplay } from '@corral/protocol';
import { hashKey, loadRingHasher, MAX_HASH } from '@corral/ring';
import { ManualClock } from '@corral/test-utils';
import { CoherenceTracker, type Fill } from '../../src/l1/coherence-tracker';
import { NearCache } from '../../src/l1/near-cache';

beforeAll(() => loadRingHasher());

function setup() {
  const clock = new ManualClock();
  const cache = new NearCache({ maxEntries: 100, maxBytes: 1 << 20, maxEntriesPerNamespace: 100, maxBytesPerNamespace: 1 << 20, maxNamespaces: 1, namespaceOf: undefined });
  const replays: Array<{ node: string; epoch: number; seq: number; answer: (r: InvalidationReplay) => void; fail: (e: Error) => void }> = [];
  const resubscribed: string[] = [];
  const t = new CoherenceTracker(cache, clock, {
    replay: (node, epoch, seq) => new Promise((answer, fail) => replays.push({ node, epoch, seq, answer, fail })),
    resubscribe: (node) => resubscribed.push(node),
  }, 60_000, undefined);
  t.stream('n1');
  t.onSubscribing('n1');
  t.onSubscribed('n1', { epoch: 7, seq: 100, heartbeatMs: 100 });
  const fill = (key: string, version = 1, value: unknown = `${key}@${version}`): Fill => ({ value, valueBytes: 8, version, ttlMs: -1 });
  const read = (key: string, version = 1, node = 'n1') => t.fill(t.beginRead(key, node), fill(key, version));
  const get = (key: string) => cache.lookup(key, clock.now())?.value;
  const flushed = () => new Promise((r) => setImmediate(r));
  return { clock, cache, t, replays, resubscribed, fill, read, get, flushed };
}

describe('CoherenceTracker', () => {
  it('caches reads from a node in sync and drops what an invalidation names', () => {
    const { t, read, get } = setup();
    expect(read('a')).toBe(true);
    expect(read('b', 3)).toBe(true);
    t.onMessage('n1', { epoch: 7, from: 101, to: 102, keys: ['a', 'b'], versions: [2, 3] }, false);
    expect(get('a')).toBeUndefined();
    expect(get('b')).toBe('b@3'); // already at that version
    expect(t.counters.invalidationsReceived).toBe(2);
  });

  it('does not cache a read whose key was invalidated while it was out (unless the reply already shows the change)', () => {
    const { t, fill, get } = setup();
    const r1 = t.beginRead('k', 'n1');
    t.onMessage('n1', { epoch: 7, from: 101, to: 101, keys: ['k'], versions: [0] }, false);
    expect(t.fill(r1, fill('k', 9))).toBe(false);
    const r2 = t.beginRead('k', 'n1');
    t.onMessage('n1', { epoch: 7, from: 102, to: 102, keys: ['k'], versions: [5] }, false);
    expect(t.fill(r2, fill('k', 4))).toBe(false);
    const r3 = t.beginRead('k', 'n1');
    t.onMessage('n1', { epoch: 7, from: 103, to: 103, keys: ['k'], versions: [6] }, false);
    expect(t.fill(r3, fill('k', 6))).toBe(true);
    expect(get('k')).toBe('k@6');
    expect(t.counters.fillsRefused).toBe(2);
  });

  it('a gap: entries are held back until the replay says which keys changed; the rest stay', async () => {
    const { t, read, get, replays, flushed } = setup();
    read('a');
    read('b');
    t.onMessage('n1', { epoch: 7, from: 105, to: 106, keys: [], versions: [] }, false);
    expect(t.counters.gapsDetected).toBe(1);
    expect(replays.map((r) => [r.node, r.epoch, r.seq])).toEqual([['n1', 7, 100]]);
    expect(get('a')).toBeUndefined(); // not served while repairing
    t.onMessage('n1', { epoch: 7, from: 107, to: 108 }, true); // more while the replay is out: no second gap
    replays[0]!.answer({ epoch: 7, from: 101, to: 108, keys: ['a'], versions: [0] });
    await flushed();
    expect(get('a')).toBeUndefined();
    expect(get('b')).toBe('b@1');
    expect(t.counters).toMatchObject({ gapsDetected: 1, rangesReplayed: 1, entriesDroppedByFlush: 0 });
    t.onMessage('n1', { epoch: 7, from: 109, to: 109 }, true);
    expect(t.counters.gapsDetected).toBe(1);
  });

  it('a gap the log no longer covers drops everything from that node, and reads already out are not cached', async () => {
    const { t, read, get, replays, flushed, fill } = setup();
    read('a');
    const out = t.beginRead('late', 'n1');
    t.onMessage('n1', { epoch: 7, from: 200, to: 200 }, true);
    replays[0]!.answer({ epoch: 7, lost: true, seq: 250 });
    await flushed();
    expect(get('a')).toBeUndefined();
    expect(t.fill(out, fill('late'))).toBe(false);
    expect(t.counters).toMatchObject({ replaysLost: 1, entriesDroppedByFlush: 1 });
    expect(t.counters.flushes.replay).toBe(1);
    expect(read('c')).toBe(true); // in sync again from the node's position
    t.onMessage('n1', { epoch: 7, from: 251, to: 251 }, true);
    expect(get('c')).toBe('c@1');
  });

  it('a failed replay drops the node\'s entries and subscribes again', async () => {
    const { t, read, replays, resubscribed, flushed } = setup();
    read('a');
    t.onMessage('n1', { epoch: 7, from: 300, to: 300 }, true);
    replays[0]!.fail(new Error('timeout'));
    await flushed();
    expect(t.counters.replaysFailed).toBe(1);
    expect(resubscribed).toEqual(['n1']);
    expect(read('b')).toBe(false); // no position until the new subscription answers
  });

  it('a message from another epoch (the node restarted) drops the node\'s entries and subscribes again', () => {
    const { t, read, get, resubscribed } = setup();
    read('a');
    t.onMessage('n1', { epoch: 8, from: 1, to: 1 }, true);
    expect(get('a')).toBeUndefined();
    expect(t.counters.epochChanges).toBe(1);
    expect(resubscribed).toEqual(['n1']);
  });

  it('a lost connection drops the node\'s entries; nothing is cached from it until it is subscribed again', () => {
    const { t, read, get } = setup();
    read('a');
    const out = t.beginRead('b', 'n1');
    t.onClosed('n1');
    expect(get('a')).toBeUndefined();
    expect(t.fill(out, { value: 1, valueBytes: 1, version: 1, ttlMs: -1 })).toBe(false);
    t.onSubscribing('n1');
    expect(read('c')).toBe(false);
    t.onSubscribed('n1', { epoch: 7, seq: 500, heartbeatMs: 100 });
    expect(read('c')).toBe(true);
    expect(t.counters.flushes.connection).toBe(1);
  });

  it('silence: entries are not served past the heartbeat timeout, and a tick drops them (unless the timer itself ran late)', () => {
    const { t, read, get, clock } = setup();
    read('a');
    clock.advance(299);
    expect(get('a')).toBe('a@1');
    clock.advance(2);
    expect(get('a')).toBeUndefined();
    t.tick(true);
    expect(t.counters.flushes.silence).toBe(0);
    t.tick(false);
    expect(t.counters.flushes.silence).toBe(1);
    expect(t.cache.size).toBe(0);
  });

  it('pushes that arrive between the subscribe reply and its handling are applied after it', () => {
    const { t, read } = setup();
    t.onSubscribing('n1');
    t.onMessage('n1', { epoch: 7, from: 601, to: 602 }, false); // in the same socket read as the reply
    t.onSubscribed('n1', { epoch: 7, seq: 600, heartbeatMs: 100 });
    read('a');
    t.onMessage('n1', { epoch: 7, from: 603, to: 603 }, true);
    expect(t.counters.gapsDetected).toBe(0);
  });

  it('a FLUSH on a node drops its entries and spoils every read out', () => {
    const { t, read, get, fill } = setup();
    read('a');
    const out = t.beginRead('b', 'n1');
    t.onMessage('n1', { epoch: 7, from: 101, to: 101, keys: [null], versions: [0] }, false);
    expect(get('a')).toBeUndefined();
    expect(t.fill(out, fill('b'))).toBe(false);
    expect(t.counters.flushes.flush).toBe(1);
  });

  it('a topology change drops the entries of the ranges that moved, and spoils reads out', () => {
    const { t, read, get, fill } = setup();
    const keys = Array.from({ length: 40 }, (_x, i) => `k${i}`);
    for (const k of keys) read(k);
    const out = t.beginRead('z', 'n1');
    const half = Math.floor(MAX_HASH / 2);
    const dropped = t.onTopology([{ start: 0, end: half, owner: 'n2', from: 'n1' }]);
    expect(dropped).toBe(keys.filter((k) => hashKey(k) <= half).length);
    for (const k of keys) expect(get(k) === undefined).toBe(hashKey(k) <= half);
    expect(t.fill(out, fill('z'))).toBe(false);
  });

  it('serves an entry no longer than its TTL on the node, nor than maxTtlMs', () => {
    const { t, get, clock } = setup();
    t.fill(t.beginRead('short', 'n1'), { value: 1, valueBytes: 1, version: 1, ttlMs: 50 });
    t.fill(t.beginRead('forever', 'n1'), { value: 2, valueBytes: 1, version: 1, ttlMs: -1 });
    clock.advance(49);
    expect(get('short')).toBe(1);
    clock.advance(1);
    expect(get('short')).toBeUndefined();
    t.onMessage('n1', { epoch: 7, from: 101, to: 101 }, true); // keep the node heard from
    clock.advance(60_000 - 50 - 1);
    t.onMessage('n1', { epoch: 7, from: 102, to: 102 }, true);
    expect(get('forever')).toBe(2);
    clock.advance(1);
    expect(get('forever')).toBeUndefined();
  });

  it('learns each node\'s hot keys from its heartbeats', () => {
    const { t } = setup();
    t.onMessage('n1', { epoch: 7, from: 101, to: 101, hotGen: 1, hot: ['h1', 'h2'] }, true);
    expect(t.hot.ownerOf('h1')).toBe('n1');
    t.onMessage('n1', { epoch: 7, from: 102, to: 102, hotGen: 2, hot: ['h2'] }, true);
    expect(t.hot.ownerOf('h1')).toBeUndefined();
    t.onRemoved('n1');
    expect(t.hot.size).toBe(0);
  });
});
