import type { GossipQueue } from './gossip-queue';
import { encodeMessage, encodedUpdateSize } from './message-codec';
import type { ProbeMessage } from './messages';

/** msgpack array16 header (3 bytes) minus the empty fixarray (1 byte) already in the base size. */
const ARRAY_HEADER_SLACK = 2;

/**
 * Fills the rest of a probe packet with queued updates. `msg.updates` (updates that must go, like
 * a hint about the receiver's own state) are kept first; the queue supplies the rest, as many as
 * fit in `maxPayloadBytes` (the datagram budget minus the envelope).
 */
export function withPiggyback<M extends ProbeMessage>(msg: M, queue: GossipQueue, retransmitLimit: number, maxPayloadBytes: number): M {
  const base = encodeMessage({ ...msg, updates: [] }).length;
  let budget = maxPayloadBytes - base - ARRAY_HEADER_SLACK;
  const first = [];
  for (const u of msg.updates) {
    const size = encodedUpdateSize(u);
    if (size > budget) break;
    budget -= size;
    first.push(u);
  }
  const rest = budget > 0 ? queue.take(budget, retransmitLimit) : [];
  return { ...msg, updates: [...first, ...rest] };
}
