import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { assertPackagesBuilt, REPO_ROOT } from '@corral/test-utils';

const CLIENT_DIST = join(REPO_ROOT, 'packages', 'client', 'dist', 'index.js');

export interface ClientProcess {
  child: ChildProcess;
  /** Resolves with the first JSON line the script prints. */
  firstLine: Promise<Record<string, unknown>>;
  exited: Promise<void>;
}

/**
 * Runs `body` in a separate Node process with `Corral` (the compiled client) and `seed` in scope,
 * so a test can SIGKILL a lease or lock holder for real. Build first: `npx tsc -b`.
 */
export function spawnClientProcess(seed: string, body: string): ClientProcess {
  assertPackagesBuilt(['client', 'protocol', 'ring']);
  const script = `const { Corral } = require(${JSON.stringify(CLIENT_DIST)});
const seed = ${JSON.stringify(seed)};
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
setInterval(() => {}, 1 << 30);
(async () => { ${body} })().catch((e) => { say({ error: String(e && e.code || e) }); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<Record<string, unknown>>((resolve, reject) => {
    lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`client process exited (${code}) before printing`)));
  });
  firstLine.catch(() => undefined);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, firstLine, exited };
}

