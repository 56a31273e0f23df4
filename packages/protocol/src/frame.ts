import { Packr, Unpackr } from 'msgpackr';
import { CorralError, type ErrorCode } from './errors';

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
 * Routing hints a cluster-aware client attaches to keyed requests. Without meta a node serves the
 * request from its own store (admin tools and tests ask a node directly that way).
 *  - epoch: the ring epoch the client routed with; a node that does not own the key answers
 *    E_NOT_OWNER with its own epoch and the owner, so the client refreshes and retries once.
 *  - fallback: the owner is unreachable and this node serves as its gutter (no ownership check,
 *    short TTLs), as memcache's gutter pool does.
 */
export interface RequestMeta { epoch?: number; fallback?: boolean }
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

function frameArray(f: Frame): unknown[] {
  switch (f.kind) {
    case 0: return f.meta ? [0, f.id, f.op, f.args, f.meta] : [0, f.id, f.op, f.args];
    case 1: return [1, f.id, f.result];
    case 2: return f.details ? [2, f.id, f.code, f.message, f.details] : [2, f.id, f.code, f.message];
    case 3: return [3, f.push, f.body];
  }
}

/** Encodes one frame, header included. */
export function encodeFrame(f: Frame): Buffer {
  const body = packr.pack(frameArray(f));
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, HEADER_BYTES);
  return out;
}

export const encodeRequest = (id: number, op: number, args: unknown[], meta?: RequestMeta): Buffer =>
  encodeFrame(meta ? { kind: 0, id, op, args, meta } : { kind: 0, id, op, args });
export const encodeResponse = (id: number, result: unknown): Buffer => encodeFrame({ kind: 1, id, result });
export const encodeError = (id: number, err: CorralError): Buffer =>
  encodeFrame({ kind: 2, id, code: err.code, message: err.message, details: err.details });
export const encodePush = (push: number, body: unknown): Buffer => encodeFrame({ kind: 3, push, body });

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
  const { epoch, fallback } = m as Record<string, unknown>;
  const meta: RequestMeta = {};
  if (epoch !== undefined) {
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw badFrame('meta.epoch is an integer >= 0');
    meta.epoch = epoch;
  }
  if (fallback !== undefined) {
    if (typeof fallback !== 'boolean') throw badFrame('meta.fallback is a bool');
    meta.fallback = fallback;
  }
  return meta;
}

const badFrame = (why: string, code: ErrorCode = 'E_BAD_FRAME') => new CorralError(code, why);

export interface DecodeResult {
  frames: Frame[];
  /** Set once the stream is unrecoverable (framing lost); every later push returns it again. */
  error?: CorralError;
}

/**
 * Incremental, pure frame decoder: accepts any split of the byte stream. Chunks are kept as a
 * list (no re-concatenation per chunk, so a large frame arriving in many pieces costs one copy),
 * and a declared length over `maxFrameBytes` is rejected from the header, before allocating.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1; // payload length of the frame being assembled, -1 while reading a header
  private failed: CorralError | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  get bufferedBytes(): number { return this.buffered; }

  push(chunk: Buffer): DecodeResult {
    if (this.failed) return { frames: [], error: this.failed };
    const frames: Frame[] = [];
    if (chunk.length > 0) { this.chunks.push(chunk); this.buffered += chunk.length; }
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < HEADER_BYTES) break;
        const len = this.readHeader();
        if (len > this.maxFrameBytes) return this.fail(frames, badFrame(
          `frame declares ${len} bytes, the limit is ${this.maxFrameBytes}`, 'E_FRAME_TOO_LARGE'));
        if (len === 0) return this.fail(frames, badFrame('empty frame'));
        this.need = len;
      }
      if (this.buffered < this.need) break;
      const payload = this.take(this.need);
      this.need = -1;
      let decoded: unknown;
      try {
        decoded = unpackr.unpack(payload);
      } catch (e) {
        return this.fail(frames, badFrame(`payload is not valid msgpack: ${(e as Error).message}`));
      }
      try {
        frames.push(toFrame(decoded));
      } catch (e) {
        return this.fail(frames, e as CorralError);
      }
    }
    return { frames };
  }

  private fail(frames: Frame[], error: CorralError): DecodeResult {
    this.failed = error;
    this.chunks = [];
    this.buffered = 0;
    return { frames, error };
  }

  private readHeader(): number {
    const h = this.take(HEADER_BYTES);
    return h.readUInt32BE(0);
  }

  /** Removes n bytes from the front; a subarray when they sit in one chunk, else one copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
