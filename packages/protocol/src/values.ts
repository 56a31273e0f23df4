import { Packr, Unpackr } from 'msgpackr';

/**
 * How a client turned a value into bytes, stored as the entry's flags (as memcached does). Buffers
 * pass through untouched and strings are stored as UTF-8 so a Redis client reading through the RESP
 * door sees the same bytes; everything else is msgpack. INCRBY writes decimal ASCII.
 */
export const ValueFlags = { Raw: 0, Msgpack: 1, Integer: 2, Utf8: 3 } as const;

const packr = new Packr({ useRecords: false });
// copyBuffers: a decoded value is the caller's own (see decodeValue).
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

export interface EncodedValue { bytes: Buffer; flags: number }

export function encodeValue(v: unknown): EncodedValue {
  if (Buffer.isBuffer(v)) return { bytes: v, flags: ValueFlags.Raw };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength), flags: ValueFlags.Raw };
  if (typeof v === 'string') return { bytes: Buffer.from(v, 'utf8'), flags: ValueFlags.Utf8 };
  if (v === undefined) throw new TypeError('undefined cannot be cached; use null or delete the key');
  return { bytes: packr.pack(v), flags: ValueFlags.Msgpack };
}

/**
 * The value a client hands its caller. It never shares memory with `bytes`, which may be a view
 * into a whole socket chunk (the client decodes replies in place): strings and numbers are copies
 * by nature, raw bytes are copied into a pooled buffer, and buffers inside msgpack get their own.
 */
export function decodeValue(bytes: Uint8Array, flags: number): unknown {
  switch (flags) {
    case ValueFlags.Msgpack: return unpackr.unpack(bytes);
    case ValueFlags.Utf8: return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
    case ValueFlags.Integer: return Number(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
    default: return Buffer.from(bytes);
  }
}

const DECIMAL = /^-?(0|[1-9]\d{0,15})$/;

/** Reads a stored value as an integer for INCRBY, whatever wrote it; undefined if it is not one. */
export function valueAsInteger(bytes: Uint8Array, flags: number): number | undefined {
  if (flags === ValueFlags.Msgpack) {
    try {
      const n = unpackr.unpack(bytes);
      return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }
  if (bytes.length > 17) return undefined;
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!DECIMAL.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export const integerBytes = (n: number): Buffer => Buffer.from(String(n), 'latin1');
