import type { MemoryStore } from '../memory-store';
import type { ClusterAgent } from './cluster-agent';
import type { ClusterView } from './cluster-view';

export interface StatusPorts { data: number; resp?: number; metrics?: number }

/**
 * The CLUSTER_STATUS reply: one node's view of membership and handoff, plus the figures the
 * `corral cluster status` table shows. Tools ask every member and compare; nothing here is summed.
 */
export function clusterStatus(agent: ClusterAgent, view: ClusterView, store: MemoryStore, nodeId: string, ports: StatusPorts): Record<string, unknown> {
  const ring = view.ring;
  const st = store.stats();
  const gossip = agent.gossip;
  return {
    id: view.selfId,
    nodeId,
    state: agent.drain.state,
    mode: gossip ? 'gossip' : view.clustered ? 'static' : 'alone',
    epoch: view.epoch,
    ring: { members: ring.size, vnodes: ring.vnodes, fingerprint: ring.fingerprint(), share: ring.size > 0 ? ring.shares().get(view.selfId) ?? 0 : 0 },
    gossip: gossip
      ? {
        addr: gossip.gossipAddr,
        members: gossip.members().map((m) => ({ id: m.id, gossipAddr: m.gossipAddr, state: m.state, incarnation: m.incarnation, meta: m.meta })),
        stats: gossip.stats(),
      }
      : null,
    handoff: { sender: agent.sender.stats(), receiver: agent.receiver.stats(), lastDrain: agent.drain.lastResult() ?? null },
    store: { keys: st.keys, bytesUsed: st.bytesUsed, maxMemoryBytes: st.maxMemoryBytes, hits: st.hits, misses: st.misses },
    opsPerSec: agent.opsPerSec(),
    ports: { ...ports, gossip: gossip ? Number(gossip.gossipAddr.slice(gossip.gossipAddr.lastIndexOf(':') + 1)) : null },
  };
}
