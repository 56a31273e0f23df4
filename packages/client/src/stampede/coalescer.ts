/**
 * In-process single flight: concurrent calls for one key share one promise. The entry leaves the
 * map when that promise settles, however it settles (value, error, timeout), so a failing or
 * hanging loader cannot leave a key stuck: the work itself must be bounded (getOrSet bounds it
 * with the lease wait and the hard timeout). The map is bounded too: past `maxKeys` distinct
 * keys in flight, a call simply runs on its own.
 */
export class Coalescer<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  constructor(private readonly maxKeys = 10_000) {}

  get size(): number { return this.inflight.size; }

  /** Runs `work` unless a call for `key` is already in flight; `joined` says which happened. */
  run(key: string, work: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const existing = this.inflight.get(key);
    if (existing) return { promise: existing, joined: true };
    if (this.inflight.size >= this.maxKeys) return { promise: work(), joined: false };
    let promise: Promise<T>;
    try {
      promise = work();
    } catch (e) {
      promise = Promise.reject(e);
    }
    const tracked = promise.finally(() => {
      if (this.inflight.get(key) === tracked) this.inflight.delete(key);
    });
    this.inflight.set(key, tracked);
    return { promise: tracked, joined: false };
  }
}
