import type { GetsResult } from '../memory-store';

/**
 * What the executor asks on a read miss: is this key still on its way here from its previous
 * owner (`source` names that node), and if so, read it from there. Implemented by the
 * HandoffReceiver; absent on a node that is not clustered.
 */
export interface ReadThrough {
  source(key: string): string | undefined;
  fetch(key: string, source: string): Promise<GetsResult | undefined>;
}
