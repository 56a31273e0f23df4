import { PushKind, type Frame } from '@corral/protocol';
import { RawConnection, runCli, spawnNodeProcess, type NodeProcess } from '@corral/test-utils';

/**
 * `corral node start`'s invalidation-stream and hot-key flags, seen from outside: real node
 * processes started through the compiled CLI (`npx tsc -b` first), observed over their sockets.
 */

const procs: NodeProcess[] = [];
const conns: RawConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  await Promise.all(procs.splice(0).map(async (p) => { p.kill('SIGKILL'); await p.exited; }));
});

async function start(args: string[], env?: NodeJS.ProcessEnv): Promise<{ proc: NodeProcess; conn: RawConnection }> {
  const proc = await spawnNodeProcess(args, env && { env });
  procs.push(proc);
  const conn = await RawConnection.connect(proc.port);
  conns.push(conn);
  await conn.call('HELLO', [1]); // pushes (heartbeats) go only to connections that said HELLO
  return { proc, conn };
}

const stat = async (conn: RawConnection, name: string) => ((await conn.call('STATS')) as Record<string, number>)[name];

/** Reads `key` n times, pipelined; resolves once the last reply is in. */
async function read(conn: RawConnection, key: string, n: number): Promise<void> {
  let last = 0;
  for (let i = 0; i < n; i++) last = conn.send('GET', [key]);
  await conn.reply(last);
}

const isHeartbeat = (f: Frame) => f.kind === 3 && f.push === PushKind.Heartbeat;

test('--invalidation-heartbeat, --invalidation-log-entries and --hot-key-threshold/--hot-key-half-life reach the node', async () => {
  const { proc, conn } = await start([
    '--invalidation-heartbeat', '250ms', '--invalidation-log-entries', '8',
    '--hot-key-threshold', '20', '--hot-key-half-life', '1h',
  ]);

  // The heartbeat period: the subscription says it, and the pushes keep to it.
  const sub = (await conn.call('INVALIDATIONS_SUBSCRIBE', [{ mode: 'broadcast' }])) as { epoch: number; seq: number; heartbeatMs: number };
  expect(sub.heartbeatMs).toBe(250);
  await new Promise((r) => setTimeout(r, 1_200));
  const beats = conn.frames.filter(isHeartbeat).length;
  expect(beats).toBeGreaterThanOrEqual(1);
  expect(beats).toBeLessThanOrEqual(6); // 1.2 s / 250 ms, + 1 for timer phase; the default 100 ms would give ~12

  // An 8-entry log: 5 changes back can be replayed, 20 back cannot.
  for (let i = 0; i < 20; i++) await conn.call('SET', [`k${i}`, Buffer.from('v')]);
  expect(await conn.call('INVALIDATIONS_SINCE', [sub.epoch, sub.seq + 15])).toMatchObject({ from: sub.seq + 16, to: sub.seq + 20 });
  expect(await conn.call('INVALIDATIONS_SINCE', [sub.epoch, sub.seq])).toMatchObject({ lost: true });

  // Threshold 20 with an hour's half-life (the count barely decays: 20 reads over a few ms make
  // 19.9999…): 19 reads of a key are not enough, 21 are.
  await conn.call('SET', ['popular', Buffer.from('v')]);
  await read(conn, 'popular', 19);
  expect(await stat(conn, 'hotKeysDetected')).toBe(0);
  await read(conn, 'popular', 2);
  expect(await stat(conn, 'hotKeysDetected')).toBe(1);
  expect(await proc.waitForLog((l) => l['msg'] === 'cache_stampede_detected')).toMatchObject({ key: 'popular', threshold: 20, count: 21 });
});

test('environment twins set the same settings; --no-hot-keys turns detection off', async () => {
  const a = await start([], { CORRAL_INVALIDATION_HEARTBEAT: '300ms', CORRAL_HOT_KEY_THRESHOLD: '5', CORRAL_HOT_KEY_HALF_LIFE: '1h' });
  expect(await a.conn.call('INVALIDATIONS_SUBSCRIBE', [{ mode: 'none' }])).toMatchObject({ heartbeatMs: 300 });
  await a.conn.call('SET', ['k', Buffer.from('v')]);
  await read(a.conn, 'k', 4);
  expect(await stat(a.conn, 'hotKeysDetected')).toBe(0);
  await read(a.conn, 'k', 2);
  expect(await stat(a.conn, 'hotKeysDetected')).toBe(1);

  const b = await start(['--no-hot-keys', '--hot-key-threshold', '5']);
  await b.conn.call('SET', ['k', Buffer.from('v')]);
  await read(b.conn, 'k', 100);
  expect(await stat(b.conn, 'hotKeysDetected')).toBe(0);
});

test('--config-json reaches NodeConfig fields without a flag, and refuses those a flag sets', async () => {
  const { conn } = await start(['--config-json', JSON.stringify({ invalidation: { testHooks: true } })]);
  expect(await conn.call('INVALIDATION_FAULTS', [{}])).toMatchObject({ dropPerMille: 0 });

  const clash = await runCli(['node', 'start', '--port', '0', '--no-gossip', '--config-json', JSON.stringify({ hotKeys: { threshold: 5 } })], 20_000);
  expect(clash.code).toBe(1);
  expect(clash.stderr).toContain('--config-json sets hotKeys.threshold, which a flag sets');
});

test('out-of-range values are refused before a node starts, naming the flag', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['--invalidation-heartbeat', '0', /--invalidation-heartbeat.*must be more than 0/],
    ['--invalidation-log-size', 'lots', /--invalidation-log-size.*invalid size/],
    ['--hot-key-cool-fraction', '1.5', /--hot-key-cool-fraction.*not a fraction in \(0, 1\]/],
    ['--tracking-max-keys', '-1', /--tracking-max-keys.*not a non-negative integer/],
  ];
  for (const [flag, value, message] of cases) {
    const r = await runCli(['node', 'start', '--port', '0', '--no-gossip', flag, value], 20_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toContain('node_listening');
  }
});
