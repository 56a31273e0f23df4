import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every child process gets this variable, so a sweep can prove a pid is ours before signalling it. */
export const RUN_ENV = 'CORRAL_HARNESS_RUN';

export interface RunRecord {
  runId: string;
  ownerPid: number;
  startedAt: string;
  pids: number[];
  /** Network namespaces and links to delete (netns mode). */
  netns: string[];
  links: string[];
}

export interface SweepResult { runs: number; killed: number; netns: number; links: number }

/**
 * A file per run, written before anything is started, listing what the run started: processes,
 * namespaces, links. Ctrl-C and failures are handled by the run's own teardown; this is for what
 * survives a harness that was itself killed (SIGKILL, a crashed CI runner). The next run, or
 * `corral harness cleanup`, sweeps every record whose owner is gone. A pid is only signalled if
 * its environment carries the run's id, so a recycled pid is never hit.
 */
export class RunRegistry {
  private readonly record: RunRecord;
  private readonly file: string;

  constructor(readonly runId: string, readonly dir: string = defaultRegistryDir()) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${runId}.json`);
    this.record = { runId, ownerPid: process.pid, startedAt: new Date().toISOString(), pids: [], netns: [], links: [] };
    this.save();
  }

  addPid(pid: number): void { this.record.pids.push(pid); this.save(); }
  removePid(pid: number): void { this.record.pids = this.record.pids.filter((p) => p !== pid); this.save(); }
  addNetns(name: string): void { this.record.netns.push(name); this.save(); }
  addLink(name: string): void { this.record.links.push(name); this.save(); }

  /** The run cleaned up after itself. */
  close(): void {
    rmSync(this.file, { force: true });
  }

  /** Write-then-rename, so a sweep never reads half a record. */
  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.record));
    renameSync(tmp, this.file);
  }

  /** Removes what runs whose harness died left behind. `teardownNetwork` deletes namespaces and links. */
  static sweep(dir: string = defaultRegistryDir(), teardownNetwork?: (r: RunRecord) => { netns: number; links: number }): SweepResult {
    const out: SweepResult = { runs: 0, killed: 0, netns: 0, links: 0 };
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    } catch {
      return out;
    }
    for (const f of files) {
      let r: RunRecord;
      try {
        r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord;
      } catch {
        continue;
      }
      if (r.ownerPid === process.pid || alive(r.ownerPid)) continue; // a run in progress (ours or another harness's)
      out.runs++;
      for (const pid of r.pids) if (belongsTo(pid, r.runId)) { try { process.kill(pid, 'SIGKILL'); out.killed++; } catch { /* gone */ } }
      if (teardownNetwork) {
        const n = teardownNetwork(r);
        out.netns += n.netns;
        out.links += n.links;
      }
      rmSync(join(dir, f), { force: true });
    }
    return out;
  }
}

export function defaultRegistryDir(): string {
  return join(tmpdir(), 'corral-harness');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a process this run started: its environment names the run. */
export function belongsTo(pid: number, runId: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${RUN_ENV}=${runId}`);
  } catch {
    return false;
  }
}

/** Every live process whose environment names `runId` (for leak checks). */
export function processesOf(runId: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  return pids.map(Number).filter((pid) => pid !== process.pid && belongsTo(pid, runId));
}
