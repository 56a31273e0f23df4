/**
 * Which member to probe next: round-robin over a shuffled list, reshuffled after each full pass
 * (SWIM §4.3). Every member is probed once per pass, so the worst-case time to first probe a
 * failed member is bounded (< 2 passes) instead of unbounded as with random picks.
 */
export class ProbeOrder {
  private order: string[] = [];
  private index = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** The next member to probe among `candidates` (the currently probe-able members). */
  next(candidates: readonly string[]): string | undefined {
    if (candidates.length === 0) return undefined;
    const eligible = new Set(candidates);
    this.insertNewcomers(eligible);
    for (let pass = 0; pass < 2; pass++) {
      while (this.index < this.order.length) {
        const id = this.order[this.index++];
        if (id !== undefined && eligible.has(id)) return id;
      }
      this.order = this.shuffle([...candidates]);
      this.index = 0;
    }
    return undefined;
  }

  /** Members that appeared mid-pass get a random slot in the rest of the pass, as memberlist does. */
  private insertNewcomers(eligible: Set<string>): void {
    if (this.order.length === 0) return;
    const known = new Set(this.order);
    for (const id of eligible) {
      if (known.has(id)) continue;
      const remaining = this.order.length - this.index;
      const at = this.index + Math.min(remaining, Math.floor(this.random() * (remaining + 1)));
      this.order.splice(at, 0, id);
    }
  }

  private shuffle(ids: string[]): string[] {
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(this.random() * (i + 1)));
      const tmp = ids[i] as string;
      ids[i] = ids[j] as string;
      ids[j] = tmp;
    }
    return ids;
  }
}
