import { CorralError, type OpName, ValueFlags } from '@corral/protocol';
import { respArray, respBulk, respError, respInt, respNull, respOk, respPong } from './encoder';

/**
 * What the RESP door needs from the node: run a native op (routed to the key's owner, which may be
 * another node) and a few node-level facts. Keeping the door on the native op table means a Redis
 * client gets exactly the semantics of the native protocol.
 */
export interface RespBackend {
  exec(op: OpName, args: unknown[]): unknown | Promise<unknown>;
  dbsize(): number;
  info(): Record<string, Record<string, string | number>>;
}

export type RespReply = Buffer | Promise<Buffer>;


const str = (b: Buffer | undefined) => (b === undefined ? '' : b.toString('utf8'));
const upper = (b: Buffer | undefined) => (b === undefined ? '' : b.toString('latin1').toUpperCase());

function intArg(b: Buffer | undefined): number {
  const s = b?.toString('latin1') ?? '';
  if (!/^-?\d{1,16}$/.test(s)) throw new CorralError('E_NOT_INTEGER', 'value is not an integer or out of range');
  return Number(s);
}

/** Maps a CorralError to the reply a Redis client expects. */
export function respErrorFor(e: unknown): Buffer {
  if (!(e instanceof CorralError)) return respError(`ERR ${(e as Error)?.message ?? String(e)}`);
  switch (e.code) {
    case 'E_NOT_INTEGER': return respError('ERR value is not an integer or out of range');
    case 'E_OVERFLOW': return respError('ERR increment or decrement would overflow');
    case 'E_OOM': return respError("OOM command not allowed when used memory > 'maxmemory'.");
    default: return respError(`ERR ${e.code} ${e.message}`);
  }
}

const wrongArgs = (name: string) => respError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);

/** Runs `f` and turns thrown CorralErrors (sync or async) into RESP error replies. */
function reply(f: () => unknown | Promise<unknown>, encode: (r: unknown) => Buffer): RespReply {
  try {
    const r = f();
    if (r instanceof Promise) return r.then(encode, respErrorFor);
    return encode(r);
  } catch (e) {
    return respErrorFor(e);
  }
}

function all(replies: RespReply[], combine: (bs: Buffer[]) => Buffer): RespReply {
  if (replies.every((r) => Buffer.isBuffer(r))) return combine(replies as Buffer[]);
  return Promise.all(replies).then(combine);
}

const valueOf = (r: unknown) => (r === null || r === undefined ? respNull : respBulk((r as [Buffer, number])[0]));

function set(b: RespBackend, a: Buffer[]): RespReply {
  if (a.length < 3) return wrongArgs('set');
  const opts: { ttlMs?: number; nx?: boolean; xx?: boolean; flags: number } = { flags: ValueFlags.Raw };
  for (let i = 3; i < a.length; i++) {
    const o = upper(a[i]);
    if (o === 'NX') opts.nx = true;
    else if (o === 'XX') opts.xx = true;
    else if (o === 'EX' || o === 'PX') {
      const n = Number(a[++i]?.toString('latin1'));
      if (!Number.isInteger(n) || n <= 0) return respError("ERR invalid expire time in 'set' command");
      opts.ttlMs = o === 'EX' ? n * 1000 : n;
    } else return respError('ERR syntax error');
  }
  if (opts.nx && opts.xx) return respError('ERR syntax error');
  return reply(() => b.exec('SET', [str(a[1]), a[2], opts]), (r) => (r === null ? respNull : respOk));
}

function expire(b: RespBackend, a: Buffer[], unitMs: number, name: string): RespReply {
  if (a.length !== 3) return wrongArgs(name);
  return reply(() => {
    const n = intArg(a[2]) * unitMs;
    // Redis deletes a key given a non-positive expiry.
    return n <= 0 ? b.exec('DEL', [str(a[1])]) : b.exec('TOUCH', [str(a[1]), n]);
  }, (r) => respInt(r ? 1 : 0));
}

function ttl(b: RespBackend, a: Buffer[], unitMs: number, name: string): RespReply {
  if (a.length !== 2) return wrongArgs(name);
  return reply(() => b.exec('TTL', [str(a[1])]), (r) => {
    const ms = r as number;
    return respInt(ms < 0 ? ms : unitMs === 1 ? ms : Math.round(ms / 1000));
  });
}

function incr(b: RespBackend, key: Buffer | undefined, delta: () => number): RespReply {
  return reply(() => b.exec('INCRBY', [str(key), delta()]), (r) => respInt(r as number));
}

function perKey(b: RespBackend, keys: Buffer[], op: OpName): RespReply {
  return all(keys.map((k) => reply(() => b.exec(op, [str(k)]), (r) => respInt(r ? 1 : 0))),
    (bs) => respInt(bs.reduce((n, x) => n + (x.toString() === ':1\r\n' ? 1 : 0), 0)));
}

function infoText(b: RespBackend): string {
  return Object.entries(b.info()).map(([section, kv]) =>
    `# ${section}\r\n${Object.entries(kv).map(([k, v]) => `${k}:${v}`).join('\r\n')}\r\n`).join('\r\n');
}

