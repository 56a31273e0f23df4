import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import { CorralError, type ErrorCode } from './errors';
import { fastPackFrame } from './fast-pack';

/**
 * A frame on the wire is a 4-byte big-endian payload length followed by one msgpack array:
 *   request  [0, id, op, args, meta?]           (meta: routing hints, see RequestMeta)
 *   response [1, id, result]
 *   error    [2, id, code, message, details?]   (id 0: about the connection, not a request)
 *   push     [3, push, body]                     (server → client, no id)
 * Records are off on both sides so any msgpack decoder can read every frame.
 */
export const FrameKind = { Request: 0, Response: 1, Error: 2, Push: 3 } as const;

/** Push kinds. Reserved up front so old clients can ignore kinds they do not know. */
export const PushKind = {
  Invalidate: 1,
  Topology: 2,
  Heartbeat: 3,
  LeaseWake: 4,
  Goodbye: 5,
} as const;

/**
 * Hints a client attaches to requests. Without an epoch a node serves the request from its own
 * store (admin tools and tests ask a node directly that way).
 *  - epoch: the ring epoch the client routed with; a node that does not own the key answers
 *    E_NOT_OWNER with its own epoch and the owner, so the client refreshes and retries once.
 *  - fallback: the owner is unreachable and this node serves as its gutter (no ownership check,
 *    short TTLs), as memcache's gutter pool does.
 *  - deadline: wall-clock ms (Unix epoch) after which the client no longer waits for the reply.
 *    A node refuses a write that reaches it later than that (plus its --deadline-grace for clock
 *    skew) with E_DEADLINE_PASSED instead of applying it: the client already reported it failed,
 *    and a write held up (a frozen node, a stalled socket) must not land after writes made since.
 */
export interface RequestMeta { epoch?: number; fallback?: boolean; deadline?: number }
export interface RequestFrame { kind: 0; id: number; op: number; args: unknown[]; meta?: RequestMeta }
export interface ResponseFrame { kind: 1; id: number; result: unknown }
export interface ErrorFrame { kind: 2; id: number; code: string; message: string; details?: Record<string, unknown> }
export interface PushFrame { kind: 3; push: number; body: unknown }
export type Frame = RequestFrame | ResponseFrame | ErrorFrame | PushFrame;

export const HEADER_BYTES = 4;
/** Largest id before wrapping; stays in msgpack's uint32 form. */
export const MAX_REQUEST_ID = 0xffffffff;

// encodeUndefinedAsNil: msgpackr's own ext for undefined would break "any msgpack decoder reads every frame".
const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
// copyBuffers: a decoded value must not pin the whole socket chunk it arrived in (stores keep values for hours).
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });
const unpackrNoCopy = new Unpackr({ useRecords: false, mapsAsObjects: true });

const requestArray = (id: number, op: number, args: unknown[], meta: RequestMeta | undefined): unknown[] =>
  (meta ? [0, id, op, args, meta] : [0, id, op, args]);
const errorArray = (id: number, code: string, message: string, details: Record<string, unknown> | undefined): unknown[] =>
  (details ? [2, id, code, message, details] : [2, id, code, message]);

function frameArray(f: Frame): unknown[] {
  switch (f.kind) {
    case 0: return requestArray(f.id, f.op, f.args, f.meta);
    case 1: return [1, f.id, f.result];
    case 2: return errorArray(f.id, f.code, f.message, f.details);
    case 3: return [3, f.push, f.body];
  }
}

/** Encodes one frame, header included. */
export function encodeFrame(f: Frame): Buffer {
  return packFrame(frameArray(f));
}

/**
 * The frame's own encoder (fast-pack.ts) for what frames are made of, msgpackr for anything else;
 * msgpackr packs the array after HEADER_BYTES it leaves free at the start, and the length goes
 * there. Either way the frame is one view into the encoder's buffer, with no second allocation and copy.
 */
function packFrame(a: unknown[]): Buffer {
  const fast = fastPackFrame(a, HEADER_BYTES);
  if (fast !== undefined) return fast;
  const out = packr.pack(a, RESERVE_START_SPACE | HEADER_BYTES);
  out.writeUInt32BE(out.length - HEADER_BYTES, 0);
  return out;
}

