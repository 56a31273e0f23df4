interface Watch {
  callbacks: Set<() => void>;
  listener: () => void;
}

const watches = new WeakMap<AbortSignal, Watch>();

/**
 * Calls `onAbort` when `signal` aborts; returns the function that stops watching. However many
 * requests share one signal (a request-scoped signal passed to a hundred parallel calls), the
 * signal carries a single 'abort' listener: one per call would trip Node's MaxListeners warning
 * at eleven, and cost a listener per call. When the last watcher leaves, the listener goes too,
 * so a long-lived signal is left as it was found.
 */
export function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let w = watches.get(signal);
  if (!w) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      watches.delete(signal);
      for (const cb of [...callbacks]) cb();
      callbacks.clear();
    };
    w = { callbacks, listener };
    watches.set(signal, w);
    signal.addEventListener('abort', listener, { once: true });
  }
  const watch = w;
  watch.callbacks.add(onAbort);
  return () => {
    if (!watch.callbacks.delete(onAbort) || watch.callbacks.size > 0) return;
    if (watches.get(signal) === watch) watches.delete(signal);
    signal.removeEventListener('abort', watch.listener);
  };
}