/** Executes one RESP command. Unknown commands and bad arity get Redis-style errors, never a throw. */
export function runRespCommand(b: RespBackend, a: Buffer[]): RespReply | 'QUIT' {
  const name = upper(a[0]);
  switch (name) {
    case 'PING': return a.length > 1 ? respBulk(a[1]) : respPong;
    case 'ECHO': return a.length === 2 ? respBulk(a[1]) : wrongArgs(name);
    case 'QUIT': return 'QUIT';
    case 'GET': return a.length === 2 ? reply(() => b.exec('GET', [str(a[1])]), valueOf) : wrongArgs(name);
    case 'SET': return set(b, a);
    case 'SETNX': return a.length === 3 ? reply(() => b.exec('SET', [str(a[1]), a[2], { nx: true, flags: 0 }]), (r) => respInt(r === null ? 0 : 1)) : wrongArgs(name);
    case 'SETEX': case 'PSETEX':
      if (a.length !== 4) return wrongArgs(name);
      return reply(() => b.exec('SET', [str(a[1]), a[3], { flags: 0, ttlMs: intArg(a[2]) * (name === 'SETEX' ? 1000 : 1) }]), () => respOk);
    case 'DEL': case 'UNLINK': return a.length >= 2 ? perKey(b, a.slice(1), 'DEL') : wrongArgs(name);
    case 'EXISTS': return a.length >= 2 ? perKey(b, a.slice(1), 'EXISTS') : wrongArgs(name);
    case 'MGET':
      if (a.length < 2) return wrongArgs(name);
      return all(a.slice(1).map((k) => reply(() => b.exec('GET', [str(k)]), valueOf)), respArray);
    case 'MSET':
      if (a.length < 3 || a.length % 2 === 0) return wrongArgs(name);
      return all(Array.from({ length: (a.length - 1) / 2 }, (_x, i) =>
        reply(() => b.exec('SET', [str(a[1 + 2 * i]), a[2 + 2 * i], { flags: 0 }]), () => respOk)),
      (bs) => bs.find((x) => x[0] === 0x2d) ?? respOk);
    case 'EXPIRE': return expire(b, a, 1000, name);
    case 'PEXPIRE': return expire(b, a, 1, name);
    case 'PERSIST': return a.length === 2 ? reply(() => b.exec('TOUCH', [str(a[1]), 0]), (r) => respInt(r ? 1 : 0)) : wrongArgs(name);
    case 'TTL': return ttl(b, a, 1000, name);
    case 'PTTL': return ttl(b, a, 1, name);
    case 'INCR': return a.length === 2 ? incr(b, a[1], () => 1) : wrongArgs(name);
    case 'DECR': return a.length === 2 ? incr(b, a[1], () => -1) : wrongArgs(name);
    case 'INCRBY': return a.length === 3 ? incr(b, a[1], () => intArg(a[2])) : wrongArgs(name);
    case 'DECRBY': return a.length === 3 ? incr(b, a[1], () => -intArg(a[2])) : wrongArgs(name);
    case 'DBSIZE': return respInt(b.dbsize());
    case 'INFO': return respBulk(infoText(b));
    case 'SELECT': return str(a[1]) === '0' ? respOk : respError('ERR DB index is out of range');
    case 'CLIENT': return respOk; // SETNAME / SETINFO from client libraries
    case 'HELLO': return respError('NOPROTO this server speaks RESP2 only');
    case 'CONFIG': {
      const sub = upper(a[1]);
      if (sub === 'GET') {
        // redis-benchmark reads save/appendonly; answer what a cache-only server would.
        const known: Record<string, string> = { save: '', appendonly: 'no' };
        const pat = str(a[2]);
        const hits = Object.entries(known).filter(([k]) => pat === '*' || k === pat);
        return respArray(hits.flatMap(([k, v]) => [respBulk(k), respBulk(v)]));
      }
      if (sub === 'SET' || sub === 'RESETSTAT') return respOk;
      return respError(`ERR unknown subcommand '${str(a[1])}' for 'config'`);
    }
    case 'COMMAND': {
      const sub = upper(a[1]);
      if (sub === 'COUNT') return respInt(KNOWN.length);
      return respArray([]); // redis-cli copes with an empty command table (no hints)
    }
    default:
      return respError(`ERR unknown command '${str(a[0]).slice(0, 64)}', with args beginning with: ${a.slice(1, 4).map((x) => `'${str(x).slice(0, 32)}'`).join(' ')}`);
  }
}

export const KNOWN = ['PING', 'ECHO', 'QUIT', 'GET', 'SET', 'SETNX', 'SETEX', 'PSETEX', 'DEL', 'UNLINK', 'EXISTS', 'MGET', 'MSET',
  'EXPIRE', 'PEXPIRE', 'PERSIST', 'TTL', 'PTTL', 'INCR', 'DECR', 'INCRBY', 'DECRBY', 'DBSIZE', 'INFO', 'SELECT', 'CLIENT', 'CONFIG', 'COMMAND'];
