import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { fastPackFrame } from '../src/fast-pack';

/**
 * The frame encoder's own msgpack writer against msgpackr, configured as frame.ts configures it:
 * for every value it takes on, the same bytes; for every value it declines, no output (frame.ts
 * then packs it with msgpackr).
 */
const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

function body(frame: Buffer): Buffer {
  expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
  return frame.subarray(4);
}

/** What frames carry: JSON-like values, binary, integers of every width, floats. */
const frameValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ maxLength: 300 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    // Every integer form's edges (fixint, 8, 16, 32 bits, then float64).
    fc.constantFrom(0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  ),
  array: fc.array(tie('value'), { maxLength: 20 }),
  object: fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 20 }),
  value: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
})).value;

describe('fastPackFrame', () => {
  it('writes the bytes msgpackr writes, behind a length header, for any frame-like value', () => {
    fc.assert(fc.property(fc.array(frameValue, { maxLength: 6 }), (v) => {
      const frame = fastPackFrame(v, 4);
      expect(frame).toBeDefined();
      const mine = body(frame!);
      const ref = packr.pack(v);
      // Non-ASCII strings may get a wider header than msgpackr gives them (both are valid msgpack);
      // what any decoder reads back must be the same.
      expect(unpackr.unpack(mine)).toEqual(unpackr.unpack(ref));
      if (!JSON.stringify(v).match(/[^\x00-\x7f]/)) expect(mine.equals(ref)).toBe(true);
    }), { numRuns: 200 });
  });

  it('uses msgpackr\'s form at every integer width\'s edge, and float64 past 32 bits', () => {
    const edges = [0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -128, -129, -32_768, -32_769,
      -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0.5, -0.5, Infinity, -Infinity, NaN];
    for (const n of edges) expect(body(fastPackFrame([n], 4)!).toString('hex')).toBe(packr.pack([n]).toString('hex'));
  });

  it('never overwrites a frame it handed out: frames across slabs, large values, wide maps', () => {
    const frames: Array<[Buffer, unknown]> = [];
    for (let i = 0; i < 150; i++) {
      const big = Buffer.alloc(i % 60 === 0 ? 100_000 : i * 37, i & 0xff);
      const wide = Object.fromEntries(Array.from({ length: 16 + (i % 5) }, (_, j) => [`f${j}`, j === 7 ? big : j]));
      const v = [1, i, i % 3 === 0 ? wide : [big, i, `k:${i}`]];
      frames.push([fastPackFrame(v, 4)!, v]);
    }
    for (const [f, v] of frames) expect(unpackr.unpack(body(f))).toEqual(unpackr.unpack(packr.pack(v)));
  });

  it('declines what it does not write (msgpackr packs it), leaving no trace in the next frame', () => {
    for (const odd of [new Map([[1, 2]]), new Date(0), 10n, new Set([1]), new Float64Array(2), () => 1])
      expect(fastPackFrame([1, 2, { ok: [1, odd] }], 4)).toBeUndefined();
    const next = fastPackFrame([1, 3, 'after'], 4)!;
    expect(unpackr.unpack(body(next))).toEqual([1, 3, 'after']);
  });
});
