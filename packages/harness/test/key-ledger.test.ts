import { KeyLedger } from '../src/workload/key-ledger';
import { ValueCodec } from '../src/workload/value-codec';

/**
 * The ledger decides what counts as lost and what as stale, which is what the invariants rest on:
 * these cases pin the definitions down without a cluster.
 */

const name = (i: number) => `k:${i}`;
const ctx = (step = 0) => ({ step, detectedBy: 'read' as const });

function written(ledger: KeyLedger, i: number, at: number, ttlMs?: number): number {
  const seq = ledger.beginWrite(i, true)!;
  ledger.ackWrite(i, seq, 1000 + seq, at, at + 1, ttlMs, 'node-a');
  return seq;
}

describe('KeyLedger', () => {
  it('a miss of a key acknowledged before the read was sent is a loss, recorded once with its owner', () => {
    const l = new KeyLedger(4, name);
    written(l, 1, 10);
    expect(l.judge(1, 20, 25, l.expectation(1), undefined, ctx(3))).toBe('lost');
    expect(l.judge(1, 30, 35, l.expectation(1), undefined, ctx(3))).toBe('miss'); // already counted
    expect(l.lost).toEqual([expect.objectContaining({ key: 'k:1', step: 3, lastAckedSeq: 1, lastAckedVersion: 1001, ownerAtWrite: 'node-a', cameBack: false })]);
  });

  it('a miss of a key whose node is away on a planned restart is "away": nothing recorded; once it is back a miss is a loss again', () => {
    const l = new KeyLedger(4, name);
    const seq = written(l, 1, 10);
    l.plannedAway.add('node-a');
    expect(l.judge(1, 20, 25, l.expectation(1), undefined, ctx(2))).toBe('away');
    expect(l.lost).toEqual([]);
    l.plannedAway.clear();
    expect(l.judge(1, 30, 35, l.expectation(1), { index: 1, seq }, ctx(2))).toBe('hit');
    expect(l.judge(1, 40, 45, l.expectation(1), undefined, ctx(2))).toBe('lost');
  });

  it('a miss is not a loss when the write was acknowledged after the read was sent, or never made', () => {
    const l = new KeyLedger(4, name);
    expect(l.judge(0, 5, 6, l.expectation(0), undefined, ctx())).toBe('miss');
    written(l, 1, 10); // acknowledged at 11
    expect(l.judge(1, 8, 12, { seq: 1, ackedAt: 11 }, undefined, ctx())).toBe('miss');
  });

  it('a key whose TTL may have run out (counted from when its write was sent) is expired, not lost', () => {
    const l = new KeyLedger(2, name);
    written(l, 0, 100, 50); // may expire from 150
    expect(l.judge(0, 140, 149, l.expectation(0), undefined, ctx())).toBe('lost');
    const m = new KeyLedger(2, name);
    written(m, 0, 100, 50);
    expect(m.judge(0, 160, 161, m.expectation(0), undefined, ctx())).toBe('miss');
  });

  it('an older value than the last acknowledged write is a stale read; a newer one (a write in flight) is fine', () => {
    const l = new KeyLedger(2, name);
    written(l, 0, 10);
    written(l, 0, 20);
    const exp = l.expectation(0);
    expect(l.judge(0, 30, 31, exp, { index: 0, seq: 1 }, ctx())).toBe('stale');
    expect(l.judge(0, 30, 31, exp, { index: 0, seq: 2 }, ctx())).toBe('hit');
    expect(l.judge(0, 30, 31, exp, { index: 0, seq: 3 }, ctx())).toBe('hit');
  });

  it('a loss whose very write turns up again was only unavailable', () => {
    const l = new KeyLedger(2, name);
    written(l, 0, 10);
    l.judge(0, 20, 21, l.expectation(0), undefined, ctx());
    expect(l.judge(0, 30, 31, l.expectation(0), { index: 0, seq: 1 }, ctx())).toBe('hit');
    expect(l.lost[0]!.cameBack).toBe(true);
    // The refill path says the same when SET nx finds the key present.
    written(l, 1, 10);
    l.judge(1, 20, 21, l.expectation(1), undefined, ctx());
    l.foundAgain(1);
    expect(l.lost[1]!.cameBack).toBe(true);
  });

  it('allows one write per key at a time; a refill rewrites the acknowledged sequence number', () => {
    const l = new KeyLedger(1, name);
    expect(l.beginWrite(0, true)).toBe(1);
    expect(l.beginWrite(0, true)).toBeUndefined();
    l.ackWrite(0, 1, 5, 0, 1, undefined, undefined);
    expect(l.beginWrite(0, false)).toBe(1);
    l.endWrite(0);
    expect(l.isWriting(0)).toBe(false);
  });

  it('a settled value older than acknowledged is a regression; the same value under an older version is not', () => {
    const l = new KeyLedger(1, name);
    written(l, 0, 1);
    written(l, 0, 2);
    expect(l.regressed(0, { index: 0, seq: 1 }, l.expectation(0), 10)).toBe(true);
    expect(l.regressed(0, { index: 0, seq: 2 }, l.expectation(0), 10)).toBe(false);
    // Judged against what was acknowledged when the read was sent, not what was acknowledged by the time it came back.
    const sent = l.expectation(0);
    written(l, 0, 3);
    expect(l.regressed(0, { index: 0, seq: 2 }, sent, 10)).toBe(false);
  });
});

describe('ValueCodec', () => {
  it('round-trips key index and sequence number, sizes values per key within the range, and rejects foreign bytes', () => {
    const c = new ValueCodec({ min: 16, max: 64 });
    const v = c.encode(7, 42);
    expect(v.length).toBe(c.sizeOf(7));
    expect(v.length).toBeGreaterThanOrEqual(16);
    expect(v.length).toBeLessThanOrEqual(64);
    expect(c.decode(v)).toEqual({ index: 7, seq: 42 });
    expect(c.decode(Buffer.from('hello world, not ours'))).toBeUndefined();
    expect(c.decode('text')).toBeUndefined();
  });
});
