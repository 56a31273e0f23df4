import { seededRandom as seeded } from '@corral/protocol';
import { ProbeOrder } from '../src';


const members = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

test('every member is probed exactly once per pass, in a reshuffled order each pass', () => {
  const order = new ProbeOrder(seeded(42));
  const passes: string[][] = [];
  for (let p = 0; p < 6; p++) {
    const pass: string[] = [];
    for (let i = 0; i < members.length; i++) pass.push(order.next(members) as string);
    expect([...pass].sort()).toEqual(members);
    passes.push(pass);
  }
  expect(new Set(passes.map((p) => p.join())).size).toBeGreaterThan(1);
});

test('members that went away are skipped; newcomers are probed within the current pass', () => {
  const order = new ProbeOrder(seeded(7));
  const first = order.next(members) as string;
  const now = members.filter((m) => m !== first && m !== 'c').concat('z');
  const rest: string[] = [];
  for (let i = 0; i < now.length; i++) rest.push(order.next(now) as string);
  expect(rest).not.toContain('c');
  expect([...rest].sort()).toEqual([...now].sort());
});

test('nothing to probe', () => {
  expect(new ProbeOrder().next([])).toBeUndefined();
});
