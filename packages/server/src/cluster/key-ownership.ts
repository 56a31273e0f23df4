import { CorralError, type OpSpec, type RequestMeta } from '@corral/protocol';
import type { ClusterView } from './cluster-view';

/** The keys a request touches, found through the op table's keyArg. */
export function requestKeys(op: OpSpec, args: unknown[]): string[] {
  if (op.keyArg === undefined) return [];
  const spec = op.args[op.keyArg];
  const a = args[op.keyArg];
  if (spec?.type === 'key') return [a as string];
  if (spec?.type === 'keys') return a as string[];
  if (spec?.type === 'entries') return (a as Array<[string]>).map((e) => e[0]);
  return [];
}

/**
 * Applies a request's routing hints. With `epoch`, a key this node does not own under its ring is
 * E_NOT_OWNER (details: this node's epoch and the owner), so a client with an older ring refreshes
 * and retries. With `fallback`, the node serves as a gutter for an unreachable owner: no ownership
 * check, and every TTL in the request is capped so gutter copies die soon after the outage.
 */
export class KeyOwnership {
  /** The view is a getter: it only exists once the node knows its own address (port 0). */
  constructor(private readonly currentView: () => ClusterView | undefined, private readonly gutterTtlMs: number) {}

  apply(op: OpSpec, args: unknown[], meta: RequestMeta): void {
    const view = this.currentView();
    if (op.keyArg === undefined || view === undefined) return;
    if (meta.fallback) {
      if (op.mutates) capTtl(op, args, this.gutterTtlMs);
      return;
    }
    if (meta.epoch === undefined || !view.clustered) return;
    for (const k of requestKeys(op, args)) {
      const owner = view.ownerOf(k);
      if (owner !== view.selfId)
        throw new CorralError('E_NOT_OWNER', `${view.selfId} does not own this key at epoch ${view.epoch}; its owner is ${owner}`,
          { epoch: view.epoch, owner, clientEpoch: meta.epoch });
    }
  }
}

/**
 * Caps (or sets) the TTL of a mutating op — a plain `ttlMs` argument (TOUCH) or a `ttlMs` option
 * (SET, MSET, INCRBY, …); ops without one (DEL) are left alone. 0 means "no expiry", so it is capped too.
 */
function capTtl(op: OpSpec, args: unknown[], capMs: number): void {
  const plain = op.args.findIndex((a) => a.name === 'ttlMs' && a.type === 'uint');
  if (plain >= 0) {
    const t = args[plain] as number;
    args[plain] = t > 0 ? Math.min(t, capMs) : capMs;
    return;
  }
  const i = op.args.findIndex((a) => a.type === 'options' && a.fields?.ttlMs !== undefined);
  if (i < 0) return;
  const o = (args[i] ?? {}) as Record<string, unknown>;
  const ttl = typeof o.ttlMs === 'number' && o.ttlMs > 0 ? o.ttlMs : Infinity;
  while (args.length <= i) args.push(null);
  args[i] = { ...o, ttlMs: Math.min(ttl, capMs) };
}