// The per-kind encoders pack their arrays directly: no Frame object per reply on the node's hot path.
export const encodeRequest = (id: number, op: number, args: unknown[], meta?: RequestMeta): Buffer =>
  packFrame(requestArray(id, op, args, meta));
export const encodeResponse = (id: number, result: unknown): Buffer => packFrame([1, id, result]);
export const encodeError = (id: number, err: CorralError): Buffer => packFrame(errorArray(id, err.code, err.message, err.details));
export const encodePush = (push: number, body: unknown): Buffer => packFrame([3, push, body]);

const isUint = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_REQUEST_ID;

/** Checks the shape of a decoded payload; anything else is E_BAD_FRAME. */
export function toFrame(a: unknown): Frame {
  if (!Array.isArray(a) || a.length < 3) throw badFrame('a frame is a msgpack array of at least 3 items');
  const [kind, x, y] = a as [unknown, unknown, unknown];
  switch (kind) {
    case 0: {
      if (!isUint(x) || typeof y !== 'number' || !Number.isInteger(y) || !Array.isArray(a[3]) || a.length > 5)
        throw badFrame('a request is [0, id:uint32, op:int, args:array, meta?:map]');
      if (a.length === 4) return { kind: 0, id: x, op: y, args: a[3] as unknown[] };
      const meta = toRequestMeta(a[4]);
      return { kind: 0, id: x, op: y, args: a[3] as unknown[], meta };
    }
    case 1:
      if (!isUint(x) || a.length !== 3) throw badFrame('a response is [1, id:uint32, result]');
      return { kind: 1, id: x, result: y };
    case 2: {
      const msg = a[3];
      const details = a[4];
      if (!isUint(x) || typeof y !== 'string' || typeof msg !== 'string' || a.length > 5 ||
        (details !== undefined && (typeof details !== 'object' || details === null || Array.isArray(details))))
        throw badFrame('an error is [2, id:uint32, code:string, message:string, details?:map]');
      return details === undefined ? { kind: 2, id: x, code: y, message: msg } :
        { kind: 2, id: x, code: y, message: msg, details: details as Record<string, unknown> };
    }
    case 3:
      if (typeof x !== 'number' || !Number.isInteger(x) || a.length !== 3) throw badFrame('a push is [3, push:int, body]');
      return { kind: 3, push: x, body: y };
    default:
      throw badFrame(`unknown frame kind ${String(kind)}`);
  }
}

function toRequestMeta(m: unknown): RequestMeta {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw badFrame('request meta is a map');
  const { epoch, fallback, deadline } = m as Record<string, unknown>;
  const meta: RequestMeta = {};
  if (epoch !== undefined) {
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw badFrame('meta.epoch is an integer >= 0');
    meta.epoch = epoch;
  }
  if (fallback !== undefined) {
    if (typeof fallback !== 'boolean') throw badFrame('meta.fallback is a bool');
    meta.fallback = fallback;
  }
  if (deadline !== undefined) {
    if (typeof deadline !== 'number' || !Number.isSafeInteger(deadline) || deadline < 0) throw badFrame('meta.deadline is an integer >= 0 (Unix ms)');
    meta.deadline = deadline;
  }
  return meta;
}

const badFrame = (why: string, code: ErrorCode = 'E_BAD_FRAME') => new CorralError(code, why);

export interface DecodeResult {
  frames: Frame[];
  /** Set once the stream is unrecoverable (framing lost); every later push returns it again. */
  error?: CorralError;
}

export interface FrameDecoderOptions {
  /**
   * Decode binary fields into buffers of their own (default), so a value kept for hours does not
   * pin the whole socket chunk it arrived in. A reader that copies or converts what it keeps (the
   * client: values become strings or pooled copies in decodeValue) turns it off: msgpackr's copy
   * allocates an ArrayBuffer per field, which costs more than decoding the rest of the frame.
   */
  copyBuffers?: boolean;
}

/**
 * Incremental, pure frame decoder: accepts any split of the byte stream. Frames that sit whole in
 * one chunk are decoded in place (header and payload read at an offset, no slicing), which is the
 * common case for replies and pipelined requests; a frame split across chunks is assembled with one
 * copy. A declared length over `maxFrameBytes` is rejected from the header, before allocating.
 */
