import type { MemberRecord, Update } from './messages';

/**
 * Turns a peer's full state (push-pull) into the updates we apply, in order. Two deliberate
 * softenings, as in memberlist: a member the peer holds `dead` only becomes `suspect` here, so
 * one peer's stale or mistaken verdict gives the member a chance to refute (and gives us our own
 * timer) instead of killing it cluster-wide; and a `suspect` we have never heard of is first
 * added as alive, so a joining node still sees members that are merely suspected.
 */
export function updatesFromState(records: readonly MemberRecord[], fromId: string, isKnown: (id: string) => boolean): Update[] {
  const out: Update[] = [];
  for (const r of records) {
    switch (r.state) {
      case 'alive':
        out.push({ kind: 'alive', id: r.id, incarnation: r.incarnation, addr: r.addr, meta: r.meta });
        break;
      case 'suspect':
        if (!isKnown(r.id)) out.push({ kind: 'alive', id: r.id, incarnation: r.incarnation, addr: r.addr, meta: r.meta });
        out.push({ kind: 'suspect', id: r.id, incarnation: r.incarnation, from: fromId });
        break;
      case 'dead':
        out.push({ kind: 'suspect', id: r.id, incarnation: r.incarnation, from: fromId });
        break;
      case 'left':
        out.push({ kind: 'left', id: r.id, incarnation: r.incarnation });
        break;
    }
  }
  return out;
}
