/**
 * A msgpack encoder for what frames are made of — arrays, plain objects with string keys, strings,
 * numbers, booleans, nil and binary — writing each frame, length header first, into a shared slab
 * and handing out a view of it. msgpackr's general encoder costs ~1 µs for a GET reply or a SET
 * request, several times what writing those few bytes takes, on every request of client and node.
 * Anything else (a bigint, a Date, a Map, a class instance, nesting past MAX_DEPTH) makes it give
 * up on the frame, and the caller hands the frame to msgpackr instead: the output is standard
 * msgpack either way, readable by any decoder (docs/protocol.md).
 *
 * Forms chosen: the shortest integer form for integers of up to 32 bits, float64 for every other
 * number (as msgpackr does); str/bin/array/map headers sized to the contents (a string's header
 * may be one size larger than its UTF-8 length needs, which msgpack allows).
 */

const SLAB_BYTES = 64 * 1024;
/** Nesting deeper than this is left to msgpackr (frames nest 3–4 levels). */
const MAX_DEPTH = 32;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let pos = 0;
/** Where the frame being written starts in `slab`. */
let start = 0;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `value` as one frame: a 4-byte big-endian length of the msgpack body, then the body. A view into
 * the shared slab (never overwritten: later frames go after it, or into a new slab). Undefined when
 * it holds something this encoder leaves to msgpackr.
 */
export function fastPackFrame(value: unknown, headerBytes: number): Buffer | undefined {
  start = pos;
  if (slab.length - pos < 1024) newSlab(SLAB_BYTES);
  pos += headerBytes;
  if (!write(value, 0)) {
    pos = start;
    return undefined;
  }
  const out = slab.subarray(start, pos);
  out.writeUInt32BE(pos - start - headerBytes, 0);
  // Word-aligned starts, as msgpackr keeps them: copying a frame later is cheaper.
  pos = (pos + 7) & ~7;
  if (pos > slab.length) pos = slab.length;
  return out;
}

/** A fresh slab of at least `bytes`, carrying over the part of the frame written so far. */
function newSlab(bytes: number): void {
  const used = pos - start;
  const next = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes + used));
  if (used > 0) slab.copy(next, 0, start, pos);
  slab = next;
  start = 0;
  pos = used;
}

function room(n: number): void {
  if (pos + n > slab.length) newSlab(2 * (pos - start + n));
}

function write(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string': writeString(v); return true;
    case 'number': writeNumber(v); return true;
    case 'boolean': room(1); slab[pos++] = v ? 0xc3 : 0xc2; return true;
    case 'undefined': room(1); slab[pos++] = 0xc0; return true;
    case 'object': {
      if (v === null) { room(1); slab[pos++] = 0xc0; return true; }
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(v)) return writeArray(v, depth);
      if (v instanceof Uint8Array) { writeBin(v); return true; }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      return writeMap(v as Record<string, unknown>, depth);
    }
    default: return false; // bigint, symbol, function
  }
}

function writeNumber(n: number): void {
  room(9);
  if (Number.isInteger(n)) {
    if (n >= 0) {
      if (n < 0x80) { slab[pos++] = n; return; }
      if (n < 0x100) { slab[pos++] = 0xcc; slab[pos++] = n; return; }
      if (n < 0x10000) { slab[pos++] = 0xcd; slab[pos++] = n >>> 8; slab[pos++] = n & 0xff; return; }
      if (n < 0x100000000) { slab[pos++] = 0xce; writeU32(n); return; }
    } else {
      if (n >= -0x20) { slab[pos++] = n & 0xff; return; }
      if (n >= -0x80) { slab[pos++] = 0xd0; slab[pos++] = n & 0xff; return; }
      if (n >= -0x8000) { slab[pos++] = 0xd1; slab[pos++] = (n >> 8) & 0xff; slab[pos++] = n & 0xff; return; }
      if (n >= -0x80000000) { slab[pos++] = 0xd2; writeU32(n >>> 0); return; }
    }
  }
  slab[pos++] = 0xcb;
  f64[0] = n;
  if (LITTLE_ENDIAN) for (let i = 7; i >= 0; i--) slab[pos++] = f64Bytes[i]!;
  else for (let i = 0; i < 8; i++) slab[pos++] = f64Bytes[i]!;
}

function writeU32(n: number): void {
  slab[pos++] = n >>> 24;
  slab[pos++] = (n >>> 16) & 0xff;
  slab[pos++] = (n >>> 8) & 0xff;
  slab[pos++] = n & 0xff;
}

function writeString(s: string): void {
  const len = s.length;
  if (len < 32) {
    // Short strings (keys, field names, codes) are mostly ASCII: copied by hand, no native call.
    room(1 + len);
    const at = pos;
    let p = at + 1;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      slab[p++] = c;
    }
    if (i === len) {
      slab[at] = 0xa0 | len;
      pos = p;
      return;
    }
  }
  // UTF-8 needs at most 3 bytes per UTF-16 unit: the header is sized for that bound.
  const max = 3 * len;
  const header = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  room(header + max);
  const n = slab.write(s, pos + header, 'utf8');
  if (header === 1) slab[pos] = 0xa0 | n;
  else if (header === 2) { slab[pos] = 0xd9; slab[pos + 1] = n; }
  else if (header === 3) { slab[pos] = 0xda; slab[pos + 1] = n >>> 8; slab[pos + 2] = n & 0xff; }
  else { slab[pos] = 0xdb; const at = pos; pos++; writeU32(n); pos = at; }
  pos += header + n;
}

function writeBin(b: Uint8Array): void {
  const n = b.length;
  room(5 + n);
  if (n < 0x100) { slab[pos++] = 0xc4; slab[pos++] = n; }
  else if (n < 0x10000) { slab[pos++] = 0xc5; slab[pos++] = n >>> 8; slab[pos++] = n & 0xff; }
  else { slab[pos++] = 0xc6; writeU32(n); }
  slab.set(b, pos);
  pos += n;
}

function writeArray(a: readonly unknown[], depth: number): boolean {
  const n = a.length;
  room(5);
  if (n < 16) slab[pos++] = 0x90 | n;
  else if (n < 0x10000) { slab[pos++] = 0xdc; slab[pos++] = n >>> 8; slab[pos++] = n & 0xff; }
  else { slab[pos++] = 0xdd; writeU32(n); }
  for (let i = 0; i < n; i++) if (!write(a[i], depth + 1)) return false;
  return true;
}

function writeMap(o: Record<string, unknown>, depth: number): boolean {
  // The count is known only at the end (for-in allocates no key list): one header byte is kept
  // for a fixmap, widened in place when there turn out to be 16 fields or more.
  room(1);
  // As an offset from the frame's start: writing the fields may move the frame to a new slab.
  const atRel = pos++ - start;
  let n = 0;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    writeString(k);
    if (!write(o[k], depth + 1)) return false;
    n++;
  }
  if (n < 16) { slab[start + atRel] = 0x80 | n; return true; }
  const wide = n < 0x10000 ? 3 : 5;
  room(wide - 1);
  const at = start + atRel;
  slab.copyWithin(at + wide, at + 1, pos);
  pos += wide - 1;
  if (wide === 3) { slab[at] = 0xde; slab[at + 1] = n >>> 8; slab[at + 2] = n & 0xff; }
  else { slab[at] = 0xdf; const end = pos; pos = at + 1; writeU32(n); pos = end; }
  return true;
}
