import { Ops } from '@corral/protocol';
import { clientError } from '../errors';
import type { NodeConnection, RequestOptions } from '../node-connection';

const PAGE = 1_000;
/** A guard against a node whose cursor never ends; 10 000 pages is 10 M keys, past any snapshot. */
const MAX_PAGES = 10_000;

/**
 * The reload list of one node's snapshot (SNAPKEYS, paged), hottest first. A node that predates
 * SNAPKEYS has none: an empty list rather than an error, so a warm-up can ask every node alike.
 */
export async function readSnapshotKeys(conn: NodeConnection, opts: RequestOptions = {}): Promise<string[]> {
  const keys: string[] = [];
  let cursor = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    let reply: unknown;
    try {
      reply = await conn.request(Ops.SNAPKEYS, [{ cursor, count: PAGE }], opts);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'E_UNKNOWN_OP') return keys;
      throw e;
    }
    if (!Array.isArray(reply) || typeof reply[0] !== 'number' || !Array.isArray(reply[1]))
      throw clientError('E_INTERNAL', `unexpected SNAPKEYS reply from ${conn.node}`);
    for (const k of reply[1] as unknown[]) if (typeof k === 'string') keys.push(k);
    if (reply[0] === 0) break;
    cursor = reply[0];
  }
  return keys;
}

/** Round-robin over per-node lists (each hottest first): the hottest keys of every node come first, duplicates once. */
export function interleave(lists: readonly string[][]): string[] {
  const out = new Set<string>();
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.add(l[i]!);
  return [...out];
}
