import type { GetsResult } from '../memory-store';

/**
 * What the executor asks on every read: should the key's previous owner be asked first (`source`
 * names that node)? Yes on a miss for a key whose range is still on its way here, and for a copy
 * held here from before the range became this node's (`localVersion`), which that node may have a
 * newer version of. `fetch` then answers with the newer of the two copies. Implemented by the
 * HandoffReceiver; absent on a node that is not clustered.
 */
export interface ReadThrough {
  source(key: string, localVersion?: number): string | undefined;
  fetch(key: string, source: string): Promise<GetsResult | undefined>;
}
