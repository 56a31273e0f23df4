import { FieldReader } from './field-reader';
import type { RestartMode, Step, StepKind } from './scenario-types';

/** A step without the fields every step shares (Omit over each member of the union, not over the union). */
type StepBody = Step extends infer S ? (S extends Step ? Omit<S, 'index' | 'source' | 'noLoss'> : never) : never;

type HostState = 'up' | 'paused' | 'killed' | 'removed' | 'partitioned';

const ACTIONS: readonly StepKind[] = ['add', 'remove', 'kill', 'pause', 'resume', 'restart', 'partition', 'heal', 'netem', 'wait'];
const COMMON = ['expect', 'label', 'hitRatioDip', 'converge'] as const;
const EXTRA: Partial<Record<StepKind, readonly string[]>> = { restart: ['mode'], heal: ['rejoinAfter'] };

/** Losing keys is a failure for these unless the step says `expect: none`; the others lose keys by nature. */
const NO_LOSS_BY_DEFAULT: ReadonlySet<StepKind> = new Set(['add', 'remove', 'resume', 'heal', 'wait', 'netem']);

/** Which states each action accepts its host in, and the state it leaves it in. */
const TRANSITIONS: Partial<Record<StepKind, { from: readonly HostState[]; to: HostState }>> = {
  remove: { from: ['up'], to: 'removed' },
  kill: { from: ['up', 'paused', 'partitioned'], to: 'killed' },
  pause: { from: ['up'], to: 'paused' },
  resume: { from: ['paused'], to: 'up' },
  restart: { from: ['up', 'killed'], to: 'up' },
  partition: { from: ['up'], to: 'partitioned' },
  heal: { from: ['partitioned'], to: 'up' },
  netem: { from: ['up'], to: 'up' },
};

/**
 * Reads the timeline and plays it through on paper: every host a step names must exist and be in a
 * state the action makes sense for (you cannot resume a node that is not paused), and at least one
 * node must stay up. `restart: all` becomes one step per node up at that point, so the report shows
 * each restart on its own.
 */
export function readTimeline(r: FieldReader, initialNodes: number): Step[] | undefined {
  const items = r.items();
  if (items.length === 0 && Array.isArray(r.value)) r.fail('needs at least one step');
  const hosts = new Map<string, HostState>();
  for (let i = 1; i <= initialNodes; i++) hosts.set(`n${i}`, 'up');
  const steps: Step[] = [];
  let ok = true;
  for (const item of items) {
    const read = readStep(item, hosts, steps.length);
    if (read === undefined) ok = false;
    else steps.push(...read);
  }
  return ok ? steps : undefined;
}

