import { allOps, Ops, opByCode, validateArgs, DefaultLimits, encodeValue, decodeValue, valueAsInteger, integerBytes, ValueFlags, parseBytes, parseDuration } from '@corral/protocol';

const limits = { maxKeyBytes: 16, maxValueBytes: 32 };

describe('op table', () => {
  it('has unique codes and every op is found by its code', () => {
    const ops = allOps();
    expect(new Set(ops.map((o) => o.code)).size).toBe(ops.length);
    for (const op of ops) expect(opByCode(op.code)).toBe(op);
    expect(opByCode(999)).toBeUndefined();
    expect(opByCode(-1)).toBeUndefined();
  });

  it('validates argument count, types and limits', () => {
    expect(validateArgs(Ops.GET, ['k'], limits)).toBeUndefined();
    expect(validateArgs(Ops.GET, [], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.GET, [5], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.GET, [''], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.GET, ['x'.repeat(17)], limits)?.code).toBe('E_KEY_TOO_LONG');
    expect(validateArgs(Ops.GET, ['é'.repeat(9)], limits)?.code).toBe('E_KEY_TOO_LONG'); // 18 bytes of UTF-8
    expect(validateArgs(Ops.SET, ['k', Buffer.alloc(32)], limits)).toBeUndefined();
    expect(validateArgs(Ops.SET, ['k', Buffer.alloc(33)], limits)?.code).toBe('E_VALUE_TOO_LARGE');
    expect(validateArgs(Ops.SET, ['k', 'not bytes'], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.SET, ['k', Buffer.alloc(1), { ttlMs: 5, nx: true }], limits)).toBeUndefined();
    expect(validateArgs(Ops.SET, ['k', Buffer.alloc(1), { ttlMs: -5 }], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.SET, ['k', Buffer.alloc(1), { bogus: 1 }], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.MSET, [[['a', Buffer.alloc(1)], ['b', Buffer.alloc(1), 3]]], limits)).toBeUndefined();
    expect(validateArgs(Ops.MSET, [[['a']]], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.MGET, [['a', 7]], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.INCRBY, ['n', 1.5], limits)?.code).toBe('E_BAD_ARGS');
    expect(validateArgs(Ops.INCRBY, ['n', -3], DefaultLimits)).toBeUndefined();
  });
});

describe('values', () => {
  it('round-trips by flags, Buffers untouched', () => {
    const buf = Buffer.from([1, 2, 3]);
    const e = encodeValue(buf);
    expect(e.flags).toBe(ValueFlags.Raw);
    expect(e.bytes).toBe(buf);
    for (const v of ['héllo', { a: [1, 2], b: null }, 42, -1.5, true, null, [1, 'x']]) {
      const { bytes, flags } = encodeValue(v);
      expect(decodeValue(bytes, flags)).toEqual(v);
    }
    expect(() => encodeValue(undefined)).toThrow(/undefined/);
  });

  it('reads integers written by any client', () => {
    expect(valueAsInteger(encodeValue(41).bytes, ValueFlags.Msgpack)).toBe(41);
    expect(valueAsInteger(Buffer.from('-17'), ValueFlags.Raw)).toBe(-17);
    expect(valueAsInteger(integerBytes(9007199254740991), ValueFlags.Integer)).toBe(9007199254740991);
    expect(valueAsInteger(Buffer.from('12a'), ValueFlags.Raw)).toBeUndefined();
    expect(valueAsInteger(Buffer.from('007'), ValueFlags.Raw)).toBeUndefined();
    expect(valueAsInteger(encodeValue({ n: 1 }).bytes, ValueFlags.Msgpack)).toBeUndefined();
    expect(valueAsInteger(encodeValue(1.5).bytes, ValueFlags.Msgpack)).toBeUndefined();
  });
});

describe('units', () => {
  it('parses sizes and durations', () => {
    expect(parseBytes('256mb')).toBe(256 * 1024 * 1024);
    expect(parseBytes('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('4096')).toBe(4096);
    expect(() => parseBytes('lots')).toThrow(/invalid size/);
    expect(parseDuration('30s')).toBe(30000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2')).toBe(2);
    expect(() => parseDuration('soon')).toThrow(/invalid duration/);
  });
});
