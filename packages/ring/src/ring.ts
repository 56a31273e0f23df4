import { HASH_SPACE, MAX_HASH, type RingArc } from './arc';
import { RingError } from './errors';
import { hashKey } from './hasher';

export interface RingMember {
  /** The node's data address, e.g. "127.0.0.2:7070". */
  id: string;
  /** Scales the member's vnode count; default 1. Any finite number > 0. */
  weight?: number;
}

export interface RingOptions {
  /** Vnodes for a member of weight 1. */
  vnodes?: number;
  epoch?: number;
}

/** Chosen from `scripts/bench-ring.ts`; docs/ring.md has the numbers and the reasoning. */
export const DEFAULT_VNODES = 500;

/** Points are sorted packed as `point * MEMBER_SLOTS + memberIndex` in a Float64Array: exact, as 2^32 * 2^20 < 2^53. */
const MEMBER_SLOTS = 2 ** 20;
const MAX_POINTS = 2 ** 24;

/**
 * An immutable consistent-hash ring over virtual nodes. A key belongs to the first vnode point
 * clockwise at or after its hash (wrapping past 2^32 - 1 to 0), so a vnode at point p owns
 * (previous point, p], the inclusive arc [previous + 1, p].
 *
 * Everything that shapes the ring is derived from the member list alone: members are sorted by
 * id (UTF-16 code units, never locale), vnode i of member `id` sits at xxh32(`${id}#${i}`), and
 * when two points collide the member with the smaller id wins. So any process given the same
 * members and vnode count builds the identical ring, whatever order the members arrived in.
 */
export class HashRing {
  readonly epoch: number;
  readonly vnodes: number;
  private readonly sortedMembers: ReadonlyArray<Required<RingMember>>;
  private readonly ids: readonly string[];
  /** Sorted ascending; equal points are kept (smaller member index first) so every member stays reachable. */
  private readonly points: Uint32Array;
  /** owners[i] indexes `ids` for points[i]. */
  private readonly owners: Uint32Array;

