import type { HashRing } from '@corral/ring';

/** What happens to the keys of a node whose breaker is open. */
export type NodeDownPolicy = 'fallback' | 'fail-fast';

export type RouteChoice =
  /** The key's owner, with its ring epoch so the node can tell a stale client. */
  | { kind: 'owner'; node: string }
  /** The owner is down; `node` serves as its gutter (meta.fallback). */
  | { kind: 'fallback'; node: string; owner: string }
  /** fail-fast: the owner is down and the caller asked not to be routed elsewhere. */
  | { kind: 'circuit-open'; node: string };

/**
 * Where a key goes, given which nodes may take calls (`isUp`: breaker closed). Pure, so the
 * decision is tested apart from sockets and timers.
 *
 * The fallback is the next member of the key's preference list that is up, as in memcache's gutter
 * pool: every client picks the same one for the same key and the same view of who is down, so a
 * dead node's hot keys land in one place instead of being spread (and recomputed) everywhere.
 * When no member is up, the owner gets the call anyway: there is nowhere better, and the owner's
 * connection then waits and times out exactly as a single node's does.
 */
export function chooseRoute(ring: HashRing, hash: number, isUp: (node: string) => boolean, policy: NodeDownPolicy): RouteChoice {
  const owner = ring.ownerOfHash(hash);
  if (isUp(owner)) return { kind: 'owner', node: owner };
  if (policy === 'fail-fast') return { kind: 'circuit-open', node: owner };
  const list = ring.preferenceListOfHash(hash, ring.size);
  for (let i = 1; i < list.length; i++) {
    const node = list[i]!;
    if (isUp(node)) return { kind: 'fallback', node, owner };
  }
  return { kind: 'owner', node: owner };
}
