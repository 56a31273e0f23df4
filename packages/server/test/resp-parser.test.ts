import fc from 'fast-check';
import { RespParser } from '../src/resp';

const limits = { maxBulkBytes: 1024, maxArgs: 16, maxInlineBytes: 256 };
const encode = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const asStrings = (cmds: Buffer[][]) => cmds.map((c) => c.map((b) => b.toString()));

describe('RESP parser', () => {
  it('parses multibulk and inline commands across any split', () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(400), { maxLength: 10 }),
      (cmds, cuts) => {
        const bytes = Buffer.from(cmds.map(encode).join('') + 'PING hello\r\n');
        const p = new RespParser(limits);
        const got: Buffer[][] = [];
        let at = 0;
        for (const c of [...cuts.filter((x) => x < bytes.length).sort((a, b) => a - b), bytes.length]) {
          got.push(...p.push(bytes.subarray(at, c)));
          at = c;
        }
        expect(asStrings(got)).toEqual([...cmds, ['PING', 'hello']]);
      }), { numRuns: 200 });
  });

  it('rejects lengths over the limits before reading the data', () => {
    expect(() => new RespParser(limits).push(Buffer.from('*1\r\n$999999999\r\n'))).toThrow(/invalid bulk length/);
    expect(() => new RespParser(limits).push(Buffer.from('*100000\r\n'))).toThrow(/invalid multibulk length/);
    expect(() => new RespParser(limits).push(Buffer.from('x'.repeat(300)))).toThrow(/too big inline/);
    expect(() => new RespParser(limits).push(Buffer.from('*1\r\n+bad\r\n'))).toThrow(/expected '\$'/);
    expect(() => new RespParser(limits).push(Buffer.from('*x\r\n'))).toThrow(/invalid length/);
  });

  it('keeps binary arguments intact', () => {
    const bin = Buffer.from([0, 13, 10, 255]);
    const bytes = Buffer.concat([Buffer.from('*2\r\n$3\r\nGET\r\n$4\r\n'), bin, Buffer.from('\r\n')]);
    const [cmd] = new RespParser(limits).push(bytes);
    expect(cmd![1]).toEqual(bin);
  });
});
