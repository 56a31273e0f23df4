import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeValue } from '@corral/protocol';
import { RawConnection, REPO_ROOT, spawnNodeProcess, type NodeProcess } from '@corral/test-utils';

/**
 * `corral warm` end to end: the compiled CLI (`npx tsc -b` first) against a real node process,
 * with loader modules written to a temp dir.
 */

const CLI = join(REPO_ROOT, 'packages', 'cli', 'bin', 'corral.js');
let dir: string;
let node: NodeProcess;
let conn: RawConnection;

beforeAll(async () => {
  node = await spawnNodeProcess(['--shutdown-grace', '1s']);
  conn = await RawConnection.connect(node.port);
});
afterAll(() => { conn.close(); node.kill('SIGKILL'); });
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'corral-warm-cli-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function corral(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function cached(key: string): Promise<unknown> {
  const r = (await conn.call('GET', [key])) as [Uint8Array, number] | null;
  return r === null ? undefined : decodeValue(r[0], r[1]);
}

test('loads every key through a CommonJS loader with a summary; a second run skips them all', async () => {
  const keys = Array.from({ length: 200 }, (_, i) => `product:${i}`);
  writeFileSync(join(dir, 'keys.txt'), `# hottest first\n${keys.join('\n')}\n\nproduct:0\n`);
  const calls = join(dir, 'calls.log');
  writeFileSync(join(dir, 'loader.js'), `
    const fs = require('node:fs');
    exports.load = async function load(key) {
      fs.appendFileSync(${JSON.stringify(calls)}, key + '\\n');
      await new Promise((r) => setTimeout(r, 2));
      return { key, price: key.length };
    };`);
  const seed = `${node.host}:${node.port}`;
  const args = ['warm', '--keys', join(dir, 'keys.txt'), '--loader', join(dir, 'loader.js'), '--seed', seed, '--concurrency', '8', '--ttl', '60s'];
  const first = await corral(args);
  expect(first.stderr).not.toMatch(/failed product/);
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^warmed 200 keys in \d+\.\d\d s: 200 loaded, 0 skipped \(already cached\), 0 failed$/m);
  expect(readFileSync(calls, 'utf8').trim().split('\n').sort()).toEqual([...keys].sort()); // once each (the duplicate line too)
  expect(await cached('product:42')).toEqual({ key: 'product:42', price: 10 });
  const ttl = (await conn.call('TTL', ['product:42'])) as number;
  expect(ttl).toBeGreaterThan(50_000);
  expect(ttl).toBeLessThanOrEqual(60_000);

  const second = await corral([...args, '--json']);
  expect(second.code).toBe(0);
  expect(JSON.parse(second.stdout)).toMatchObject({ total: 200, loaded: 0, skipped: 200, failed: 0, errors: [] });
  expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(200);
});

test('an ES module loader (default export) and a JSON keys file; failed keys are reported and exit 1', async () => {
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(['esm:1', 'esm:2', 'bad:3', 'esm:4']));
  writeFileSync(join(dir, 'loader.mjs'), `
    export default async function (key) {
      if (key.startsWith('bad:')) throw new Error('row not found: ' + key);
      return 'value of ' + key;
    }`);
  const r = await corral(['warm', '--keys', join(dir, 'keys.json'), '--loader', join(dir, 'loader.mjs'), '--seed', `${node.host}:${node.port}`, '--json']);
  expect(r.code).toBe(1);
  const summary = JSON.parse(r.stdout) as { loaded: number; failed: number; errors: Array<{ key: string; error: string }> };
  expect(summary).toMatchObject({ loaded: 3, failed: 1 });
  expect(summary.errors).toEqual([{ key: 'bad:3', error: 'row not found: bad:3' }]);
  expect(await cached('esm:4')).toBe('value of esm:4');
  expect(await cached('bad:3')).toBeUndefined();
});

test('usage errors: no keys source, a module without a loader', async () => {
  writeFileSync(join(dir, 'nothing.js'), 'exports.other = 1;');
  const noKeys = await corral(['warm', '--loader', join(dir, 'nothing.js'), '--seed', `${node.host}:${node.port}`]);
  expect(noKeys.code).toBe(1);
  expect(noKeys.stderr).toMatch(/--keys FILE, --from-snapshot/);
  writeFileSync(join(dir, 'k.txt'), 'a\n');
  const noLoader = await corral(['warm', '--keys', join(dir, 'k.txt'), '--loader', join(dir, 'nothing.js'), '--seed', `${node.host}:${node.port}`]);
  expect(noLoader.code).toBe(1);
  expect(noLoader.stderr).toMatch(/exports no loader/);
});

test('--from-snapshot reloads what a keys-mode snapshot listed after a restart', async () => {
  const file = join(dir, 'node.snap');
  const a = await spawnNodeProcess(['--snapshot-file', file, '--snapshot-mode', 'keys']);
  try {
    const c = await RawConnection.connect(a.port);
    for (let i = 0; i < 30; i++) await c.call('SET', [`snap:${i}`, Buffer.from('old')]);
    c.close();
    a.kill('SIGTERM');
    await a.exited;
  } finally {
    a.kill('SIGKILL');
  }
  const b = await spawnNodeProcess(['--snapshot-file', file, '--snapshot-mode', 'keys']);
  try {
    writeFileSync(join(dir, 'loader.js'), 'module.exports = async (key) => "fresh " + key;');
    const r = await corral(['warm', '--from-snapshot', '--loader', join(dir, 'loader.js'), '--seed', `${b.host}:${b.port}`, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 30, loaded: 30, failed: 0 });
    const c = await RawConnection.connect(b.port);
    const got = (await c.call('GET', ['snap:7'])) as [Uint8Array, number];
    expect(decodeValue(got[0], got[1])).toBe('fresh snap:7');
    c.close();
  } finally {
    b.kill('SIGKILL');
  }
});
