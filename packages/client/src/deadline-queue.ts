/** What the queue needs of an item: whether something else settled it, and room for its deadline. */
export interface Deadlined {
  readonly settled: boolean;
  deadline: number;
}

interface Lane<T> { items: Array<T | undefined>; head: number }

/**
 * Timeouts without a timer per request. Items armed with the same timeout expire in the order they
 * were armed, so each distinct timeout is a FIFO lane, and one timer, set for the earliest deadline
 * at any lane's front, serves them all. A settled item stays in its lane until it reaches the
 * front; replies mostly come back in order, so the front is usually the item that just settled and
 * `settled()` trims it at once (and stops the timer when nothing is left).
 */
export class DeadlineQueue<T extends Deadlined> {
  private readonly lanes = new Map<number, Lane<T>>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(private readonly now: () => number, private readonly onExpire: (item: T) => void) {}

  add(item: T, timeoutMs: number): void {
    const deadline = this.now() + timeoutMs;
    item.deadline = deadline;
    let lane = this.lanes.get(timeoutMs);
    if (lane === undefined) {
      lane = { items: [], head: 0 };
      this.lanes.set(timeoutMs, lane);
    }
    lane.items.push(item);
    if (deadline < this.timerAt) this.arm(deadline);
  }

  /** An item of the `timeoutMs` lane settled. */
  settled(timeoutMs: number): void {
    const lane = this.lanes.get(timeoutMs);
    if (lane === undefined) return;
    while (lane.head < lane.items.length && lane.items[lane.head]!.settled) lane.items[lane.head++] = undefined;
    this.compact(lane);
    if (lane.items.length === 0 && this.timer !== undefined && this.empty()) this.stop();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    let next = Infinity;
    for (const lane of this.lanes.values()) {
      while (lane.head < lane.items.length) {
        const it = lane.items[lane.head]!;
        if (!it.settled && it.deadline > now) { next = Math.min(next, it.deadline); break; }
        lane.items[lane.head++] = undefined;
        if (!it.settled) this.onExpire(it); // may add items: they arm the timer themselves
      }
      this.compact(lane);
    }
    if (next < this.timerAt) this.arm(next);
  }

  private compact(lane: Lane<T>): void {
    if (lane.head === lane.items.length) {
      lane.items = [];
      lane.head = 0;
    } else if (lane.head > 1024 && lane.head * 2 > lane.items.length) {
      lane.items = lane.items.slice(lane.head);
      lane.head = 0;
    }
  }

  private empty(): boolean {
    for (const lane of this.lanes.values()) if (lane.items.length > 0) return false;
    return true;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(at - this.now())));
  }

  private stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
