import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A node process started by `corral dev` (and the harness): real process, real socket. */
export interface LocalNode {
  name: string;
  host: string;
  port: number;
  metricsPort?: number;
  /** The Redis-compatible door, when started with --resp-port. */
  respPort?: number;
  /** host:port of its gossip socket, when it gossips. */
  gossipAddr?: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export const CLI_ENTRY = join(__dirname, '..', 'bin', 'corral.js');

/** Spawns `corral node start` and resolves once the node logs `node_listening`. */
export function spawnLocalNode(opts: { name: string; host: string; port: number; metricsPort?: number; logDir: string; extraArgs?: string[]; readyTimeoutMs?: number }): Promise<LocalNode> {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const args = [CLI_ENTRY, 'node', 'start', '--host', opts.host, '--port', String(opts.port), ...(opts.metricsPort !== undefined ? ['--metrics-port', String(opts.metricsPort)] : []), ...(opts.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr!.pipe(log, { end: false });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${opts.name} did not start within ${opts.readyTimeoutMs ?? 10000} ms; see ${logFile}`)); }, opts.readyTimeoutMs ?? 10000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      if (!line.includes('node_listening')) return;
      try {
        const rec = JSON.parse(line) as { port: number; respPort?: number; metricsPort?: number; gossipAddr?: string };
        clearTimeout(timer);
        resolve({ name: opts.name, host: opts.host, port: rec.port, metricsPort: rec.metricsPort ?? opts.metricsPort, respPort: rec.respPort, gossipAddr: rec.gossipAddr, pid: child.pid!, logFile, child, exited });
      } catch { /* not JSON: keep waiting */ }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`${opts.name} exited with code ${code} before listening: ${stderr.trim() || `see ${logFile}`}`)); });
  });
}

/** SIGTERM every node (graceful), SIGKILL whatever is still alive after the bound. */
export async function stopLocalNodes(nodes: LocalNode[], graceMs = 5000): Promise<void> {
  await Promise.all(nodes.map(async (n) => {
    if (n.child.exitCode !== null || n.child.signalCode !== null) return;
    n.child.kill('SIGTERM');
    const t = setTimeout(() => n.child.kill('SIGKILL'), graceMs);
    await n.exited;
    clearTimeout(t);
  }));
}
