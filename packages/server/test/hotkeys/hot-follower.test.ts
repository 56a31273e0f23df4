import type { InvalidationReplay } from '@corral/protocol';
import { ManualClock } from '@corral/test-utils';
import { HotFollower, type HotSyncMessage } from '../../src/hotkeys/hot-follower';

function setup(replay: (epoch: number, seq: number) => Promise<InvalidationReplay>) {
  const clock = new ManualClock();
  const log: string[] = [];
  const f = new HotFollower(clock, 400, {
    invalidate: (owner, key, v) => log.push(`inv ${owner} ${key} ${v}`),
    dropOwner: (owner, keep) => log.push(`drop ${owner}${keep ? ` keep:${['a', 'b', 'c'].filter((k) => keep(k)).join(',')}` : ''}`),
    replay: (_owner, epoch, seq) => replay(epoch, seq),
  });
  return { clock, log, f };
}

const msg = (fromSeq: number, toSeq: number, extra: Partial<HotSyncMessage> = {}): HotSyncMessage =>
  ({ epoch: 5, fromSeq, toSeq, keys: [], versions: [], flush: false, ...extra });

describe('HotFollower', () => {
  it('a first message is a baseline; invalidations are applied; hot sets replace each other', () => {
    const { f, log } = setup(() => Promise.reject(new Error('no replay expected')));
    f.onSync('n1', msg(10, 12, { hot: ['a', 'b'], hotGen: 1, keys: ['a'], versions: [7] }));
    expect(f.canServe('n1')).toBe(true);
    expect(f.isHot('n1', 'a')).toBe(true);
    f.onSync('n1', msg(13, 13, { hot: ['a'], hotGen: 2 }));
    expect(log).toEqual(['inv n1 a 7', 'drop n1 keep:a,b', 'drop n1 keep:a']);
    expect(f.isHot('n1', 'b')).toBe(false);
  });

  it('a gap is replayed from the owner\'s log, and copies are not served meanwhile', async () => {
    let asked: [number, number] | undefined;
    let answer!: (r: InvalidationReplay) => void;
    const { f, log } = setup((epoch, seq) => { asked = [epoch, seq]; return new Promise((r) => { answer = r; }); });
    f.onSync('n1', msg(1, 3, { hot: ['a'], hotGen: 1 }));
    f.onSync('n1', msg(6, 6));
    expect(asked).toEqual([5, 3]);
    expect(f.canServe('n1')).toBe(false);
    answer({ epoch: 5, from: 4, to: 6, keys: ['a', 'x'], versions: [9, 0] });
    await Promise.resolve();
    expect(f.canServe('n1')).toBe(true);
    expect(log.slice(-2)).toEqual(['inv n1 a 9', 'inv n1 x 0']);
    expect(f.counters).toMatchObject({ gaps: 1, replays: 1, replaysLost: 0 });
  });

  it('a gap the log cannot fill drops every copy of the owner\'s keys', async () => {
    const { f, log } = setup(() => Promise.resolve({ epoch: 5, lost: true, seq: 40 }));
    f.onSync('n1', msg(1, 3, { hot: ['a'], hotGen: 1 }));
    f.onSync('n1', msg(30, 31));
    await new Promise((r) => setImmediate(r));
    expect(log.at(-1)).toBe('drop n1');
    expect(f.counters.replaysLost).toBe(1);
    f.onSync('n1', msg(41, 41)); // the baseline moved to the owner's seq at the time: no new gap
    expect(f.counters.gaps).toBe(1);
  });

  it('a new epoch (the owner restarted) and silence both drop the owner\'s copies', () => {
    const { f, log, clock } = setup(() => Promise.reject(new Error('unexpected')));
    f.onSync('n1', msg(1, 3, { hot: ['a'], hotGen: 1 }));
    f.onSync('n1', { ...msg(1, 1), epoch: 6 });
    expect(f.counters.epochChanges).toBe(1);
    expect(log.at(-1)).toBe('drop n1');
    clock.advance(401);
    expect(f.canServe('n1')).toBe(false);
    f.tick();
    expect(f.counters.silences).toBe(1);
    expect(log.at(-1)).toBe('drop n1');
  });
});
