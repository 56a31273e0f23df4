import fc from 'fast-check';
import { encodeFrame, FrameDecoder, type Frame, DefaultLimits, HEADER_BYTES } from '@corral/protocol';

const MAX = DefaultLimits.maxFrameBytes;

const samples: Frame[] = [
  { kind: 0, id: 1, op: 3, args: ['user:42'] },
  { kind: 0, id: 0xffffffff, op: 5, args: ['k', Buffer.from([0, 1, 2, 255]), { ttlMs: 1000, nx: true }] },
  { kind: 0, id: 2, op: 3, args: ['k'], meta: { epoch: 7, fallback: true } },
  { kind: 1, id: 7, result: null },
  { kind: 1, id: 8, result: [Buffer.from('value'), 3] },
  { kind: 2, id: 9, code: 'E_KEY_TOO_LONG', message: 'key is 2000 bytes' },
  { kind: 2, id: 0, code: 'E_NOT_OWNER', message: 'moved', details: { epoch: 12, owner: '127.0.0.2:7070' } },
  { kind: 3, push: 1, body: { epoch: 3, from: 10, to: 12, keys: ['a', 'b'] } },
  { kind: 3, push: 2, body: { epoch: 4, members: [] } },
];

function decodeAll(bytes: Buffer, splits: number[], copyBuffers = true): { frames: Frame[]; error?: string } {
  const d = new FrameDecoder(MAX, { copyBuffers });
  const frames: Frame[] = [];
  let at = 0;
  for (const cut of [...splits.filter((s) => s > 0 && s < bytes.length).sort((a, b) => a - b), bytes.length]) {
    const r = d.push(bytes.subarray(at, cut));
    frames.push(...r.frames);
    at = cut;
    if (r.error) return { frames, error: r.error.code };
  }
  return { frames };
}

describe('frame codec', () => {
  it.each(samples.map((f) => [f.kind, f] as const))('decodes kind %i as one chunk and byte by byte', (_k, frame) => {
    const bytes = encodeFrame(frame);
    expect(decodeAll(bytes, []).frames).toEqual([frame]);
    const d = new FrameDecoder(MAX);
    const got: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...d.push(bytes.subarray(i, i + 1)).frames);
    expect(got).toEqual([frame]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('decodes many frames from one chunk in order', () => {
    const bytes = Buffer.concat(samples.map(encodeFrame));
    expect(decodeAll(bytes, []).frames).toEqual(samples);
  });

  const arbValue: fc.Arbitrary<unknown> = fc.oneof(
    // -0 is excluded: msgpackr writes it as the integer 0, which no msgpack type can tell apart.
    fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
    fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
    fc.array(fc.string(), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1 }).filter((s) => s !== '__proto__'), fc.integer(), { maxKeys: 4 }),
  );
  const arbFrame: fc.Arbitrary<Frame> = fc.oneof(
    fc.record({ kind: fc.constant(0 as const), id: fc.nat(0xffffffff), op: fc.integer({ min: -5, max: 200 }), args: fc.array(arbValue, { maxLength: 5 }) }),
    fc.record({ kind: fc.constant(0 as const), id: fc.nat(0xffffffff), op: fc.nat(200), args: fc.array(arbValue, { maxLength: 3 }), meta: fc.record({ epoch: fc.nat(), fallback: fc.boolean() }, { requiredKeys: [] }) }),
    fc.record({ kind: fc.constant(1 as const), id: fc.nat(0xffffffff), result: arbValue }),
    fc.record({ kind: fc.constant(2 as const), id: fc.nat(0xffffffff), code: fc.string(), message: fc.string() }),
    fc.record({ kind: fc.constant(3 as const), push: fc.integer({ min: 0, max: 100 }), body: arbValue }),
  );

  it('decode(encode(x)) = x across arbitrary chunk splits', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(4000), { maxLength: 12 }), fc.boolean(), (frames, splits, copy) => {
        const bytes = Buffer.concat(frames.map(encodeFrame));
        const r = decodeAll(bytes, splits, copy);
        expect(r.error).toBeUndefined();
        expect(r.frames).toEqual(frames);
      }),
      { numRuns: 300 },
    );
  });

  it('splits every byte apart: one-byte chunks decode the same frames', () => {
    const bytes = Buffer.concat(samples.map(encodeFrame));
    expect(decodeAll(bytes, Array.from({ length: bytes.length }, (_x, i) => i)).frames).toEqual(samples);
  });

  it('copies binary fields out of the chunk unless told not to', () => {
    const chunk = encodeFrame({ kind: 1, id: 8, result: Buffer.from('value') });
    const copied = (new FrameDecoder(MAX).push(chunk).frames[0] as { result: Buffer }).result;
    const shared = (new FrameDecoder(MAX, { copyBuffers: false }).push(chunk).frames[0] as { result: Buffer }).result;
    chunk.fill(0x78, chunk.length - 5);
    expect(copied.toString()).toBe('value');
    expect(shared.toString()).toBe('xxxxx');
  });

  it('rejects a declared length over the limit from the header alone', () => {
    const d = new FrameDecoder(1024);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(0xffffffff, 0);
    const before = process.memoryUsage().arrayBuffers;
    const r = d.push(header);
    expect(r.error?.code).toBe('E_FRAME_TOO_LARGE');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    // the stream stays failed: framing is lost
    expect(d.push(encodeFrame(samples[0]!)).error?.code).toBe('E_FRAME_TOO_LARGE');
  });

  it('keeps frames decoded before a bad one, then fails', () => {
    const good = encodeFrame(samples[0]!);
    const garbage = Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]); // 0xc1 is never valid msgpack
    const r = decodeAll(Buffer.concat([good, garbage, good]), []);
    expect(r.frames).toEqual([samples[0]]);
    expect(r.error).toBe('E_BAD_FRAME');
  });

  it.each([
    ['not an array', 42],
    ['unknown kind', [9, 1, 2]],
    ['request without args array', [0, 1, 3, 'k']],
    ['negative id', [0, -1, 3, []]],
    ['error without message', [2, 1, 'E_X']],
    ['request with a bad meta', [0, 1, 3, [], { epoch: 'x' }]],
  ])('rejects a payload that is %s', (_name, payload) => {
    const { Packr } = jest.requireActual('msgpackr') as typeof import('msgpackr');
    const body = new Packr({ useRecords: false }).pack(payload);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
    expect(decodeAll(frame, []).error).toBe('E_BAD_FRAME');
  });

  it('rejects an empty frame and truncated msgpack', () => {
    expect(decodeAll(Buffer.from([0, 0, 0, 0]), []).error).toBe('E_BAD_FRAME');
    const full = encodeFrame(samples[1]!);
    const truncated = Buffer.from(full.subarray(0, full.length - 3));
    truncated.writeUInt32BE(truncated.length - HEADER_BYTES, 0);
    expect(decodeAll(truncated, []).error).toBe('E_BAD_FRAME');
  });
});
