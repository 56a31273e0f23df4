import { PushKind } from '@corral/protocol';
import { ManualClock } from '@corral/test-utils';
import { FaultInjector } from '../../src/invalidation/fault-injector';
import { SubscriberTable } from '../../src/invalidation/subscriber-table';
import { FakeSink, manualStream } from './helpers';

function setup(opts: { maxTrackedKeys?: number; hot?: { gen: number; keys: string[] } } = {}) {
  const clock = new ManualClock();
  const { stream, tick } = manualStream();
  const faults = new FaultInjector(() => 0); // random() = 0: every drop draw hits once dropPerMille > 0
  let hot = opts.hot ?? { gen: 0, keys: [] as string[] };
  const table = new SubscriberTable({
    stream, clock, heartbeatMs: 100, maxTrackedKeys: opts.maxTrackedKeys ?? 100, pushBacklogBytes: 1000, faults, hotKeys: () => hot,
  });
  stream.onBatch((b) => table.deliver(b));
  return { clock, stream, tick, faults, table, setHot: (h: typeof hot) => { hot = h; } };
}

describe('SubscriberTable', () => {
  it('broadcast: every change, one push per turn, each covering the range after the previous one', () => {
    const { stream, tick, table } = setup();
    const a = new FakeSink(1);
    expect(table.subscribe(a, 'broadcast', [])).toEqual({ epoch: 77, seq: 0, heartbeatMs: 100, mode: 'broadcast' });
    stream.append('x', 5);
    stream.append('y', 0);
    tick();
    stream.append('z', 9);
    tick();
    expect(a.take().map((g) => g.body)).toEqual([
      { epoch: 77, from: 1, to: 2, keys: ['x', 'y'], versions: [5, 0] },
      { epoch: 77, from: 3, to: 3, keys: ['z'], versions: [9] },
    ]);
  });

  it('broadcast with prefixes: only matching keys, but the range still covers everything', () => {
    const { stream, tick, table } = setup();
    const a = new FakeSink(1);
    table.subscribe(a, 'broadcast', ['user:']);
    stream.append('user:1', 1);
    stream.append('order:1', 2);
    tick();
    stream.append('order:2', 3);
    tick(); // nothing for it: no push, the next one covers the gap-free range
    stream.append('user:2', 4);
    tick();
    expect(a.take().map((g) => g.body)).toEqual([
      { epoch: 77, from: 1, to: 2, keys: ['user:1'], versions: [1] },
      { epoch: 77, from: 3, to: 4, keys: ['user:2'], versions: [4] },
    ]);
  });

  it('tracking: only keys the connection read or wrote, and it stays on them after a change', () => {
    const { stream, tick, table } = setup();
    const a = new FakeSink(1);
    const b = new FakeSink(2);
    table.subscribe(a, 'tracking', []);
    table.subscribe(b, 'tracking', []);
    table.noteRead(1, 'k');
    stream.append('k', 1);
    stream.append('other', 2);
    tick();
    stream.append('k', 3);
    tick();
    expect(a.take().map((g) => g.body.keys)).toEqual([['k'], ['k']]);
    expect(b.take()).toEqual([]);
    expect(table.trackedKeys).toBe(1);
  });

  it('tracking: past the bound the oldest key is forgotten, and its trackers are told (through the log too)', () => {
    const { stream, tick, table } = setup({ maxTrackedKeys: 2 });
    const a = new FakeSink(1);
    table.subscribe(a, 'tracking', []);
    table.noteRead(1, 'k1');
    table.noteRead(1, 'k2');
    table.noteRead(1, 'k3');
    tick();
    expect(a.take().map((g) => g.body)).toEqual([{ epoch: 77, from: 1, to: 1, keys: ['k1'], versions: [0] }]);
    expect(stream.log.since(0, stream.seq)?.keys).toEqual(['k1']);
    expect(table.counters.trackedForgotten).toBe(1);
    stream.append('k1', 5); // no longer tracked: not told
    stream.append('k3', 6);
    tick();
    expect(a.take().map((g) => g.body.keys)).toEqual([['k3']]);
  });

  it('a connection is not pushed the changes it made itself (NOLOOP), in either mode', () => {
    const { stream, tick, table } = setup();
    const t = new FakeSink(1);
    const b = new FakeSink(2);
    const other = new FakeSink(3);
    table.subscribe(t, 'tracking', []);
    table.subscribe(b, 'broadcast', []);
    table.subscribe(other, 'broadcast', []);
    table.noteRead(1, 'k');
    stream.append('k', 5, 1); // made by connection 1
    stream.append('j', 6, 2); // made by connection 2
    tick();
    expect(t.take()).toEqual([]);
    expect(b.take().map((g) => g.body)).toEqual([{ epoch: 77, from: 1, to: 2, keys: ['k'], versions: [5] }]);
    expect(other.take().map((g) => g.body.keys)).toEqual([['k', 'j']]);
    stream.append('k', 7, 3); // someone else: connection 1 hears of it, still tracking
    tick();
    expect(t.take().map((g) => g.body)).toEqual([{ epoch: 77, from: 1, to: 3, keys: ['k'], versions: [7] }]);
  });

  it('a FLUSH (null key) reaches every tracking and broadcast subscriber and empties the tracking table', () => {
    const { stream, tick, table } = setup();
    const a = new FakeSink(1);
    const b = new FakeSink(2);
    const c = new FakeSink(3);
    table.subscribe(a, 'tracking', []);
    table.subscribe(b, 'broadcast', ['p:']);
    table.subscribe(c, 'none', []);
    table.noteRead(1, 'k');
    stream.append(null, 0);
    tick();
    expect(a.take().map((g) => g.body.keys)).toEqual([[null]]);
    expect(b.take().map((g) => g.body.keys)).toEqual([[null]]);
    expect(c.take()).toEqual([]);
    expect(table.trackedKeys).toBe(0);
  });

  it('a dropped push still moves the position, so the next message shows the gap', () => {
    const { stream, tick, table, faults } = setup();
    const a = new FakeSink(1);
    table.subscribe(a, 'broadcast', []);
    faults.dropPerMille = 1000;
    stream.append('x', 1);
    tick();
    faults.dropPerMille = 0;
    stream.append('y', 2);
    tick();
    expect(a.take().map((g) => [g.body.from, g.body.to])).toEqual([[2, 2]]);
    expect(table.counters.pushesDropped).toBe(1);
  });

  it('skips pushes to a connection with a send backlog (it replays later) instead of buffering without bound', () => {
    const { stream, tick, table } = setup();
    const a = new FakeSink(1);
    table.subscribe(a, 'broadcast', []);
    a.backlog = 5000;
    stream.append('x', 1);
    tick();
    expect(a.take()).toEqual([]);
    expect(table.counters.pushesSkippedBacklog).toBe(1);
  });

  it('heartbeats bring everyone to the current seq and carry the hot-key set until it was delivered', () => {
    const { stream, tick, table, clock, faults, setHot } = setup({ hot: { gen: 1, keys: ['h'] } });
    const a = new FakeSink(1);
    table.subscribe(a, 'tracking', []);
    stream.append('untracked', 1); // pending, not flushed: the heartbeat must deliver it first
    table.heartbeat();
    tick();
    expect(a.take().map((g) => [g.kind, g.body])).toEqual([[PushKind.Heartbeat, { epoch: 77, from: 1, to: 1, hotGen: 1, hot: ['h'] }]]);
    clock.advance(100);
    table.heartbeat();
    expect(a.take().map((g) => g.body)).toEqual([{ epoch: 77, from: 2, to: 1, hotGen: 1 }]);
    setHot({ gen: 2, keys: [] });
    faults.dropPerMille = 1000;
    clock.advance(100);
    table.heartbeat(); // dropped: the set goes again next time
    faults.dropPerMille = 0;
    clock.advance(100);
    table.heartbeat();
    expect(a.take().map((g) => g.body)).toEqual([{ epoch: 77, from: 2, to: 1, hotGen: 2, hot: [] }]);
  });

  it('a subscriber that just got a push is not sent a heartbeat in the same period', () => {
    const { stream, tick, table, clock } = setup();
    const a = new FakeSink(1);
    table.subscribe(a, 'broadcast', []);
    table.heartbeat();
    a.take();
    clock.advance(100);
    stream.append('x', 1);
    tick();
    table.heartbeat();
    expect(a.take().map((g) => g.kind)).toEqual([PushKind.Invalidate]);
  });

  it('forgets a subscriber\'s tracked keys when it unsubscribes', () => {
    const { table } = setup();
    table.subscribe(new FakeSink(1), 'tracking', []);
    table.noteRead(1, 'a');
    table.noteRead(1, 'b');
    expect(table.trackedKeys).toBe(2);
    expect(table.unsubscribe(1)).toBe(true);
    expect(table.trackedKeys).toBe(0);
    expect(table.size).toBe(0);
  });

  it('rejects unknown modes and prefixes outside broadcast', () => {
    const { table } = setup();
    expect(() => table.subscribe(new FakeSink(1), 'all' as never, [])).toThrow(/mode/);
    expect(() => table.subscribe(new FakeSink(1), 'tracking', ['p'])).toThrow(/prefixes/);
  });
});
