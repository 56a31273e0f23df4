import { MemoryStore, type SetOptions } from '../src/memory-store';
import { describeStoreConformance, type StoreAdapter } from './store-conformance';

/** The store called directly, with jest's fake timers driving its (system) clock. */
describeStoreConformance('MemoryStore (fake timers)', async ({ maxMemoryBytes }) => {
  jest.useFakeTimers();
  const store = new MemoryStore({ maxMemoryBytes });
  const adapter: StoreAdapter = {
    get: async (k) => { const e = store.get(k); return e ? [e.value, e.flags] : null; },
    gets: async (k) => { const e = store.gets(k); return e ? [e.value, e.flags, e.version, e.ttlMs] : null; },
    set: async (k, v, o?: SetOptions) => store.set(k, v, o),
    del: async (k) => store.delete(k),
    touch: async (k, t) => store.touch(k, t),
    exists: async (k) => store.exists(k),
    ttl: async (k) => store.ttl(k),
    incrBy: async (k, d, o) => store.incrBy(k, d, o?.ttlMs),
    stats: async () => store.stats(),
    advance: async (ms) => { jest.advanceTimersByTime(ms); },
    close: async () => { jest.useRealTimers(); },
  };
  return adapter;
});
