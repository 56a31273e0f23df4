/**
 * Values the harness writes carry which write they are: a magic, the key's index and the write's
 * sequence number for that key. A read can then tell, without any other bookkeeping on the
 * nodes, whether it saw the latest acknowledged write or an older one (a stale read), and a
 * value that does not decode means something overwrote it from outside the run.
 */
const MAGIC = 0x43524c31; // "CRL1"
const HEADER = 12;

export interface DecodedValue { index: number; seq: number }

export class ValueCodec {
  constructor(private readonly size: { min: number; max: number }) {
    if (size.min < HEADER) throw new RangeError(`values must be at least ${HEADER} bytes`);
  }

  /** A value's size is fixed per key (so rewrites do not change memory use), spread over [min, max]. */
  sizeOf(index: number): number {
    const span = this.size.max - this.size.min + 1;
    return this.size.min + (Math.imul(index + 1, 0x9e3779b1) >>> 0) % span;
  }

  encode(index: number, seq: number): Buffer {
    const b = Buffer.alloc(this.sizeOf(index), 0x2e);
    b.writeUInt32BE(MAGIC, 0);
    b.writeUInt32BE(index >>> 0, 4);
    b.writeUInt32BE(seq >>> 0, 8);
    return b;
  }

  decode(value: unknown): DecodedValue | undefined {
    if (!Buffer.isBuffer(value) || value.length < HEADER || value.readUInt32BE(0) !== MAGIC) return undefined;
    return { index: value.readUInt32BE(4), seq: value.readUInt32BE(8) };
  }
}
