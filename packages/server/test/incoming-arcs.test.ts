import { HashRing, hashKey, loadRingHasher } from '@corral/ring';
import { IncomingArcs } from '../src/cluster/incoming-arcs';
import type { ClusterMember } from '../src/cluster/cluster-view';

const A = '127.0.0.2:7070';
const B = '127.0.0.3:7070';
const C = '127.0.0.4:7070';
const ring = (...ids: string[]) => new HashRing(ids.map((id) => ({ id })), { vnodes: 64 });
const members = (states: Record<string, ClusterMember['state']>): ClusterMember[] =>
  Object.entries(states).map(([id, state]) => ({ id, state, incarnation: 0 }));
const keys = Array.from({ length: 2000 }, (_x, i) => `k${i}`);

beforeAll(() => loadRingHasher());

describe('IncomingArcs', () => {
  it('expects the ranges a newcomer gains from their previous owners, and nothing else', () => {
    const arcs = new IncomingArcs(C);
    const before = ring(A, B);
    const after = ring(A, B, C);
    arcs.onRingChange(before, after, members({ [A]: 'alive', [B]: 'alive', [C]: 'alive' }), 10, 0, false);
    for (const k of keys) {
      const h = hashKey(k);
      expect(arcs.senderFor(h)).toBe(after.ownerOf(k) === C ? before.ownerOf(k) : undefined);
    }
    expect(Object.keys(arcs.pendingBySender()).sort()).toEqual([A, B]);
  });

  it('treats a node that was alone as gaining from the ring without it', () => {
    const arcs = new IncomingArcs(C);
    const after = ring(A, B, C);
    arcs.onRingChange(ring(C), after, members({ [A]: 'alive', [B]: 'alive', [C]: 'alive' }), 10, 0, true);
    const others = ring(A, B);
    const k = keys.find((x) => after.ownerOf(x) === C)!;
    expect(arcs.senderFor(hashKey(k))).toBe(others.ownerOf(k));
    // Without the hint its own previous ring says it owned everything already.
    const naive = new IncomingArcs(C);
    naive.onRingChange(ring(C), after, members({ [A]: 'alive', [B]: 'alive', [C]: 'alive' }), 10, 0, false);
    expect(naive.size).toBe(0);
  });

  it('expects nothing from a dead member (its keys died with it) but waits for one that left', () => {
    const dead = new IncomingArcs(A);
    dead.onRingChange(ring(A, B, C), ring(A, B), members({ [A]: 'alive', [B]: 'alive', [C]: 'dead' }), 10, 0, false);
    expect(dead.size).toBe(0);
    const left = new IncomingArcs(A);
    left.onRingChange(ring(A, B, C), ring(A, B), members({ [A]: 'alive', [B]: 'alive', [C]: 'left' }), 10, 0, false);
    expect(left.pendingBySender()).toEqual({ [C]: expect.any(Number) });
    // Then it dies before finishing: stop waiting.
    left.onRingChange(ring(A, B), ring(A, B), members({ [A]: 'alive', [B]: 'alive', [C]: 'dead' }), 11, 0, false);
    expect(left.size).toBe(0);
  });

  it('ends a sender\'s ranges on its done for the same ring, or for an epoch at least as new', () => {
    const arcs = new IncomingArcs(C);
    const after = ring(A, B, C);
    arcs.onRingChange(ring(A, B), after, members({ [A]: 'alive', [B]: 'alive', [C]: 'alive' }), 10, 0, false);
    arcs.done(A, { epoch: 3, ring: after.fingerprint() }); // older epoch (it forgot fewer members), same ring
    expect(Object.keys(arcs.pendingBySender())).toEqual([B]);
    arcs.done(B, { epoch: 9, ring: 1 }); // an older ring and epoch: not done with ours
    expect(Object.keys(arcs.pendingBySender())).toEqual([B]);
    arcs.done(B, { epoch: 10, ring: 1 });
    expect(arcs.size).toBe(0);
  });

  it('remembers a done that arrived before the ring change it covers', () => {
    const arcs = new IncomingArcs(C);
    const after = ring(A, B, C);
    arcs.done(A, { epoch: 10, ring: after.fingerprint() });
    arcs.onRingChange(ring(A, B), after, members({ [A]: 'alive', [B]: 'alive', [C]: 'alive' }), 10, 0, false);
    expect(Object.keys(arcs.pendingBySender())).toEqual([B]);
  });

  it('gives up on a sender that stays silent, and keeps one that is heard from', () => {
    const arcs = new IncomingArcs(C);
    arcs.onRingChange(ring(A, B), ring(A, B, C), members({ [A]: 'alive', [B]: 'alive', [C]: 'alive' }), 10, 0, false);
    arcs.heardFrom(A, 900);
    expect(arcs.expire(1000, 500)).toEqual([B]);
    expect(Object.keys(arcs.pendingBySender())).toEqual([A]);
  });

  it('forgets what senders said before this node was alone: a done from before a partition ends nothing after it', () => {
    const arcs = new IncomingArcs(C);
    const all = ring(A, B, C);
    const live = members({ [A]: 'alive', [B]: 'alive', [C]: 'alive' });
    // Before the partition A and B were done with the very ring the cluster comes back to.
    arcs.done(A, { epoch: 4, ring: all.fingerprint() });
    arcs.done(B, { epoch: 4, ring: all.fingerprint() });
    arcs.onRingChange(all, ring(C), members({ [A]: 'dead', [B]: 'dead', [C]: 'alive' }), 7, 0, false);
    arcs.onRingChange(ring(C), all, live, 9, 0, true, 500);
    expect(Object.keys(arcs.pendingBySender()).sort()).toEqual([A, B]);
    const k = keys.find((x) => all.ownerOf(x) === C)!;
    // Copies held here from before (versions up to 500) are to be compared with the sender's.
    expect(arcs.arcFor(hashKey(k))).toMatchObject({ from: ring(A, B).ownerOf(k), suspectBelow: 500, rejoin: true });
  });

  it('while rejoining, expects each range from its owner among the others, as they come back one by one', () => {
    const arcs = new IncomingArcs(C);
    const D = '127.0.0.5:7070';
    const all = ring(A, B, C, D);
    const others = ring(A, B, D);
    // Back from alone, but B and D are still dead in its eyes: for now everything comes from A.
    arcs.onRingChange(ring(C), ring(A, C), members({ [A]: 'alive', [B]: 'dead', [C]: 'alive', [D]: 'dead' }), 10, 0, true, 500);
    expect(Object.keys(arcs.pendingBySender())).toEqual([A]);
    arcs.done(A, { epoch: 10, ring: ring(A, C).fingerprint() });
    expect(arcs.size).toBe(0);
    expect(arcs.rejoining).toBe(true); // B and D may come back with keys of ours
    arcs.onRingChange(ring(A, C), ring(A, B, C), members({ [A]: 'alive', [B]: 'alive', [C]: 'alive', [D]: 'dead' }), 12, 0, false, 700);
    arcs.onRingChange(ring(A, B, C), all, members({ [A]: 'alive', [B]: 'alive', [C]: 'alive', [D]: 'alive' }), 14, 0, false, 900);
    for (const k of keys) {
      const a = arcs.arcFor(hashKey(k));
      if (all.ownerOf(k) !== C) expect(a).toBeUndefined();
      else expect(a).toMatchObject({ from: others.ownerOf(k), suspectBelow: 500 }); // A's part again: its done was for an older ring
    }
    arcs.done(A, { epoch: 14, ring: all.fingerprint() });
    arcs.done(B, { epoch: 14, ring: all.fingerprint() });
    expect(arcs.rejoining).toBe(true);
    arcs.done(D, { epoch: 14, ring: all.fingerprint() });
    expect(arcs.size).toBe(0);
    expect(arcs.rejoining).toBe(false);
    // Rejoining is over: the next change is an ordinary one.
    arcs.onRingChange(all, ring(A, B, C), members({ [A]: 'alive', [B]: 'alive', [C]: 'alive', [D]: 'left' }), 16, 0, false, 1000);
    for (const k of keys) {
      const a = arcs.arcFor(hashKey(k));
      if (all.ownerOf(k) === D && ring(A, B, C).ownerOf(k) === C) expect(a).toMatchObject({ from: D, suspectBelow: 1000, rejoin: false });
      else expect(a).toBeUndefined();
    }
  });
});
