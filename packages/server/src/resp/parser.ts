/**
 * Incremental RESP2 request parser: multibulk arrays (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every
 * client library sends) and inline commands (`PING\r\n`, what telnet users type). Like the native
 * decoder it accepts any split of the stream and checks declared lengths against limits before
 * allocating. Arguments are Buffers (binary-safe).
 */
export interface RespLimits {
  maxBulkBytes: number;
  maxArgs: number;
  maxInlineBytes: number;
}

export class RespProtocolError extends Error {}

const CR = 13;
const LF = 10;

export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private failed: RespProtocolError | undefined;

  constructor(private readonly limits: RespLimits) {}

  /** Feeds bytes; returns complete commands. Throws RespProtocolError once framing is lost. */
  push(chunk: Buffer): Buffer[][] {
    if (this.failed) throw this.failed;
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    const out: Buffer[][] = [];
    try {
      for (;;) {
        const cmd = this.buf[this.pos] === 0x2a /* '*' */ ? this.multibulk() : this.inline();
        if (cmd === undefined) break;
        if (cmd.length > 0) out.push(cmd);
      }
    } catch (e) {
      this.failed = e instanceof RespProtocolError ? e : new RespProtocolError(String(e));
      throw this.failed;
    }
    return out;
  }

  /** Index of the CR of the next CRLF at or after `from`, or -1 while incomplete. */
  private lineEnd(from: number, max: number): number {
    const i = this.buf.indexOf(LF, from);
    if (i < 0) {
      if (this.buf.length - from > max) throw new RespProtocolError('Protocol error: too big inline request');
      return -1;
    }
    if (i - from > max) throw new RespProtocolError('Protocol error: too big inline request');
    return this.buf[i - 1] === CR ? i - 1 : i;
  }

  private readInt(from: number, end: number): number {
    let n = 0;
    let neg = false;
    let i = from;
    if (this.buf[i] === 0x2d) { neg = true; i++; }
    if (i >= end) throw new RespProtocolError('Protocol error: invalid length');
    for (; i < end; i++) {
      const c = this.buf[i]! - 48;
      if (c < 0 || c > 9 || n > 1e12) throw new RespProtocolError('Protocol error: invalid length');
      n = n * 10 + c;
    }
    return neg ? -n : n;
  }

  private multibulk(): Buffer[] | undefined {
    const start = this.pos;
    const e = this.lineEnd(start + 1, 32);
    if (e < 0) return undefined;
    const count = this.readInt(start + 1, e);
    let p = e + (this.buf[e] === CR ? 2 : 1);
    if (count <= 0) { this.pos = p; return []; }
    if (count > this.limits.maxArgs) throw new RespProtocolError(`Protocol error: invalid multibulk length (limit ${this.limits.maxArgs})`);
    const args: Buffer[] = [];
    for (let k = 0; k < count; k++) {
      if (p >= this.buf.length) return undefined;
      if (this.buf[p] !== 0x24 /* '$' */) throw new RespProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(this.buf[p]!)}'`);
      const le = this.lineEnd(p + 1, 32);
      if (le < 0) return undefined;
      const len = this.readInt(p + 1, le);
      if (len < 0 || len > this.limits.maxBulkBytes) throw new RespProtocolError(`Protocol error: invalid bulk length (limit ${this.limits.maxBulkBytes})`);
      const dataStart = le + (this.buf[le] === CR ? 2 : 1);
      if (dataStart + len + 2 > this.buf.length) return undefined;
      // Copy: an argument may become a stored value and must not pin the socket chunk.
      args.push(Buffer.from(this.buf.subarray(dataStart, dataStart + len)));
      p = dataStart + len + 2;
    }
    this.pos = p;
    return args;
  }

  private inline(): Buffer[] | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const e = this.lineEnd(this.pos, this.limits.maxInlineBytes);
    if (e < 0) return undefined;
    const line = this.buf.toString('latin1', this.pos, e);
    this.pos = e + (this.buf[e] === CR ? 2 : 1);
    return line.split(/\s+/).filter((s) => s.length > 0).map((s) => Buffer.from(s, 'latin1'));
  }
}
