import type { MemberState, Topology, TopologyMember } from '@corral/protocol';
import { DEFAULT_VNODES, HashRing } from '@corral/ring';
import { clientError } from './errors';

export type { MemberState, Topology, TopologyMember } from '@corral/protocol';

const STATES: ReadonlySet<string> = new Set<MemberState>(['alive', 'suspect', 'dead', 'left']);

/** Suspect members keep their keys until declared dead, as on the node: a slow node is not a dead node. */
export const ownsKeys = (m: TopologyMember): boolean => m.state === 'alive' || m.state === 'suspect';

/**
 * Reads a TOPOLOGY reply or push body. Lenient where a node may say less than we would like (no
 * vnodes: the ring default; no incarnation: 0), strict where routing would go wrong (no epoch, a
 * member without an id). A member in a state this client does not know is left out: it cannot
 * own keys as far as this client can tell, and a newer node must not break an older client.
 */
export function parseTopology(body: unknown): Topology {
  const bad = (why: string) => clientError('E_INTERNAL', `bad topology from the node: ${why}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('not a map');
  const b = body as Record<string, unknown>;
  if (typeof b.epoch !== 'number' || !Number.isSafeInteger(b.epoch) || b.epoch < 0) throw bad('epoch is not an integer >= 0');
  const vnodes = b.vnodes ?? DEFAULT_VNODES;
  if (typeof vnodes !== 'number' || !Number.isSafeInteger(vnodes) || vnodes < 1) throw bad('vnodes is not an integer >= 1');
  if (!Array.isArray(b.members)) throw bad('members is not an array');
  const members: TopologyMember[] = [];
  const seen = new Set<string>();
  for (const m of b.members as unknown[]) {
    if (typeof m !== 'object' || m === null) throw bad('a member is not a map');
    const { id, state, incarnation, meta } = m as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0) throw bad('a member has no id');
    if (seen.has(id)) throw bad(`member ${id} is listed twice`);
    seen.add(id);
    if (typeof state !== 'string' || !STATES.has(state)) continue;
    const member: TopologyMember = { id, state: state as MemberState, incarnation: typeof incarnation === 'number' ? incarnation : 0 };
    if (typeof meta === 'object' && meta !== null && !Array.isArray(meta)) member.meta = meta as Record<string, unknown>;
    members.push(member);
  }
  return { epoch: b.epoch, vnodes, members };
}

/** The ring every node derives from the same topology: same members, same vnodes, same hash. */
export function ringOf(t: Topology): HashRing {
  return new HashRing(t.members.filter(ownsKeys).map((m) => ({ id: m.id })), { vnodes: t.vnodes, epoch: t.epoch });
}

export function copyTopology(t: Topology): Topology {
  return { epoch: t.epoch, vnodes: t.vnodes, members: t.members.map((m) => ({ ...m, ...(m.meta && { meta: { ...m.meta } }) })) };
}
