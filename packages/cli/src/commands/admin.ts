import { Command } from 'commander';
import { Corral } from '@corral/client';
import { CorralError } from '@corral/protocol';
import { asAddress, asDuration, envOption } from '../options';
import { printTable } from '../table';

interface ConnFlags { node: string; timeout: number; adminToken?: string }

const nodeOption = () => envOption('--node <host:port>', 'the node to talk to', 'CORRAL_NODE').argParser(asAddress).default('127.0.0.1:7070');
const timeoutOption = () => envOption('--timeout <duration>', 'give up after this long', 'CORRAL_TIMEOUT').argParser(asDuration).default(2000, '2s');
const tokenOption = () => envOption('--admin-token <token>', 'admin token, when the node has one', 'CORRAL_ADMIN_TOKEN');

async function withClient<T>(f: ConnFlags, fn: (c: Corral) => Promise<T>): Promise<T> {
  const cache = await Corral.connect({ seeds: [f.node], timeoutMs: f.timeout, auth: f.adminToken, name: 'corral-cli' });
  try {
    return await fn(cache);
  } finally {
    await cache.close();
  }
}

/** Prints a value the way a person wants to read it: text as text, structures as JSON, bytes as hex. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return /^[\x20-\x7e\s]*$/.test(v.toString('latin1')) ? v.toString('latin1') : `0x${v.toString('hex')}`;
  return JSON.stringify(v);
}

function parseValue(raw: string, json: boolean): unknown {
  if (!json) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    throw new CorralError('E_BAD_ARGS', `--json was given but "${raw}" is not JSON`);
  }
}

export function adminCommands(): Command[] {
  const ping = new Command('ping').description('check that a node answers, and how fast')
    .addOption(nodeOption()).addOption(timeoutOption())
    .action(async (f: ConnFlags) => withClient(f, async (c) => {
      const t0 = performance.now();
      await c.ping();
      console.log(`PONG from ${f.node} in ${(performance.now() - t0).toFixed(2)} ms`);
    }));

  const get = new Command('get').argument('<key>').description('print the value of a key (exit 1 when missing)')
    .addOption(nodeOption()).addOption(timeoutOption())
    .action(async (key: string, f: ConnFlags) => withClient(f, async (c) => {
      const r = await c.gets(key);
      if (r === undefined) {
        console.error(`(missing) ${key}`);
        process.exitCode = 1;
        return;
      }
      console.log(formatValue(r.value));
      console.error(`version ${r.version}, ttl ${Number.isFinite(r.ttlMs) ? `${r.ttlMs} ms` : 'none'}`);
    }));

  const set = new Command('set').argument('<key>').argument('<value>').description('write a key (the value is text unless --json)')
    .option('--ttl <duration>', 'expire after this long (e.g. 30s)', asDuration)
    .option('--json', 'parse the value as JSON and store it as a structure')
    .option('--nx', 'only if the key does not exist')
    .option('--xx', 'only if the key exists')
    .addOption(nodeOption()).addOption(timeoutOption())
    .action(async (key: string, value: string, f: ConnFlags & { ttl?: number; json?: boolean; nx?: boolean; xx?: boolean }) =>
      withClient(f, async (c) => {
        const v = await c.set(key, parseValue(value, !!f.json), { ttlMs: f.ttl, nx: f.nx, xx: f.xx });
        if (v === undefined) {
          console.log(`not set: the ${f.nx ? '--nx' : '--xx'} condition was not met`);
          process.exitCode = 1;
        } else console.log(`OK version ${v}`);
      }));

  const del = new Command('del').argument('<key>').description('delete a key')
    .addOption(nodeOption()).addOption(timeoutOption())
    .action(async (key: string, f: ConnFlags) => withClient(f, async (c) => {
      console.log((await c.del(key)) ? `deleted ${key}` : `(missing) ${key}`);
    }));

  const stats = new Command('stats').description('print a node\'s statistics as a table')
    .option('--json', 'print JSON instead of a table')
    .addOption(nodeOption()).addOption(timeoutOption())
    .action(async (f: ConnFlags & { json?: boolean }) => withClient(f, async (c) => {
      const s = await c.stats();
      if (f.json) console.log(JSON.stringify(s, null, 2));
      else printTable(['stat', 'value'], flatten(s).map(([k, v]) => [k, String(v)]));
    }));

  const flush = new Command('flush').description('remove every entry from a node (admin)')
    .addOption(nodeOption()).addOption(timeoutOption()).addOption(tokenOption())
    .action(async (f: ConnFlags) => withClient(f, async (c) => {
      console.log(`flushed ${await c.flush()} entries from ${f.node}`);
    }));

  return [ping, get, set, del, stats, flush];
}

function flatten(o: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [[prefix, Array.isArray(o) ? JSON.stringify(o) : o]];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}
