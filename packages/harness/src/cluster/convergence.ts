import { isLiveState, type NodeStatusView } from './node-status';
import type { StatusLinks } from './status-links';

export interface Convergence {
  /** ms from the step's start until every expected node routed by the same ring over exactly the expected members; null if not by the deadline. */
  ringMs: number | null;
  /** … and, in addition, no node was still sending keys or waiting for keys to arrive. */
  handoffMs: number | null;
  /** What the nodes disagreed on when the bound ran out (for the report). */
  lastDisagreement?: string;
}

const POLL_MS = 100;

/**
 * Waits until the nodes that should be up agree: each answers, each one's ring has exactly the
 * expected members (by id, not only by count) under the same fingerprint; then until the handoff
 * is over (senders idle, no arcs pending). Times are measured from `t0`, the start of the step,
 * so they include the action itself (a drain, a failure detection).
 */
export async function awaitConvergence(links: StatusLinks, expectedIds: readonly string[], t0: number, boundMs: number,
  signal?: AbortSignal): Promise<Convergence> {
  const out: Convergence = { ringMs: null, handoffMs: null };
  const want = [...expectedIds].sort().join(',');
  // An action that itself outlasted the bound (a slow drain) still gets looked at once, so the
  // report says how far over it was rather than nothing.
  const deadline = Math.max(t0 + boundMs, performance.now() + 2 * POLL_MS);
  while (performance.now() < deadline && !signal?.aborted) {
    const statuses = await links.statuses(expectedIds, 500);
    const problem = disagreement(statuses, want, expectedIds.length);
    if (problem === undefined) {
      out.ringMs ??= Math.round(performance.now() - t0);
      const busy = [...statuses.values()].filter((s): s is NodeStatusView => !(s instanceof Error))
        .filter((s) => s.handoff.senderState !== 'idle' || s.handoff.pendingArcs > 0);
      if (busy.length === 0) {
        out.handoffMs = Math.round(performance.now() - t0);
        return out;
      }
      out.lastDisagreement = `handoff still running (${busy.map(busyText).join('; ')})`;
    } else {
      out.lastDisagreement = problem;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return out;
}

/** undefined when the nodes agree; otherwise why not, in words. */
function disagreement(statuses: Map<string, NodeStatusView | Error>, want: string, n: number): string | undefined {
  let fp: number | undefined;
  for (const [id, s] of statuses) {
    if (s instanceof Error) return `${id} does not answer (${(s as Error & { code?: string }).code ?? s.message})`;
    const live = s.members.filter((m) => isLiveState(m.state)).map((m) => m.id).sort().join(',');
    if (s.ring.members !== n || live !== want) return `${id} sees ${s.ring.members} members (${live})`;
    if (fp !== undefined && s.ring.fingerprint !== fp) return `${id} routes by another ring`;
    fp = s.ring.fingerprint;
  }
  return undefined;
}

/** What keeps a node's handoff busy, in words: its sender's state, the arcs it still expects. */
function busyText(s: NodeStatusView): string {
  const parts: string[] = [];
  if (s.handoff.senderState !== 'idle') parts.push(`sender ${s.handoff.senderState}${s.handoff.sendingLeft > 0 ? `, ${s.handoff.sendingLeft} keys to send` : ''}`);
  if (s.handoff.pendingArcs > 0) parts.push(`${s.handoff.pendingArcs} arcs expected`);
  return `${s.id}: ${parts.join(', ')}`;
}
