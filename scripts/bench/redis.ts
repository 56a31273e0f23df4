import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { medianResult, type LoadResult } from './load';

const run = promisify(execFile);

/** Installs redis-server / redis-benchmark through the project's script when they are missing. */
export function ensureRedisTools(): void {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server && command -v redis-benchmark'], { stdio: 'ignore' });
  } catch {
    execFileSync('bash', [join(__dirname, '..', 'ensure-test-deps.sh')], { stdio: 'inherit' });
  }
}

export interface RedisServer { port: number; stop(): Promise<void> }

/** A throwaway redis-server on loopback: no persistence, stopped after the bench. */
export async function startRedisServer(port: number): Promise<RedisServer> {
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'PING']);
      if (stdout.trim() === 'PONG') break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface RedisBenchmarkOptions { host: string; port: number; test: 'set' | 'get'; clients: number; requests: number; pipeline: number; valueSize: number; keys: number }

/** One redis-benchmark run (CSV output): rps and latency percentiles in microseconds. */
export async function redisBenchmark(o: RedisBenchmarkOptions): Promise<LoadResult> {
  const args = ['-h', o.host, '-p', String(o.port), '-t', o.test, '-c', String(o.clients), '-n', String(o.requests),
    '-P', String(o.pipeline), '-d', String(o.valueSize), '-r', String(o.keys), '--csv'];
  const { stdout } = await run('redis-benchmark', args, { timeout: 120_000 });
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const line = stdout.trim().split('\n').find((l) => /^"(SET|GET)"/.test(l));
  if (!line) throw new Error(`unexpected redis-benchmark output:\n${stdout}`);
  const f = line.split(',').map((x) => Number(x.replace(/"/g, '')));
  return { ops: o.requests, errors: 0, opsPerSec: f[1]!, p50Us: f[4]! * 1000, p99Us: f[6]! * 1000, maxUs: f[7]! * 1000 };
}

export async function medianOf(runs: number, f: () => Promise<LoadResult>): Promise<LoadResult> {
  const rs: LoadResult[] = [];
  for (let i = 0; i < runs; i++) rs.push(await f());
  return medianResult(rs);
}