  constructor(members: readonly RingMember[], opts: RingOptions = {}) {
    this.vnodes = checkCount('vnodes', opts.vnodes ?? DEFAULT_VNODES, 1);
    this.epoch = checkCount('epoch', opts.epoch ?? 0, 0);
    this.sortedMembers = normalizeMembers(members);
    this.ids = this.sortedMembers.map((m) => m.id);
    const counts = this.sortedMembers.map((m) => Math.max(1, Math.round(m.weight * this.vnodes)));
    [this.points, this.owners] = placePoints(this.ids, counts);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Total vnode points, after weights. */
  get pointCount(): number {
    return this.points.length;
  }

  members(): RingMember[] {
    return this.sortedMembers.map((m) => ({ ...m }));
  }

  has(id: string): boolean {
    return this.indexOfMember(id) >= 0;
  }

  ownerOf(key: string): string {
    return this.ownerOfHash(hashKey(key));
  }

  ownerOfHash(hash: number): string {
    if (this.points.length === 0) throw emptyRing();
    return this.ids[this.owners[this.pointIndexOf(hash)]!]!;
  }

  /** Up to min(r, size) distinct member ids walking clockwise from the key: owner first, then fallbacks. */
  preferenceList(key: string, r: number): string[] {
    return this.preferenceListOfHash(hashKey(key), r);
  }

  preferenceListOfHash(hash: number, r: number): string[] {
    const want = Math.min(Math.floor(r), this.ids.length);
    if (!(want > 0)) return [];
    const result: string[] = [];
    const seen = new Uint8Array(this.ids.length);
    const n = this.points.length;
    for (let step = 0, i = this.pointIndexOf(hash); step < n && result.length < want; step++, i = i + 1 === n ? 0 : i + 1) {
      const owner = this.owners[i]!;
      if (seen[owner] === 0) {
        seen[owner] = 1;
        result.push(this.ids[owner]!);
      }
    }
    return result;
  }

  /**
   * Equal for rings with the same members, weights and vnode count (epoch is not included), so
   * two processes can cheaply check that they route keys identically.
   */
  fingerprint(): number {
    return hashKey(JSON.stringify([this.vnodes, this.sortedMembers.map((m) => [m.id, m.weight])]));
  }

  /** Adds the member, or replaces its weight if the id is already present. */
  withMember(member: RingMember): HashRing {
    const others = this.sortedMembers.filter((m) => m.id !== member.id);
    return new HashRing([...others, member], this.nextOptions());
  }

  withoutMember(id: string): HashRing {
    if (!this.has(id)) throw new RingError('ERR_RING_UNKNOWN_MEMBER', `not a ring member: ${JSON.stringify(id)}`);
    return new HashRing(this.sortedMembers.filter((m) => m.id !== id), this.nextOptions());
  }

  /** Fraction of the 2^32 hash space each member owns, in id order; sums to 1 unless the ring is empty. */
  shares(): Map<string, number> {
    const owned = new Float64Array(this.ids.length);
    for (const arc of this.vnodeArcs()) owned[arc.owner]! += arc.end - arc.start + 1;
    return new Map(this.ids.map((id, i) => [id, owned[i]! / HASH_SPACE]));
  }

  /**
   * Maximal runs of the hash space with one owner, sorted by start, covering [0, 2^32 - 1]
   * exactly once with no wrapping arc. Empty for an empty ring.
   */
  arcs(): RingArc[] {
    const result: RingArc[] = [];
    for (const arc of this.vnodeArcs()) {
      const owner = this.ids[arc.owner]!;
      const last = result[result.length - 1];
      if (last !== undefined && last.owner === owner) last.end = arc.end;
      else result.push({ start: arc.start, end: arc.end, owner });
    }
    return result;
  }

  /**
   * Non-empty arcs in hash order with the owning member's index. The range wrapping past 0 is
   * split: [0, p0] comes first, (p_last, 2^32 - 1] last, both owned by point 0's member.
   */
  private *vnodeArcs(): Generator<{ start: number; end: number; owner: number }> {
    const n = this.points.length;
    if (n === 0) return;
    let start = 0;
    for (let i = 0; i < n; i++) {
      const end = this.points[i]!;
      if (end >= start) yield { start, end, owner: this.owners[i]! }; // a duplicate point owns nothing
      start = end + 1;
    }
    if (start <= MAX_HASH) yield { start, end: MAX_HASH, owner: this.owners[0]! };
  }

  /** Index of the first point >= hash, wrapping to 0 past the last point. */
  private pointIndexOf(anyHash: number): number {
    const hash = anyHash >>> 0; // the space is mod 2^32, so a signed or oversized hash still lands somewhere defined
    const points = this.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  private indexOfMember(id: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return this.ids[lo] === id ? lo : -1;
  }

  private nextOptions(): RingOptions {
    return { vnodes: this.vnodes, epoch: this.epoch + 1 };
  }
}

/** Vnode points sorted by (point, member index), with the owner index of each. */
function placePoints(ids: readonly string[], counts: readonly number[]): [Uint32Array, Uint32Array] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > MAX_POINTS) {
    throw new RingError('ERR_RING_INVALID_OPTION', `ring would have ${total} points (limit ${MAX_POINTS}); lower vnodes or weights`);
  }
  // One numeric sort of packed (point, member) pairs beats sorting objects with a comparator.
  const packed = new Float64Array(total);
  let k = 0;
  counts.forEach((count, memberIndex) => {
    const id = ids[memberIndex]!;
    for (let i = 0; i < count; i++) packed[k++] = hashKey(`${id}#${i}`) * MEMBER_SLOTS + memberIndex;
  });
  packed.sort();
  const points = new Uint32Array(total);
  const owners = new Uint32Array(total);
  for (let i = 0; i < total; i++) {
    const pair = packed[i]!;
    const point = Math.floor(pair / MEMBER_SLOTS);
    points[i] = point;
    owners[i] = pair - point * MEMBER_SLOTS;
  }
  return [points, owners];
}

function normalizeMembers(members: readonly RingMember[]): Array<Required<RingMember>> {
  const normalized = members.map((m) => {
    if (typeof m.id !== 'string' || m.id.length === 0) {
      throw new RingError('ERR_RING_INVALID_MEMBER', `member id must be a non-empty string, got ${JSON.stringify(m.id)}`);
    }
    const weight = m.weight ?? 1;
    if (!Number.isFinite(weight) || weight <= 0) {
      throw new RingError('ERR_RING_INVALID_MEMBER', `member ${m.id} has weight ${weight}; it must be a finite number > 0`);
    }
    return { id: m.id, weight };
  });
  // Code-unit order, not localeCompare: the order must not depend on the process's locale.
  normalized.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < normalized.length; i++) {
    if (normalized[i]!.id === normalized[i - 1]!.id) {
      throw new RingError('ERR_RING_INVALID_MEMBER', `duplicate member id ${normalized[i]!.id}`);
    }
  }
  if (normalized.length > MEMBER_SLOTS) {
    throw new RingError('ERR_RING_INVALID_MEMBER', `at most ${MEMBER_SLOTS} members`);
  }
  return normalized;
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RingError('ERR_RING_INVALID_OPTION', `${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

function emptyRing(): RingError {
  return new RingError('ERR_RING_EMPTY', 'the ring has no members');
}
