import { execFile, execFileSync } from 'node:child_process';

/** Runs iproute2 (`ip`, `tc`); rejects with the tool's own stderr, which says what went wrong. */
export function run(cmd: 'ip' | 'tc', args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The same, ignoring failure: for teardown, where "already gone" is success. Synchronous so it also works in exit paths. */
export function runQuietly(cmd: 'ip' | 'tc', args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Namespaces whose names start with `prefix`. */
export function listNetns(prefix: string): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 })
      .split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Links in the root namespace whose names start with `prefix`. */
export function listLinks(prefix: string): string[] {
  try {
    return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 })
      .split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
