import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ChildExit, ChildSpawner, SpawnedChild } from './child-spawner';

export interface NodeProcessOptions {
  /** The host name in the scenario (n1, n2…). */
  name: string;
  /** Runs the command on the host: [] on loopback, ['ip', 'netns', 'exec', ns] in a namespace. */
  prefix: string[];
  cliEntry: string;
  /** `corral node start` flags. */
  args: string[];
  logFile: string;
  readyTimeoutMs: number;
}

/**
 * One `corral node start` process on a host, started the way an operator would. Resolves once
 * the node logs `node_listening` (it carries the bound address and gossip address). Its output
 * goes to a log file per host, appended across restarts, so a report links to one log per node.
 */
export class NodeProcess {
  private constructor(
    readonly name: string,
    private readonly spawned: SpawnedChild,
    readonly port: number,
    readonly gossipAddr: string | undefined,
    readonly logFile: string,
  ) {}

  get pid(): number { return this.spawned.pid; }
  get exited(): Promise<ChildExit> { return this.spawned.exited; }
  get running(): boolean { return this.spawned.child.exitCode === null && this.spawned.child.signalCode === null; }

  static start(spawner: ChildSpawner, o: NodeProcessOptions): Promise<NodeProcess> {
    const log = createWriteStream(o.logFile, { flags: 'a' });
    log.write(`# ${new Date().toISOString()} ${[...o.prefix, 'corral', 'node', 'start', ...o.args].join(' ')}\n`);
    const s = spawner.spawn([...o.prefix, process.execPath, o.cliEntry, 'node', 'start', ...o.args]);
    s.child.stderr?.pipe(log, { end: false });
    void s.exited.then(() => setTimeout(() => log.end(), 50));
    return new Promise((resolve, reject) => {
      let stderr = '';
      s.child.stderr?.on('data', (d: Buffer) => { if (stderr.length < 4000) stderr += d.toString(); });
      const timer = setTimeout(() => {
        try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
        reject(new Error(`${o.name} did not log node_listening within ${o.readyTimeoutMs} ms; see ${o.logFile}`));
      }, o.readyTimeoutMs);
      let ready = false;
      createInterface({ input: s.child.stdout! }).on('line', (line) => {
        log.write(`${line}\n`);
        if (ready || !line.includes('"node_listening"')) return;
        try {
          const rec = JSON.parse(line) as { port: number; gossipAddr?: string };
          ready = true;
          clearTimeout(timer);
          resolve(new NodeProcess(o.name, s, rec.port, rec.gossipAddr, o.logFile));
        } catch { /* not JSON: keep waiting */ }
      });
      void s.exited.then((e) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`${o.name} exited (${e.signal ?? e.code}) before listening: ${stderr.trim().split('\n').slice(-3).join(' | ') || `see ${o.logFile}`}`));
      });
    });
  }

  signal(sig: NodeJS.Signals): boolean {
    try {
      process.kill(this.pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM (the node leaves gracefully), SIGKILL after the grace. */
  async stop(graceMs: number): Promise<ChildExit> {
    if (!this.running) return this.exited;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const e = await this.exited;
    clearTimeout(t);
    return e;
  }
}
