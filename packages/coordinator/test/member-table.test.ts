import { MemberTable } from '../src/member-table';
import type { Update } from '../src/messages';

let now = 0;
const time = { now: () => now, wallNow: () => 1_700_000_000_000 + now };

function table(): MemberTable {
  now = 0;
  const t = new MemberTable('self', { addr: '10.0.0.1:7946', meta: { port: 1 } }, 10, time);
  t.apply(alive('x', 1));
  return t;
}

const alive = (id: string, incarnation: number, meta: Record<string, unknown> = {}): Update => ({
  kind: 'alive',
  id,
  incarnation,
  addr: `10.0.0.9:7946`,
  meta,
});
const suspect = (id: string, incarnation: number): Update => ({ kind: 'suspect', id, incarnation, from: 'y' });
const dead = (id: string, incarnation: number): Update => ({ kind: 'dead', id, incarnation, from: 'y' });
const left = (id: string, incarnation: number): Update => ({ kind: 'left', id, incarnation });

test('alive → suspect → dead at the same incarnation; stale news is ignored', () => {
  const t = table();
  expect(t.apply(suspect('x', 0)).kind).toBe('ignored'); // older incarnation
  expect(t.apply(suspect('x', 1))).toMatchObject({ kind: 'changed', prev: 'alive', member: { state: 'suspect' } });
  expect(t.apply(suspect('x', 1)).kind).toBe('ignored');
  expect(t.apply(alive('x', 1)).kind).toBe('ignored'); // only a higher incarnation refutes
  expect(t.apply(dead('x', 1))).toMatchObject({ kind: 'changed', prev: 'suspect', member: { state: 'dead' } });
  expect(t.apply(suspect('x', 1)).kind).toBe('ignored');
  expect(t.apply(alive('x', 1)).kind).toBe('ignored');
  expect(t.apply(alive('x', 2))).toMatchObject({ kind: 'changed', prev: 'dead', member: { state: 'alive', incarnation: 2 } });
});

test('a refutation (higher incarnation) clears a suspicion', () => {
  const t = table();
  t.apply(suspect('x', 1));
  expect(t.apply(alive('x', 2))).toMatchObject({ kind: 'changed', prev: 'suspect', visible: true });
  expect(t.get('x')?.state).toBe('alive');
});

test('left beats dead at the same incarnation and is final until a higher incarnation', () => {
  const t = table();
  t.apply(dead('x', 1));
  expect(t.apply(left('x', 1))).toMatchObject({ kind: 'changed', prev: 'dead', member: { state: 'left' } });
  expect(t.apply(dead('x', 1)).kind).toBe('ignored');
  expect(t.apply(alive('x', 2)).kind).toBe('changed');
});

test('suspicion, death and leave of unknown members are ignored', () => {
  const t = table();
  for (const u of [suspect('q', 0), dead('q', 0), left('q', 0)]) expect(t.apply(u).kind).toBe('ignored');
  expect(t.get('q')).toBeUndefined();
});

test('a higher-incarnation alive with the same meta is not a visible change', () => {
  const t = table();
  expect(t.apply(alive('x', 2))).toMatchObject({ kind: 'changed', visible: false });
  expect(t.apply(alive('x', 3, { port: 9 }))).toMatchObject({ kind: 'changed', visible: true });
  expect(t.get('x')?.meta).toEqual({ port: 9 });
});

test('bad news about self asks for a refutation above what was heard', () => {
  const t = table();
  expect(t.apply(suspect('self', 0))).toEqual({ kind: 'refute', heardIncarnation: 0 });
  expect(t.refute(0)).toMatchObject({ kind: 'alive', id: 'self', incarnation: 1 });
  expect(t.apply(suspect('self', 0)).kind).toBe('ignored'); // already outbid
  expect(t.apply(dead('self', 5))).toEqual({ kind: 'refute', heardIncarnation: 5 });
  expect(t.refute(5).incarnation).toBe(6);
  expect(t.apply(left('self', 6)).kind).toBe('refute');
  // A previous life of this node at a higher incarnation, or at ours with other meta.
  expect(t.apply(alive('self', 9)).kind).toBe('refute');
  expect(t.apply({ kind: 'alive', id: 'self', incarnation: 6, addr: '10.0.0.1:7946', meta: { port: 2 } }).kind).toBe('refute');
  expect(t.apply({ kind: 'alive', id: 'self', incarnation: 6, addr: '10.0.0.1:7946', meta: { port: 1 } }).kind).toBe('ignored');
  expect(t.self.state).toBe('alive');
});

test('once leaving, news about self is not refuted', () => {
  const t = table();
  const { update } = t.markSelfLeft();
  expect(update).toEqual({ kind: 'left', id: 'self', incarnation: 0 });
  expect(t.apply(dead('self', 0)).kind).toBe('ignored');
  expect(t.self.state).toBe('left');
});

test('the table is bounded and dead members are reaped after a while', () => {
  const t = table();
  for (let i = 0; i < 20; i++) t.apply(alive(`m${i}`, 0));
  expect(t.size).toBe(10);
  expect(t.apply(alive('overflow', 0)).kind).toBe('rejected');
  t.apply(dead('x', 1));
  now = 999;
  expect(t.reap(1000)).toEqual([]);
  now = 1000;
  expect(t.reap(1000)).toEqual(['x']);
  expect(t.get('x')).toBeUndefined();
});

test('members are listed sorted by id with self included; copies cannot mutate the table', () => {
  const t = table();
  t.apply(alive('a', 0));
  expect(t.list().map((m) => m.id)).toEqual(['a', 'self', 'x']);
  const copy = t.get('a');
  if (copy) copy.state = 'dead';
  expect(t.get('a')?.state).toBe('alive');
});
