/** Yields to real I/O until `cond` holds; works under fake timers (setImmediate is left real there). */
export async function until(cond: () => boolean, what = 'condition', maxTurns = 200_000): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i >= maxTurns) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

export type Tracked<T> = { state: 'pending' } | { state: 'resolved'; value: T } | { state: 'rejected'; error: unknown };

/** Observes a promise without awaiting it (and without leaving its rejection unhandled). */
export function track<T>(p: Promise<T>): { readonly current: Tracked<T> } {
  const box: { current: Tracked<T> } = { current: { state: 'pending' } };
  p.then((value) => { box.current = { state: 'resolved', value }; }, (error) => { box.current = { state: 'rejected', error }; });
  return box;
}

/** Timers faked, I/O, ticks and microtasks real: sockets (and auto-pipelining) keep working while the test owns the clock. */
export function useFakeTimers(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
}

/** Resolves or rejects as `p` does, or rejects after `ms`: every wait in a test is bounded. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Polls `cond` every few ms of real time, up to `ms`. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
