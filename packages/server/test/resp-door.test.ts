import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestCluster, type TestCluster } from '@corral/test-utils';

const run = promisify(execFile);

/** redis-cli is installed by scripts/ensure-test-deps.sh (npm test runs it first). */
async function cli(host: string, port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', host, '-p', String(port), ...args], { timeout: 10_000 });
  return stdout.trim();
}

describe('the RESP door, driven by redis-cli', () => {
  let cluster: TestCluster;
  const door = (i: number) => ({ host: cluster.nodes[i]!.host, port: cluster.nodes[i]!.node.respPort! });

  beforeAll(async () => { cluster = await startTestCluster(3, { respPort: 0 }); });
  afterAll(async () => { await cluster.stop(); });

  it('SETs and GETs keys owned by every node through any node', async () => {
    const view = cluster.nodes[0]!.node.cluster;
    // One key per owner, found by asking the ring.
    const keys = new Map<string, string>();
    for (let i = 0; keys.size < 3 && i < 1000; i++) if (!keys.has(view.ownerOf(`user:${i}`))) keys.set(view.ownerOf(`user:${i}`), `user:${i}`);
    expect(keys.size).toBe(3);
    for (const [owner, key] of keys) {
      for (let via = 0; via < 3; via++) {
        const d = door(via);
        expect(await cli(d.host, d.port, 'SET', key, `v-${via}`)).toBe('OK');
        expect(await cli(door((via + 1) % 3).host, door((via + 1) % 3).port, 'GET', key)).toBe(`v-${via}`);
      }
      // The value lives only on its owner.
      for (const t of cluster.nodes) expect(t.node.store.exists(key)).toBe(`${t.host}:${t.port}` === owner);
    }
  });

  it('speaks enough Redis for redis-cli: PING, ECHO, EX/NX/XX, INCR, TTL, MGET, DEL, DBSIZE, INFO', async () => {
    const d = door(0);
    expect(await cli(d.host, d.port, 'PING')).toBe('PONG');
    expect(await cli(d.host, d.port, 'ECHO', 'hi')).toBe('hi');
    expect(await cli(d.host, d.port, 'SET', 'ttl:k', 'v', 'EX', '100')).toBe('OK');
    const ttl = Number(await cli(d.host, d.port, 'TTL', 'ttl:k'));
    expect(ttl).toBeGreaterThan(95);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await cli(d.host, d.port, 'SET', 'ttl:k', 'w', 'NX')).toBe('');
    expect(await cli(d.host, d.port, 'SET', 'absent:k', 'w', 'XX')).toBe('');
    expect(await cli(d.host, d.port, 'INCR', 'counter')).toBe('1');
    expect(await cli(d.host, d.port, 'INCRBY', 'counter', '41')).toBe('42');
    expect(await cli(d.host, d.port, 'MGET', 'counter', 'absent:k', 'ttl:k')).toBe('42\n\nv');
    expect(await cli(d.host, d.port, 'DEL', 'counter', 'absent:k')).toBe('1');
    expect(Number(await cli(d.host, d.port, 'DBSIZE'))).toBeGreaterThanOrEqual(0);
    expect(await cli(d.host, d.port, 'INFO')).toMatch(/redis_version:/);
  });

  it('answers mistakes with RESP errors and keeps serving', async () => {
    const d = door(1);
    expect(await cli(d.host, d.port, 'NOSUCHCOMMAND', 'x')).toMatch(/ERR unknown command/);
    expect(await cli(d.host, d.port, 'GET')).toMatch(/ERR wrong number of arguments/);
    expect(await cli(d.host, d.port, 'SET', 'text', 'abc')).toBe('OK');
    expect(await cli(d.host, d.port, 'INCR', 'text')).toMatch(/ERR value is not an integer/);
    expect(await cli(d.host, d.port, 'SET', 'k', 'v', 'EX', 'soon')).toMatch(/ERR invalid expire time/);
    expect(await cli(d.host, d.port, 'PING')).toBe('PONG');
  });
});
