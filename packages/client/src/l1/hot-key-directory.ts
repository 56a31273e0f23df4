/**
 * The hot keys the nodes announced (each node its own, in its heartbeats): a key listed here may
 * be read from any member, not just its owner. A node's list replaces what it said before.
 */
export class HotKeyDirectory {
  private readonly ownerOfKey = new Map<string, string>();
  private readonly byNode = new Map<string, readonly string[]>();

  get size(): number { return this.ownerOfKey.size; }

  ownerOf(key: string): string | undefined {
    return this.ownerOfKey.get(key);
  }

  /** `node`'s hot keys are now `keys` (empty: none, or the node is gone). */
  setNode(node: string, keys: readonly string[]): void {
    for (const k of this.byNode.get(node) ?? []) if (this.ownerOfKey.get(k) === node) this.ownerOfKey.delete(k);
    if (keys.length === 0) this.byNode.delete(node);
    else this.byNode.set(node, keys);
    for (const k of keys) this.ownerOfKey.set(k, node);
  }

  keys(): string[] {
    return [...this.ownerOfKey.keys()];
  }
}
