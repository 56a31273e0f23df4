/** Child processes of the thundering-herd benchmark: the three nodes (compiled) and the client workers (ts-node). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'corral.js');
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];
const env = { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.test.json'), TS_NODE_TRANSPILE_ONLY: 'true' };

/** A child whose stdout lines are kept and can be waited for. */
export interface Proc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<void>;
  waitFor(match: (l: string) => boolean, timeoutMs?: number): Promise<string>;
}

function spawnProc(name: string, argv: string[]): Proc {
  const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let waiters: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => { lines.push(l); for (const w of waiters) w(l); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waitFor = (match: (l: string) => boolean, timeoutMs = 30_000) => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`${name}: no matching line within ${timeoutMs} ms`)), timeoutMs);
      const w = (l: string) => { if (match(l)) { clearTimeout(timer); waiters = waiters.filter((x) => x !== w); res(l); } };
      waiters.push(w);
      void exited.then(() => { clearTimeout(timer); rej(new Error(`${name} exited early`)); });
    });
  };
  return { child, lines, exited, waitFor };
}

/** Measuring yesterday's code would be worse than not measuring: the build must be newer than the sources. */
export { assertCliBuilt as assertBuilt } from '../../packages/test-utils/src/node-process';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
  });
}

export const logMsg = (msg: string) => (l: string) => l.includes(`"msg":"${msg}"`);

/**
 * Starts the three nodes on fixed ports with static membership (a restarted node comes back as
 * the same member, so the ring does not change); resolves once all listen, with the entries they
 * restored from their snapshots. Compiled code: a restart costs what a real one does.
 */
export async function startCluster(ports: number[], snapshotDir: string | undefined, graceMs: number): Promise<{ nodes: Proc[]; restored: number }> {
  const addr = (p: number) => `127.0.0.1:${p}`;
  const nodes = ports.map((p) => spawnProc(`node ${p}`, [CLI, 'node', 'start', '--host', '127.0.0.1', '--port', String(p), '--shutdown-grace', `${graceMs}ms`,
    '--peers', ports.filter((q) => q !== p).map(addr).join(','), ...(snapshotDir ? ['--snapshot-file', join(snapshotDir, `node-${p}.snap`)] : [])]));
  await Promise.all(nodes.map((n) => n.waitFor(logMsg('node_listening'))));
  let restored = 0;
  for (const n of nodes) {
    const line = n.lines.find(logMsg('snapshot_loaded'));
    if (line) restored += (JSON.parse(line) as { entries: number }).entries;
  }
  return { nodes, restored };
}

/** A client worker (worker.ts through ts-node; it imports the compiled client). */
export function startWorker(args: string[]): Proc {
  return spawnProc('worker', [...TS_NODE, join(__dirname, 'worker.ts'), ...args]);
}
