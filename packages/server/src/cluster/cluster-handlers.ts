import { CorralError } from '@corral/protocol';
import type { ConnectionContext } from '../connection-context';
import type { MemoryStore } from '../memory-store';
import type { ClusterAgent } from './cluster-agent';
import type { WireEntry } from './handoff-receiver';

type Handler = (args: unknown[], ctx: ConnectionContext) => unknown;
type Options = Record<string, unknown>;

export type ClusterOpName = 'HANDOFF' | 'HANDOFF_GET' | 'CLUSTER_JOIN' | 'CLUSTER_DRAIN' | 'CLUSTER_STATUS';

/**
 * The executor's entries for the cluster ops (arguments already validated by the op table). The
 * agent is a getter: it exists once the node listens and knows its own address.
 */
export function clusterHandlers(agentOf: () => ClusterAgent | undefined, store: MemoryStore, status: () => unknown): Record<ClusterOpName, Handler> {
  const agent = (): ClusterAgent => {
    const a = agentOf();
    if (!a) throw new CorralError('E_SHUTTING_DOWN', 'the node is not part of a cluster yet');
    return a;
  };
  return {
    HANDOFF: (a) => {
      const o = options(a[3]);
      const done = o['done'] === true ? { ring: typeof o['ring'] === 'number' ? o['ring'] : -1 } : undefined;
      return agent().receiver.applyBatch(a[0] as string, a[1] as number, a[2] as WireEntry[], done);
    },
    // Straight from the store: no read-through (two nodes must never ask each other in a loop) and no hit counted.
    HANDOFF_GET: (a) => {
      const key = a[0] as string;
      const e = store.peek(key);
      return e === undefined ? null : [e.value, e.flags, e.version, store.ttl(key)];
    },
    CLUSTER_JOIN: async (a) => {
      const ag = agent();
      if (!ag.gossip) throw new CorralError('E_BAD_ARGS', 'this node was started with a static member list (--peers) or without gossip');
      if (ag.drain.state === 'draining') throw new CorralError('E_BAD_ARGS', 'this node is draining; wait for it to finish');
      const members = await ag.gossip.join(a[0] as string[]);
      ag.drain.rejoined();
      return { joined: true, members: members.map((m) => ({ id: m.id, gossipAddr: m.gossipAddr, state: m.state, incarnation: m.incarnation })) };
    },
    CLUSTER_DRAIN: (a) => {
      const o = options(a[0]);
      return agent().drain.start({ exit: o['exit'] === true, wait: o['wait'] === true });
    },
    CLUSTER_STATUS: () => status(),
  };
}

function options(x: unknown): Options {
  return typeof x === 'object' && x !== null ? (x as Options) : {};
}
