import type { ClusterView } from './cluster-view';

/**
 * Whether this node owns `key` under its ring. Unlike ClusterView.isOwner, a node outside the ring
 * (left, draining) owns nothing, even when one other member is left: handoff must never park keys
 * on a node that is on its way out.
 */
export function ownsKey(view: ClusterView, key: string): boolean {
  const ring = view.ring;
  return ring.size > 0 && ring.ownerOf(key) === view.selfId;
}
