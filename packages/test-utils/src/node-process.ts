import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface SpawnNodeOptions {
  host?: string;
  /** 'entry' (default): test-utils' own entry, independent of the CLI. 'cli': `corral node start`. */
  via?: 'entry' | 'cli';
  /** How long to wait for the node_listening line. */
  startTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Flags for node itself, e.g. ['--max-old-space-size=128']. */
  execArgv?: string[];
}

export interface NodeExit { code: number | null; signal: NodeJS.Signals | null }

export interface NodeProcess {
  pid: number;
  host: string;
  port: number;
  /** Every stdout line so far (pino JSON). */
  stdoutLines: string[];
  stderrLines: string[];
  exited: Promise<NodeExit>;
  kill(signal?: NodeJS.Signals): boolean;
  /** Resolves with the first parsed log line (already seen or future) that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const ENTRY_JS = join(REPO_ROOT, 'packages', 'test-utils', 'dist', 'node-process-entry.js');
const CLI_JS = join(REPO_ROOT, 'packages', 'cli', 'bin', 'corral.js');

/**
 * Spawns a real node process listening on `host`:0 and waits for its node_listening log line.
 * `args` are `corral node start` style flags (e.g. ['--max-memory', '32mb']). The process runs the
 * compiled dist/ code: build first with `npx tsc -b packages/test-utils` (`npm test` does).
 */
export async function spawnNodeProcess(args: string[] = [], opts: SpawnNodeOptions = {}): Promise<NodeProcess> {
  const host = opts.host ?? '127.0.0.1';
  const via = opts.via ?? (process.env['CORRAL_SPAWN_VIA'] === 'cli' ? 'cli' : 'entry');
  const script = via === 'cli' ? CLI_JS : ENTRY_JS;
  if (via === 'entry') assertBuilt();
  else if (!existsSync(CLI_JS)) throw new Error(`${CLI_JS} does not exist yet; use via: 'entry'`);
  const argv = [...(opts.execArgv ?? []), script, ...(via === 'cli' ? ['node', 'start'] : []), '--host', host, '--port', '0', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });

  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const parsed: Array<Record<string, unknown>> = [];
  let watchers: Array<(l: Record<string, unknown>) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdoutLines.push(line);
    let obj: Record<string, unknown>;
    try { obj = JSON.parse(line) as Record<string, unknown>; } catch { return; }
    parsed.push(obj);
    for (const w of watchers) w(obj);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderrLines.push(line));
  const exited = new Promise<NodeExit>((res) => child.once('exit', (code, signal) => res({ code, signal })));

  const waitForLog = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000) => {
    const seen = parsed.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((res, rej) => {
      const done = (err?: Error, line?: Record<string, unknown>) => {
        clearTimeout(timer);
        watchers = watchers.filter((w) => w !== watch);
        if (err) rej(err); else res(line!);
      };
      const watch = (l: Record<string, unknown>) => { if (match(l)) done(undefined, l); };
      const timer = setTimeout(() => done(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderrLines.join('\n')}`)), timeoutMs);
      watchers.push(watch);
      void exited.then((e) => done(new Error(`node process exited (${e.code ?? e.signal}) before the log line; stderr: ${stderrLines.join('\n')}`)));
    });
  };

  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((l) => l['msg'] === 'node_listening', opts.startTimeoutMs ?? 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const port = listening['port'];
  if (typeof port !== 'number') throw new Error(`node_listening without a port: ${JSON.stringify(listening)}`);
  return {
    pid: child.pid!, host, port, stdoutLines, stderrLines, exited, waitForLog,
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}

/** Fails loudly instead of testing yesterday's code: each package's build must be newer than its sources. */
function assertBuilt(): void {
  if (!existsSync(ENTRY_JS)) throw new Error(`${ENTRY_JS} is missing: run \`npx tsc -b packages/test-utils\` first`);
  for (const pkg of ['protocol', 'server', 'test-utils']) {
    const dir = join(REPO_ROOT, 'packages', pkg);
    const info = join(dir, 'dist', '.tsbuildinfo');
    if (!existsSync(info) || newestMtime(join(dir, 'src')) > statSync(info).mtimeMs)
      throw new Error(`packages/${pkg}/src changed after its last build: run \`npx tsc -b packages/test-utils\``);
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
