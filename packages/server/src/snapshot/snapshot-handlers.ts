import type { ConnectionContext } from '../connection-context';
import type { NodeSnapshot } from './node-snapshot';

type Handler = (args: unknown[], ctx: ConnectionContext) => unknown;

const DEFAULT_PAGE = 1_000;
const MAX_PAGE = 10_000;

/** SNAPKEYS for the executor. A node without a snapshot answers an empty last page, so a warmer can ask every node alike. */
export function snapshotHandlers(snapshot: () => NodeSnapshot | undefined, maxFrameBytes: number): Record<'SNAPKEYS', Handler> {
  return {
    SNAPKEYS: (a) => {
      const o = (typeof a[0] === 'object' && a[0] !== null ? a[0] : {}) as Record<string, unknown>;
      const cursor = typeof o['cursor'] === 'number' ? o['cursor'] : 0;
      const count = Math.min(MAX_PAGE, typeof o['count'] === 'number' && o['count'] > 0 ? o['count'] : DEFAULT_PAGE);
      const snap = snapshot();
      // Half a frame: the reply must never be one the client refuses.
      return snap === undefined ? [0, []] : snap.keysPage(cursor, count, Math.floor(maxFrameBytes / 2));
    },
  };
}
