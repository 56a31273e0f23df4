import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface SpawnNodeOptions {
  host?: string;
  /**
   * Gossip, as `corral node start` does by default. Off unless asked (`--no-gossip` is passed): a
   * lone node or a static --peers cluster is what most tests want, without a gossip socket.
   */
  gossip?: boolean;
  /** How long to wait for the node_listening line. */
  startTimeoutMs?: number;
  /** Added to the environment (CORRAL_* twins of node flags included); see nodeEnv for what is inherited. */
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
/**
 * The `corral` CLI's bin. test-utils uses it only at run time, by path: no package dependency and
 * no TS project reference on @corral/cli (whose own tests use test-utils).
 */
export const CLI_BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'corral.js');

/**
 * Spawns `corral node start --host <host> --port 0 [--no-gossip] ...args` (the compiled CLI, so
 * the flags are exactly the CLI's, parsed by it) and waits for its node_listening log line. Later
 * flags win, e.g. ['--port', '7071']. NodeConfig fields that have no flag go in
 * `['--config-json', JSON.stringify({ invalidation: { testHooks: true } })]`. Build first:
 * `npx tsc -b` (`npm test` does).
 */
export async function spawnNodeProcess(args: string[] = [], opts: SpawnNodeOptions = {}): Promise<NodeProcess> {
  const host = opts.host ?? '127.0.0.1';
  assertCliBuilt();
  const argv = [...(opts.execArgv ?? []), CLI_BIN, 'node', 'start', '--host', host, '--port', '0', ...(opts.gossip ? [] : ['--no-gossip']), ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: nodeEnv(opts.env) });

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

/**
 * The test's environment without its CORRAL_* variables, then `extra`. Every node flag has a
 * CORRAL_* twin: a developer's exported CORRAL_ADMIN_TOKEN or CORRAL_PORT must not change the
 * node a test starts. CORRAL_LOG_LEVEL is kept, for debugging a test.
 */
function nodeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([k]) => !k.startsWith('CORRAL_') || k === 'CORRAL_LOG_LEVEL');
  return { ...Object.fromEntries(inherited), ...extra };
}

/**
 * The CLI and node run the compiled dist/: fail loudly instead of testing yesterday's code. Each
 * package behind `corral node start` must have been built after its sources last changed.
 */
export function assertCliBuilt(): void {
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing`);
  assertPackagesBuilt(['protocol', 'ring', 'coordinator', 'server', 'client', 'cli']);
}

/** Each of `pkgs` (packages/<name>) must have been built (`npx tsc -b`) after its sources last changed. */
export function assertPackagesBuilt(pkgs: readonly string[]): void {
  for (const pkg of pkgs) {
    const dir = join(REPO_ROOT, 'packages', pkg);
    const info = join(dir, 'dist', '.tsbuildinfo');
    if (!existsSync(info) || newestMtime(join(dir, 'src')) > statSync(info).mtimeMs)
      throw new Error(`packages/${pkg}/src changed after its last build: run \`npx tsc -b\` first`);
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
