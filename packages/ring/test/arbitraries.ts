import fc from 'fast-check';
import type { RingMember } from '../src';

/** Mostly address-like ids (what the cluster uses), some arbitrary Unicode to shake out ordering bugs. */
export const memberId = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 65535 })).map(([a, b, port]) => `10.0.${a}.${b}:${port}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) },
);

export function memberIds(minLength: number, maxLength: number): fc.Arbitrary<string[]> {
  return fc.uniqueArray(memberId, { minLength, maxLength });
}

export function members(minLength: number, maxLength: number): fc.Arbitrary<RingMember[]> {
  return memberIds(minLength, maxLength).chain((ids) =>
    fc.tuple(...ids.map((id) => fc.option(fc.constantFrom(0.5, 1, 2, 3), { nil: undefined }).map((weight): RingMember => (weight === undefined ? { id } : { id, weight })))),
  );
}

/** Small vnode counts keep property runs fast and make point collisions and tiny arcs likelier. */
export const vnodes = fc.integer({ min: 1, max: 48 });

export const keys = fc.array(fc.string({ unit: 'binary', maxLength: 24 }), { minLength: 1, maxLength: 60 });

export const hash = fc.nat({ max: 0xffffffff });

/** Enough keys that every member of a small ring owns some, so movement checks are not vacuous. */
export const manyKeys = Array.from({ length: 3000 }, (_, i) => `key:${i}`);
