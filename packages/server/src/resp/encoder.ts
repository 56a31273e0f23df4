/** RESP2 reply encoders. Replies are built as Buffers and written once per input chunk. */
const CRLF = '\r\n';

export const respOk = Buffer.from('+OK\r\n');
export const respNull = Buffer.from('$-1\r\n');
export const respNullArray = Buffer.from('*-1\r\n');
export const respPong = Buffer.from('+PONG\r\n');

export const respSimple = (s: string): Buffer => Buffer.from(`+${s}${CRLF}`);
/** Errors keep Redis's conventions: a leading word (ERR, WRONGTYPE, …), no newlines. */
export const respError = (s: string): Buffer => Buffer.from(`-${s.replace(/[\r\n]+/g, ' ')}${CRLF}`);
export const respInt = (n: number): Buffer => Buffer.from(`:${n}${CRLF}`);

/** One allocation per bulk reply: `$len\r\n` + body + `\r\n` (GET is the hot path of the door). */
export function respBulk(v: Uint8Array | string | null | undefined): Buffer {
  if (v === null || v === undefined) return respNull;
  const body = typeof v === 'string' ? Buffer.from(v) : v;
  const head = `$${body.length}${CRLF}`;
  const out = Buffer.allocUnsafe(head.length + body.length + 2);
  out.write(head, 0, 'latin1');
  out.set(body, head.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

export function respArray(items: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`*${items.length}${CRLF}`), ...items]);
}
