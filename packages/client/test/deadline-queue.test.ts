import { DeadlineQueue } from '../src/deadline-queue';

class Item {
  settled = false;
  deadline = 0;
  constructor(readonly name: string) {}
}

describe('DeadlineQueue (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function queue(): { q: DeadlineQueue<Item>; expired: string[] } {
    const expired: string[] = [];
    const q = new DeadlineQueue<Item>(() => performance.now(), (it) => { it.settled = true; expired.push(it.name); });
    return { q, expired };
  }

  it('expires each item at its own deadline, across lanes of different timeouts, on one timer', () => {
    const { q, expired } = queue();
    q.add(new Item('a1000'), 1000);
    jest.advanceTimersByTime(100);
    q.add(new Item('b1000'), 1000);
    q.add(new Item('c300'), 300);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(299);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['c300']);
    jest.advanceTimersByTime(599);
    expect(expired).toEqual(['c300']);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['c300', 'a1000']);
    jest.advanceTimersByTime(100);
    expect(expired).toEqual(['c300', 'a1000', 'b1000']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never expires a settled item, and stops its timer once everything settled', () => {
    const { q, expired } = queue();
    const items = ['x', 'y', 'z'].map((n) => new Item(n));
    for (const it of items) q.add(it, 500);
    // Out of order: y settles first; it waits behind x, which then settles, and both go.
    items[1]!.settled = true;
    q.settled(500);
    expect(jest.getTimerCount()).toBe(1);
    items[0]!.settled = true;
    q.settled(500);
    jest.advanceTimersByTime(500);
    expect(expired).toEqual(['z']);
    expect(jest.getTimerCount()).toBe(0);
    const w = new Item('w');
    q.add(w, 500);
    w.settled = true;
    q.settled(500);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual(['z']);
  });

  it('an item added while others expire (a retry) gets its own deadline', () => {
    const expired: string[] = [];
    const q: DeadlineQueue<Item> = new DeadlineQueue<Item>(() => performance.now(), (it) => {
      it.settled = true;
      expired.push(it.name);
      if (it.name === 'first') q.add(new Item('retry'), 200);
    });
    q.add(new Item('first'), 1000);
    q.add(new Item('late'), 5000);
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual(['first']);
    jest.advanceTimersByTime(200);
    expect(expired).toEqual(['first', 'retry']);
    jest.advanceTimersByTime(3800);
    expect(expired).toEqual(['first', 'retry', 'late']);
  });
});
