import { metaEquals } from './message-codec';
import type { MemberRecord, Update } from './messages';
import type { Member, MemberState } from './types';

/** What applying one update did. `refute` means someone believes this node is not alive. */
export type ApplyResult =
  | { kind: 'ignored' }
  | { kind: 'rejected' }
  /** `visible` is false when only the incarnation moved (nothing a listener would care about). */
  | { kind: 'changed'; member: Member; prev: MemberState | undefined; visible: boolean }
  | { kind: 'refute'; heardIncarnation: number };

interface Entry extends Member {
  /** Monotonic time of the last state change; drives reaping, immune to wall-clock jumps. */
  changedAtMono: number;
}

const IGNORED: ApplyResult = { kind: 'ignored' };

/**
 * The SWIM state machine for every member, self included. Precedence (as in memberlist):
 * a higher incarnation wins; at equal incarnation left > dead > suspect > alive, so only the
 * member itself can undo a suspicion, by raising its incarnation. Pure: no timers, no I/O.
 */
export class MemberTable {
  private readonly entries = new Map<string, Entry>();
  private leaving = false;

  constructor(
    private readonly selfId: string,
    self: { addr: string; meta: Record<string, unknown> },
    private readonly maxMembers: number,
    private readonly time: { now(): number; wallNow(): number },
  ) {
    this.entries.set(selfId, this.entry(selfId, self.addr, 'alive', 0, self.meta));
  }

