import { Gauge, type Registry } from 'prom-client';
import { monotonicCounter } from '../metric-mirrors';
import type { ClusterAgent } from './cluster-agent';
import type { ClusterView } from './cluster-view';

/**
 * Membership and handoff figures for Prometheus, read at scrape time from the agent's own
 * counters (nothing extra on the request path). Counters mirror monotonic numbers and catch up
 * at each scrape, as the store's do.
 */
export function registerClusterMetrics(registry: Registry, agent: ClusterAgent, view: ClusterView): void {
  const registers = [registry];
  const sender = () => agent.sender.stats() as { lifetime: { keys: number; bytes: number; failedBatches: number }; stranded: number };
  const receiver = () => agent.receiver.stats() as Record<string, number>;
  const gossip = () => agent.gossip?.stats();

  new Gauge({ name: 'corral_ring_epoch', help: 'Ring epoch as this node sees it (derived from the member table)', registers, collect() { this.set(view.epoch); } });
  new Gauge({ name: 'corral_ring_members', help: 'Members that own keys (alive or suspect)', registers, collect() { this.set(view.ring.size); } });
  new Gauge({
    name: 'corral_ring_share', help: 'Fraction of the hash space this node owns', registers,
    collect() { this.set(view.ring.size > 0 ? view.ring.shares().get(view.selfId) ?? 0 : 0); },
  });
  new Gauge({
    name: 'corral_cluster_members', help: 'Members this node knows, by gossip state', labelNames: ['state'], registers,
    collect() {
      const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
      for (const m of agent.gossip?.members() ?? []) counts[m.state] = (counts[m.state] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) this.labels(state).set(n);
    },
  });
  new Gauge({ name: 'corral_handoff_pending_arcs', help: 'Ranges this node gained whose previous owner has not finished handing them over', registers, collect() { this.set(receiver()['pendingArcs'] ?? 0); } });
  new Gauge({ name: 'corral_handoff_stranded_keys', help: 'Keys held here that no member can take (this node was the last one)', registers, collect() { this.set(sender().stranded); } });
  monotonicCounter(registry, 'corral_handoff_sent_keys_total', 'Keys handed to their new owner and dropped here', () => sender().lifetime.keys);
  monotonicCounter(registry, 'corral_handoff_sent_bytes_total', 'Key and value bytes handed over', () => sender().lifetime.bytes);
  monotonicCounter(registry, 'corral_handoff_failed_batches_total', 'Handoff batches that got no answer (kept and retried)', () => sender().lifetime.failedBatches);
  monotonicCounter(registry, 'corral_handoff_applied_keys_total', 'Handed-over entries stored here', () => receiver()['applied'] ?? 0);
  monotonicCounter(registry, 'corral_handoff_stale_keys_total', 'Handed-over entries not stored: this node already had them or something newer', () => receiver()['stale'] ?? 0);
  monotonicCounter(registry, 'corral_handoff_read_throughs_total', 'Misses answered by asking the previous owner of a range still arriving', () => receiver()['readThroughs'] ?? 0);
  monotonicCounter(registry, 'corral_handoff_read_through_hits_total', 'Read-throughs that found the key', () => receiver()['readThroughHits'] ?? 0);
  monotonicCounter(registry, 'corral_gossip_auth_failures_total', 'Gossip packets and frames dropped for a missing or wrong HMAC', () => gossip()?.authFailures ?? 0);
  monotonicCounter(registry, 'corral_gossip_suspicions_total', 'Members this node came to suspect', () => gossip()?.suspicions ?? 0);
  monotonicCounter(registry, 'corral_gossip_deaths_total', 'Members this node declared or learned dead', () => gossip()?.deaths ?? 0);
  monotonicCounter(registry, 'corral_gossip_refutes_total', 'Times this node refuted a suspicion or death about itself', () => gossip()?.refutes ?? 0);
}
