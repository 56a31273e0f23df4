import { InvalidationLog } from '../../src/invalidation/invalidation-log';

describe('InvalidationLog', () => {
  it('replays every change after a seq, in order, with versions', () => {
    const log = new InvalidationLog(10, 1 << 20);
    for (let seq = 1; seq <= 5; seq++) log.append(seq, `k${seq}`, seq * 10);
    expect(log.since(2, 5)).toEqual({ from: 3, to: 5, keys: ['k3', 'k4', 'k5'], versions: [30, 40, 50] });
    expect(log.since(5, 5)).toEqual({ from: 6, to: 5, keys: [], versions: [] });
    expect(log.since(0, 5)?.keys).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it('says "lost" (undefined) once the oldest needed entry was overwritten', () => {
    const log = new InvalidationLog(4, 1 << 20);
    for (let seq = 1; seq <= 10; seq++) log.append(seq, `k${seq}`, 0);
    expect(log.oldestSeq).toBe(7);
    expect(log.since(6, 10)?.keys).toEqual(['k7', 'k8', 'k9', 'k10']);
    expect(log.since(5, 10)).toBeUndefined();
  });

  it('is bounded by bytes as well as entries', () => {
    const log = new InvalidationLog(1000, 24 * 3 + 3 * 2 * 100);
    for (let seq = 1; seq <= 10; seq++) log.append(seq, 'x'.repeat(100), 0);
    expect(log.size).toBe(3);
    expect(log.byteSize).toBeLessThanOrEqual(log.maxBytes);
    expect(log.since(7, 10)?.keys).toHaveLength(3);
  });

  it('keeps FLUSH markers (null keys) and refuses a seq that does not follow', () => {
    const log = new InvalidationLog(4, 1 << 20);
    log.append(1, null, 0);
    expect(log.since(0, 1)?.keys).toEqual([null]);
    expect(() => log.append(3, 'k', 0)).toThrow(RangeError);
  });
});
