import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { RUN_ENV, type RunRegistry } from './run-registry';

export interface ChildExit { code: number | null; signal: NodeJS.Signals | null }

export interface SpawnedChild {
  child: ChildProcess;
  pid: number;
  exited: Promise<ChildExit>;
}

/**
 * Starts every process of a run: marked with the run id in its environment, recorded in the run
 * registry until it exits, and with a clean environment. The CLI reads every flag from a CORRAL_*
 * twin, so a CORRAL_PORT exported in the operator's shell would otherwise reach each node.
 */
export class ChildSpawner {
  private readonly live = new Map<number, SpawnedChild>();

  constructor(private readonly registry: RunRegistry, private readonly extraEnv: Record<string, string> = {}) {}

  spawn(argv: string[], opts: SpawnOptions = {}): SpawnedChild {
    const [cmd, ...args] = argv;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CORRAL_')) env[k] = v;
    Object.assign(env, this.extraEnv, { [RUN_ENV]: this.registry.runId });
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts, env });
    if (child.pid === undefined) {
      // spawn failures (ENOENT) are reported through 'error'; surface them as an exit.
      const exited = new Promise<ChildExit>((resolve) => child.once('error', () => resolve({ code: 127, signal: null })));
      return { child, pid: -1, exited };
    }
    const pid = child.pid;
    this.registry.addPid(pid);
    const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => {
      this.live.delete(pid);
      this.registry.removePid(pid);
      resolve({ code, signal });
    }));
    const s: SpawnedChild = { child, pid, exited };
    this.live.set(pid, s);
    return s;
  }

  /** Everything still running: continued (a SIGSTOPped process ignores the rest until then), then killed, awaited. */
  async killAll(): Promise<void> {
    const all = [...this.live.values()];
    for (const s of all) {
      try { process.kill(s.pid, 'SIGCONT'); } catch { /* gone */ }
      try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await Promise.all(all.map((s) => s.exited));
  }

}
