import { spawn } from 'node:child_process';
import { assertCliBuilt, CLI_BIN, spawnNodeProcess, type NodeProcess } from './node-process';
import { RawConnection } from './raw-connection';

/**
 * Short gossip timings for process tests on a busy 2-core CI box: 200 ms periods, a probe timeout
 * with ack headroom, a suspicion of 3 periods (600 ms up to 10 members).
 */
export const FAST_GOSSIP = {
  protocolPeriodMs: 200,
  probeTimeoutMs: 100,
  indirectProbes: 2,
  suspicionMult: 3,
  pushPullIntervalMs: 2000,
} as const;

export const fastGossipArgs = (t: typeof FAST_GOSSIP = FAST_GOSSIP): string[] => [
  '--gossip-interval', `${t.protocolPeriodMs}ms`, '--probe-timeout', `${t.probeTimeoutMs}ms`,
  '--indirect-probes', String(t.indirectProbes), '--suspicion-mult', String(t.suspicionMult),
  '--push-pull-interval', `${t.pushPullIntervalMs}ms`,
];

/** A node process started with `corral node start`, gossiping. */
export interface GossipNode {
  proc: NodeProcess;
  /** Member id: the data address host:port. */
  id: string;
  gossipAddr: string;
}

/** Starts one gossiping node on `host` (ports picked by the OS), joining through `seeds` when given. */
export async function spawnGossipNode(host: string, seeds: string[] = [], args: string[] = []): Promise<GossipNode> {
  const proc = await spawnNodeProcess([...fastGossipArgs(), ...(seeds.length > 0 ? ['--seeds', seeds.join(',')] : []), ...args], { host, gossip: true });
  const listening = await proc.waitForLog((l) => l['msg'] === 'node_listening');
  const gossipAddr = listening['gossipAddr'];
  if (typeof gossipAddr !== 'string') throw new Error(`node on ${host} does not gossip: ${JSON.stringify(listening)}`);
  return { proc, id: `${host}:${proc.port}`, gossipAddr };
}

/**
 * Tracks every process a test file starts so afterAll (and a failing test) can end them all:
 * stopped ones are continued first, then everything still alive gets SIGKILL.
 */
export class ProcessReaper {
  private readonly procs: NodeProcess[] = [];

  track<T extends { proc: NodeProcess }>(n: T): T {
    this.procs.push(n.proc);
    return n;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.procs.map(async (p) => {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
      await p.exited;
    }));
    this.procs.length = 0;
  }
}

/** A request to one node over a fresh raw connection (HELLO with the token first, when given). */
export async function askNode(id: string, op: Parameters<RawConnection['call']>[0], args: unknown[] = [], opts: { auth?: string; timeoutMs?: number } = {}): Promise<unknown> {
  const i = id.lastIndexOf(':');
  const c = await RawConnection.connect(Number(id.slice(i + 1)), { host: id.slice(0, i), connectTimeoutMs: opts.timeoutMs ?? 2000 });
  try {
    if (opts.auth !== undefined) await c.call('HELLO', [1, { auth: opts.auth }], opts.timeoutMs);
    return await c.call(op, args, opts.timeoutMs);
  } finally {
    c.close();
  }
}

export interface CliResult { code: number | null; stdout: string; stderr: string; ms: number }

/** Runs the real `corral` CLI (compiled dist/) and collects its output; killed after `timeoutMs`. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  assertCliBuilt();
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) });
  }));
}

/** Polls `cond` every `everyMs` until it holds; resolves with the elapsed ms, rejects after `timeoutMs`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