function readStep(r: FieldReader, hosts: Map<string, HostState>, nextIndex: number): Step[] | undefined {
  if (!r.isObject()) return r.fail(`must be a mapping with one action (${ACTIONS.join(', ')}), e.g. "- kill: n2"`);
  const keys = Object.keys(r.value as object);
  const actions = keys.filter((k) => (ACTIONS as readonly string[]).includes(k)) as StepKind[];
  if (actions.length !== 1)
    return r.fail(actions.length === 0 ? `has no action; use one of ${ACTIONS.join(', ')}` : `has ${actions.length} actions (${actions.join(', ')}); put each in its own step`);
  const kind = actions[0]!;
  if (!r.object([kind, ...COMMON, ...(EXTRA[kind] ?? [])])) return undefined;
  const expect = r.field('expect').or(NO_LOSS_BY_DEFAULT.has(kind) ? 'no-loss' : 'none', (f) => f.oneOf(['no-loss', 'none'] as const));
  const base = {
    source: r.path,
    noLoss: expect === 'no-loss',
    ...optional('hitRatioDip', r.field('hitRatioDip').or(undefined, (f) => f.number({ min: 0, max: 1 }))),
    ...optional('convergeMs', r.field('converge').or(undefined, (f) => f.duration({ min: 100, max: 600_000 }))),
  };
  const label = r.field('label').or(undefined, (f) => f.string());
  const arg = r.field(kind);
  const make = (step: StepBody, offset = 0): Step =>
    ({ ...base, ...step, label: label ?? step.label, index: nextIndex + offset }) as Step;

  switch (kind) {
    case 'wait': {
      const ms = arg.duration({ min: 0, max: 600_000 });
      return ms === undefined ? undefined : [make({ kind, ms, label: `wait ${ms / 1000}s` })];
    }
    case 'add': {
      const count = arg.isObject() ? (arg.object(['count']) ? arg.field('count').number({ integer: true, min: 1, max: 16 }) : undefined)
        : arg.number({ integer: true, min: 1, max: 16 });
      if (count === undefined) return undefined;
      const added: string[] = [];
      for (let i = 0; i < count; i++) {
        const name = `n${hosts.size + 1}`;
        hosts.set(name, 'up');
        added.push(name);
      }
      return [make({ kind, hosts: added, label: `add ${added.join(', ')}` })];
    }
    case 'restart': {
      const mode = r.field('mode').or<RestartMode>('drain', (f) => f.oneOf(['drain', 'snapshot', 'term', 'kill'] as const));
      // A drained restart hands every key over first, and a snapshot restart brings them back from
      // disk, so neither may lose any; a plain SIGTERM or crash restart loses what the node held.
      if (!r.field('expect').present) base.noLoss = mode === 'drain' || mode === 'snapshot';
      if (arg.value === 'all') {
        const up = [...hosts].filter(([, s]) => s === 'up').map(([h]) => h);
        if (up.length < 2 && mode === 'drain') return arg.fail('a rolling restart with mode drain needs at least two nodes up (the others take the keys)');
        return up.map((host, i) => make({ kind, host, mode, label: `restart ${host} (${i + 1}/${up.length}, ${mode})` }, i));
      }
      const wasKilled = typeof arg.value === 'string' && hosts.get(arg.value) === 'killed';
      const host = hostArg(arg, hosts, kind);
      if (host === undefined) return undefined;
      // A killed node just starts again (the mode is about how a running node goes down); it comes
      // back empty and takes its keys back from whoever held them meanwhile, which must lose nothing.
      if (wasKilled) {
        if (!r.field('expect').present) base.noLoss = true;
        return [make({ kind, host, mode: 'kill', label: `start ${host} again` })];
      }
      if (mode === 'drain' && liveCount(hosts) < 2) return arg.fail(`draining ${host} needs another node up to take its keys`);
      return [make({ kind, host, mode, label: `restart ${host} (${mode})` })];
    }
    case 'netem': {
      if (!arg.object(['host', 'delay', 'jitter', 'loss'])) return undefined;
      const host = hostArg(arg.field('host'), hosts, kind);
      const delayMs = arg.field('delay').or(0, (f) => f.duration({ min: 0, max: 60_000 }));
      const jitterMs = arg.field('jitter').or(0, (f) => f.duration({ min: 0, max: 60_000 }));
      const lossPct = arg.field('loss').or(0, (f) => f.number({ min: 0, max: 100 }));
      if (host === undefined) return undefined;
      const what = delayMs === 0 && lossPct === 0 ? 'clear' : [delayMs > 0 ? `delay ${delayMs}ms` : '', jitterMs > 0 ? `±${jitterMs}ms` : '', lossPct > 0 ? `loss ${lossPct}%` : ''].filter(Boolean).join(' ');
      return [make({ kind, host, delayMs, jitterMs, lossPct, label: `netem ${host} ${what}` })];
    }
    case 'heal': {
      const host = hostArg(arg, hosts, kind);
      const rejoinWaitMs = r.field('rejoinAfter').or(3000, (f) => f.duration({ min: 0, max: 600_000 }));
      return host === undefined ? undefined : [make({ kind, host, rejoinWaitMs, label: `heal ${host}` })];
    }
    default: {
      const host = hostArg(arg, hosts, kind);
      if (host === undefined) return undefined;
      if (liveCount(hosts) < 1) return arg.fail(`${kind} ${host} would leave no node up to serve (or take) its keys`);
      return [make({ kind, host, label: `${kind} ${host}` } as StepBody)];
    }
  }
}

/** Checks the host name and its state for `kind`, and moves it to the state after the step. */
function hostArg(r: FieldReader, hosts: Map<string, HostState>, kind: StepKind): string | undefined {
  const host = r.string({ pattern: /^n\d+$/, hint: 'is not a node name; nodes are n1, n2, … in the order they were started or added' });
  if (host === undefined) return undefined;
  const state = hosts.get(host);
  if (state === undefined) return r.fail(`there is no node ${host} at this point (nodes: ${[...hosts.keys()].join(', ')})`);
  const t = TRANSITIONS[kind]!;
  if (!t.from.includes(state)) return r.fail(`${kind} needs ${host} to be ${t.from.join(' or ')}, but it is ${state} at this point`);
  hosts.set(host, t.to);
  return host;
}

/** Nodes up besides those the current step already took down. */
function liveCount(hosts: Map<string, HostState>): number {
  return [...hosts.values()].filter((s) => s === 'up').length;
}

function optional<K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, V>);
}
