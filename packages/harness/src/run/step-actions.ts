import { rmSync } from 'node:fs';
import type { ClusterCommands, CommandRecord } from '../cluster/cluster-commands';
import { awaitConvergence } from '../cluster/convergence';
import type { HarnessCluster, Host } from '../cluster/harness-cluster';
import type { StatusLinks } from '../cluster/status-links';
import type { KeyLedger } from '../workload/key-ledger';
import type { HostPool } from '../hosts/host-pool';
import type { RestartMode, Step } from '../scenario/scenario-types';

export interface ActionContext {
  cluster: HarnessCluster;
  /** The workload's ledger: told which member is away on a planned (snapshot) restart. */
  ledger: KeyLedger;
  pool: HostPool;
  commands: ClusterCommands;
  links: StatusLinks;
  /** Bound for one `corral cluster add/remove`. */
  commandWaitMs: number;
  signal: AbortSignal;
}

export interface ActionOutcome {
  commands: CommandRecord[];
  notes: string[];
}

/** A step whose action could not be carried out; the run stops there. */
export class StepActionError extends Error {
  override readonly name = 'StepActionError';
}

/**
 * What each timeline verb does to the hosts. Membership changes go through `corral cluster add`
 * and `remove`; failures are signals (SIGKILL, SIGSTOP/SIGCONT) and network changes on the host
 * pool. The action returns as soon as it is done; waiting for the cluster to converge is the
 * step runner's job, so that the time it takes is measured the same way for every verb.
 */
export async function performAction(step: Step, x: ActionContext): Promise<ActionOutcome> {
  const out: ActionOutcome = { commands: [], notes: [] };
  const { cluster } = x;
  switch (step.kind) {
    case 'wait':
      await sleep(step.ms, x.signal);
      break;
    case 'add':
      for (const name of step.hosts) {
        const h = await cluster.start(name, []);
        out.commands.push(await checked(x.commands.add(h.id, cluster.seedId(name), x.commandWaitMs), `add ${name}`, out));
      }
      break;
    case 'remove':
      await drain(cluster.get(step.host), x, out);
      break;
    case 'kill':
      await kill(cluster.get(step.host), x);
      break;
    case 'pause':
      cluster.get(step.host).proc?.signal('SIGSTOP');
      cluster.get(step.host).state = 'paused';
      break;
    case 'resume':
      cluster.get(step.host).proc?.signal('SIGCONT');
      cluster.get(step.host).state = 'up';
      break;
    case 'restart':
      await restart(cluster.get(step.host), step.mode, x, out);
      break;
    case 'partition':
      await x.pool.partition(step.host);
      cluster.get(step.host).state = 'partitioned';
      break;
    case 'heal':
      await heal(cluster.get(step.host), step.rejoinWaitMs, x, out);
      break;
    case 'netem':
      await x.pool.netem(step.host, step);
      break;
  }
  return out;
}

/** `corral cluster remove`: the node hands its keys over, leaves, and its process exits. */
async function drain(h: Host, x: ActionContext, out: ActionOutcome): Promise<void> {
  const rec = await checked(x.commands.remove(h.id, x.cluster.seedId(h.name), x.commandWaitMs), `remove ${h.name}`, out);
  out.commands.push(rec);
  h.state = 'removed';
  const proc = h.proc;
  if (proc) {
    const exited = await Promise.race([proc.exited.then(() => true), sleep(10_000, x.signal).then(() => false)]);
    if (!exited) {
      out.notes.push(`${h.name} was drained but its process did not exit within 10 s; the harness killed it`);
      await proc.stop(0);
    }
  }
  await x.links.forget(h.id);
}

async function kill(h: Host, x: ActionContext): Promise<void> {
  if (h.proc?.running) {
    h.proc.signal('SIGKILL');
    await h.proc.exited;
  }
  h.state = 'killed';
  await x.links.forget(h.id);
}

/**
 * drain: hand the keys over, exit, start again empty and `cluster add` it back (nothing is lost);
 * snapshot: SIGTERM (the node leaves at once and writes its keys to its snapshot file), start
 *   again with seeds from the snapshot (nothing is lost; its keys are away while it restarts);
 * term: the same without the snapshot (it starts empty);
 * kill: SIGKILL, start again with seeds (the others see it die, then come back).
 */
async function restart(h: Host, mode: RestartMode, x: ActionContext, out: ActionOutcome): Promise<void> {
  if (h.state === 'killed' || !h.proc?.running) {
    await x.cluster.start(h.name, x.cluster.seedsFor(h.name));
    return;
  }
  if (mode === 'drain') {
    await drain(h, x, out);
    rmSync(x.cluster.snapshotFile(h.name), { force: true }); // it starts empty, as documented
    const fresh = await x.cluster.start(h.name, []);
    out.commands.push(await checked(x.commands.add(fresh.id, x.cluster.seedId(h.name), x.commandWaitMs), `add ${h.name} back`, out));
    return;
  }
  if (mode === 'kill') {
    await kill(h, x);
  } else {
    // Snapshot: its keys are away until it is back from its snapshot, so reads of them meanwhile
    // miss without being lost, and the sweep after the step checks they all came back (the step
    // runner ends that once the ring has converged with it back). Term: it starts empty.
    if (mode === 'snapshot') x.ledger.plannedAway.add(h.id);
    const e = await h.proc.stop(10_000);
    if (e.signal === 'SIGKILL') out.notes.push(`${h.name} did not stop within 10 s of SIGTERM; the harness killed it`);
    if (mode === 'term') rmSync(x.cluster.snapshotFile(h.name), { force: true });
  }
  await x.links.forget(h.id);
  await x.cluster.start(h.name, x.cluster.seedsFor(h.name));
}

/**
 * Brings the link back. Gossip should reunite the two sides by itself; if it has not within
 * `rejoinWaitMs`, the operator's remedy is `corral cluster add` on the isolated node (it sees
 * itself alone, so it accepts a join), and the step notes that gossip did not do it alone.
 */
async function heal(h: Host, rejoinWaitMs: number, x: ActionContext, out: ActionOutcome): Promise<void> {
  await x.pool.heal(h.name);
  h.state = 'up';
  const t0 = performance.now();
  const c = await awaitConvergence(x.links, x.cluster.up().map((u) => u.id), t0, rejoinWaitMs, x.signal);
  if (c.ringMs !== null) return;
  out.notes.push(`gossip did not reunite ${h.name} with the others within ${rejoinWaitMs} ms of the heal (${c.lastDisagreement ?? '?'}); ` +
    'rejoined it with `corral cluster add`');
  out.commands.push(await checked(x.commands.add(h.id, x.cluster.seedId(h.name), x.commandWaitMs), `add ${h.name} after the heal`, out));
}

/** A command that failed outright stops the step; exit code 2 (joined, but not settled within --wait) is only noted. */
async function checked(p: Promise<CommandRecord>, what: string, out: ActionOutcome): Promise<CommandRecord> {
  const rec = await p;
  if (rec.exitCode === 2) out.notes.push(`\`${rec.argv.join(' ')}\` returned before the handoff settled (exit 2)`);
  else if (rec.exitCode !== 0) throw new StepActionError(`${what}: \`${rec.argv.join(' ')}\` failed (exit ${rec.exitCode}): ${rec.error ?? ''}`);
  return rec;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