export class FrameDecoder {
  /** Bytes of a frame (or header) split across chunks, not yet complete. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1; // payload length of the frame being assembled, -1 while reading a header
  private failed: CorralError | undefined;
  private readonly unpackr: Unpackr;
  private readonly range = { start: 0, end: 0 };

  constructor(private readonly maxFrameBytes: number, opts: FrameDecoderOptions = {}) {
    this.unpackr = opts.copyBuffers === false ? unpackrNoCopy : unpackr;
  }

  get bufferedBytes(): number { return this.buffered; }

  push(chunk: Buffer): DecodeResult {
    if (this.failed) return { frames: [], error: this.failed };
    const frames: Frame[] = [];
    let off = 0;
    // First finish the frame earlier chunks started; then whole frames straight from this chunk.
    if (this.need >= 0 || this.buffered > 0) {
      off = this.completePending(chunk, frames);
      if (off < 0) return this.failed ? { frames, error: this.failed } : { frames };
    }
    const n = chunk.length;
    while (n - off >= HEADER_BYTES) {
      const len = chunk.readUInt32BE(off);
      const bad = this.checkLength(len);
      if (bad) return this.fail(frames, bad);
      off += HEADER_BYTES;
      if (n - off < len) { this.need = len; break; }
      const err = this.decodeInto(chunk, off, off + len, frames);
      if (err) return this.fail(frames, err);
      off += len;
    }
    if (off < n) {
      this.chunks.push(off === 0 ? chunk : chunk.subarray(off));
      this.buffered += n - off;
    }
    return { frames };
  }

  /**
   * Adds `chunk` to the pending bytes (a split header, or the payload of a frame whose header was
   * read) and decodes the frame they complete. Returns the offset in `chunk` after that frame, or
   * -1 when the chunk was used up (or the stream failed).
   */
  private completePending(chunk: Buffer, frames: Frame[]): number {
    let off = 0;
    if (this.need < 0) {
      const want = HEADER_BYTES - this.buffered;
      if (chunk.length < want) { this.chunks.push(chunk); this.buffered += chunk.length; return -1; }
      const len = Buffer.concat([...this.chunks, chunk.subarray(0, want)], HEADER_BYTES).readUInt32BE(0);
      this.chunks = [];
      this.buffered = 0;
      const bad = this.checkLength(len);
      if (bad) { this.fail(frames, bad); return -1; }
      off = want;
      this.need = len;
    }
    const missing = this.need - this.buffered;
    if (chunk.length - off < missing) {
      if (off < chunk.length) { this.chunks.push(chunk.subarray(off)); this.buffered += chunk.length - off; }
      return -1;
    }
    let err: CorralError | undefined;
    if (this.buffered === 0) {
      err = this.decodeInto(chunk, off, off + missing, frames);
    } else {
      const payload = Buffer.concat([...this.chunks, chunk.subarray(off, off + missing)], this.need);
      err = this.decodeInto(payload, 0, payload.length, frames);
    }
    this.chunks = [];
    this.buffered = 0;
    this.need = -1;
    if (err) { this.fail(frames, err); return -1; }
    return off + missing;
  }

  private checkLength(len: number): CorralError | undefined {
    if (len > this.maxFrameBytes) return badFrame(`frame declares ${len} bytes, the limit is ${this.maxFrameBytes}`, 'E_FRAME_TOO_LARGE');
    if (len === 0) return badFrame('empty frame');
    return undefined;
  }

  private decodeInto(buf: Buffer, start: number, end: number, frames: Frame[]): CorralError | undefined {
    let decoded: unknown;
    try {
      this.range.start = start;
      this.range.end = end;
      decoded = this.unpackr.unpack(buf, this.range);
    } catch (e) {
      return badFrame(`payload is not valid msgpack: ${(e as Error).message}`);
    }
    try {
      frames.push(toFrame(decoded));
    } catch (e) {
      return e as CorralError;
    }
    return undefined;
  }

  private fail(frames: Frame[], error: CorralError): DecodeResult {
    this.failed = error;
    this.chunks = [];
    this.buffered = 0;
    return { frames, error };
  }
}