  get self(): Member {
    return this.copy(this.selfEntry());
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Member | undefined {
    const e = this.entries.get(id);
    return e ? this.copy(e) : undefined;
  }

  /** All members, self included, sorted by id. */
  list(): Member[] {
    return [...this.entries.values()].map((e) => this.copy(e)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Alive and suspect members (a suspect still owns its keys until declared dead). */
  countLive(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'alive' || e.state === 'suspect') n++;
    return n;
  }

  /** Other members worth probing or asking for help: alive or suspect. */
  liveOthers(): Member[] {
    const out: Member[] = [];
    for (const e of this.entries.values()) {
      if (e.id !== this.selfId && (e.state === 'alive' || e.state === 'suspect')) out.push(this.copy(e));
    }
    return out;
  }

  /** Members declared dead (not those that left): after a partition heals, the only way back to them. */
  deadOthers(): Member[] {
    const out: Member[] = [];
    for (const e of this.entries.values()) if (e.id !== this.selfId && e.state === 'dead') out.push(this.copy(e));
    return out;
  }

  records(): MemberRecord[] {
    return [...this.entries.values()].map((e) => ({
      id: e.id,
      addr: e.gossipAddr,
      state: e.state,
      incarnation: e.incarnation,
      meta: e.meta,
    }));
  }

  selfAliveUpdate(): Update {
    const s = this.selfEntry();
    return { kind: 'alive', id: s.id, incarnation: s.incarnation, addr: s.gossipAddr, meta: s.meta };
  }

  /** Raises our incarnation past what was heard and returns the alive update that refutes it. */
  refute(heardIncarnation: number): Update {
    const s = this.selfEntry();
    s.incarnation = Math.max(s.incarnation, heardIncarnation) + 1;
    return this.selfAliveUpdate();
  }

  /** New meta needs a new incarnation, or peers would ignore it as a stale alive. */
  setSelfMeta(meta: Record<string, unknown>): Update {
    const s = this.selfEntry();
    s.meta = meta;
    s.incarnation++;
    return this.selfAliveUpdate();
  }

  markSelfLeft(): { update: Update; member: Member; prev: MemberState } {
    const s = this.selfEntry();
    const prev = s.state;
    this.leaving = true;
    this.setState(s, 'left');
    return { update: { kind: 'left', id: s.id, incarnation: s.incarnation }, member: this.copy(s), prev };
  }

  apply(u: Update): ApplyResult {
    if (u.id === this.selfId) return this.applyAboutSelf(u);
    const cur = this.entries.get(u.id);
    switch (u.kind) {
      case 'alive':
        return this.applyAlive(u, cur);
      case 'suspect':
        if (!cur || u.incarnation < cur.incarnation) return IGNORED;
        if (cur.state === 'dead' || cur.state === 'left') return IGNORED;
        if (cur.state === 'suspect' && u.incarnation === cur.incarnation) return IGNORED;
        cur.incarnation = u.incarnation;
        return this.changeState(cur, 'suspect');
      case 'dead':
        if (!cur || u.incarnation < cur.incarnation) return IGNORED;
        if (cur.state === 'dead' || cur.state === 'left') return IGNORED;
        cur.incarnation = u.incarnation;
        return this.changeState(cur, 'dead');
      case 'left':
        if (!cur || u.incarnation < cur.incarnation || cur.state === 'left') return IGNORED;
        cur.incarnation = u.incarnation;
        return this.changeState(cur, 'left');
    }
  }

  /**
   * Takes back this node's own verdict that `id` is dead (at `incarnation`): it becomes suspect,
   * so it owns keys again and gets a fresh chance to refute. Only ClusterView.merge uses it, for
   * a node that comes back from being cut off from everyone (see there).
   */
  reconsider(id: string, incarnation: number): ApplyResult {
    const cur = this.entries.get(id);
    if (!cur || id === this.selfId || cur.state !== 'dead' || cur.incarnation !== incarnation) return IGNORED;
    return this.changeState(cur, 'suspect');
  }

  /** Forgets dead and left members older than `ageMs`; returns their ids. */
  reap(ageMs: number): string[] {
    const cutoff = this.time.now() - ageMs;
    const gone: string[] = [];
    for (const e of this.entries.values()) {
      if (e.id !== this.selfId && (e.state === 'dead' || e.state === 'left') && e.changedAtMono <= cutoff) {
        gone.push(e.id);
      }
    }
    for (const id of gone) this.entries.delete(id);
    return gone;
  }

  private applyAlive(u: Extract<Update, { kind: 'alive' }>, cur: Entry | undefined): ApplyResult {
    if (!cur) {
      if (this.entries.size >= this.maxMembers) return { kind: 'rejected' };
      const e = this.entry(u.id, u.addr, 'alive', u.incarnation, u.meta);
      this.entries.set(u.id, e);
      return { kind: 'changed', member: this.copy(e), prev: undefined, visible: true };
    }
    if (u.incarnation <= cur.incarnation) return IGNORED;
    const prev = cur.state;
    // A meta or address change at a new incarnation is a change even if the state is not.
    const visible = prev !== 'alive' || cur.gossipAddr !== u.addr || !metaEquals(cur.meta, u.meta);
    cur.incarnation = u.incarnation;
    cur.gossipAddr = u.addr;
    cur.meta = u.meta;
    if (prev !== 'alive') this.setState(cur, 'alive');
    return { kind: 'changed', member: this.copy(cur), prev, visible };
  }

  private applyAboutSelf(u: Update): ApplyResult {
    const s = this.selfEntry();
    if (this.leaving) return IGNORED;
    if (u.kind === 'alive') {
      if (u.incarnation > s.incarnation) return { kind: 'refute', heardIncarnation: u.incarnation };
      // Same incarnation but another address or meta: a previous life of this node is still
      // remembered by someone; outbid it.
      if (u.incarnation === s.incarnation && (u.addr !== s.gossipAddr || !metaEquals(u.meta, s.meta))) {
        return { kind: 'refute', heardIncarnation: u.incarnation };
      }
      return IGNORED;
    }
    if (u.incarnation < s.incarnation) return IGNORED;
    return { kind: 'refute', heardIncarnation: u.incarnation };
  }

  private changeState(e: Entry, state: MemberState): ApplyResult {
    const prev = e.state;
    this.setState(e, state);
    return { kind: 'changed', member: this.copy(e), prev, visible: prev !== state };
  }

  private setState(e: Entry, state: MemberState): void {
    e.state = state;
    e.stateChangedAt = this.time.wallNow();
    e.changedAtMono = this.time.now();
  }

  private selfEntry(): Entry {
    const s = this.entries.get(this.selfId);
    if (!s) throw new Error('self missing from member table');
    return s;
  }

  private entry(id: string, addr: string, state: MemberState, incarnation: number, meta: Record<string, unknown>): Entry {
    return { id, gossipAddr: addr, state, incarnation, meta, stateChangedAt: this.time.wallNow(), changedAtMono: this.time.now() };
  }

  private copy(e: Entry): Member {
    return { id: e.id, gossipAddr: e.gossipAddr, state: e.state, incarnation: e.incarnation, meta: e.meta, stateChangedAt: e.stateChangedAt };
  }
}
