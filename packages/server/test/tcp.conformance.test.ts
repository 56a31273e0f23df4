import { ManualClock, startTestNode, unwrap, type RawConnection, type TestNode } from '@corral/test-utils';
import type { AdapterStats, StoreAdapter } from './store-conformance';
import { describeStoreConformance } from './store-conformance';

/**
 * The same suite against one CacheNode over TCP, each op a real request frame. The node's clock is
 * a ManualClock, so TTL tests move time exactly instead of sleeping.
 */
describeStoreConformance('CacheNode over TCP', async ({ maxMemoryBytes }) => {
  const clock = new ManualClock();
  const node: TestNode = await startTestNode({ maxMemoryBytes, clock });
  const conn: RawConnection = await node.connect();
  await conn.call('HELLO', [1, { name: 'conformance' }]);
  const call = async (op: Parameters<RawConnection['request']>[0], args: unknown[]) => unwrap(await conn.request(op, args));
  const adapter: StoreAdapter = {
    get: (k) => call('GET', [k]) as Promise<[Buffer, number] | null>,
    gets: (k) => call('GETS', [k]) as Promise<[Buffer, number, number, number] | null>,
    set: (k, v, o) => call('SET', o ? [k, v, o] : [k, v]) as Promise<number | null>,
    del: (k) => call('DEL', [k]) as Promise<boolean>,
    touch: (k, t) => call('TOUCH', [k, t]) as Promise<boolean>,
    exists: (k) => call('EXISTS', [k]) as Promise<boolean>,
    ttl: (k) => call('TTL', [k]) as Promise<number>,
    incrBy: (k, d, o) => call('INCRBY', o ? [k, d, o] : [k, d]) as Promise<number>,
    stats: () => call('STATS', []) as Promise<AdapterStats>,
    advance: async (ms) => { clock.advance(ms); },
    close: async () => { conn.close(); await node.stop(); },
  };
  return adapter;
});
