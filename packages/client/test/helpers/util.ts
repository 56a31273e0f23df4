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
