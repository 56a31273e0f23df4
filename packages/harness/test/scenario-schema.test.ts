import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, parseScenarioText, ScenarioError, ScenarioSchema } from '../src';

/** Scenario files are the harness's user interface: every mistake must name its field (and line). */

const minimal = {
  name: 'tiny',
  cluster: { nodes: 3 },
  data: { keys: 100 },
  workload: { rate: 50 },
  timeline: [{ add: 1 }, { wait: '1s' }],
};

function issues(raw: unknown): string[] {
  const r = ScenarioSchema.parse(raw);
  if (r.ok) throw new Error('expected the scenario to be rejected');
  return r.issues.map((i) => `${i.path}: ${i.message}`);
}

function errorOf(text: string, file = 'x.yaml'): ScenarioError {
  try {
    parseScenarioText(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

describe('ScenarioSchema', () => {
  it('fills in every default for a minimal scenario', () => {
    const r = ScenarioSchema.parse(minimal);
    if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
    const s = r.scenario;
    expect(s.cluster).toMatchObject({ nodes: 3, gossipIntervalMs: 250, suspicionMult: 4, gutterTtlMs: 10_000, maxMemoryBytes: 64 * 1024 * 1024 });
    expect(s.data).toEqual({ keys: 100, valueBytes: { min: 256, max: 256 } });
    expect(s.workload).toMatchObject({ clients: 2, rate: 50, readRatio: 0.9, distribution: { kind: 'zipf', exponent: 0.99 }, l1: false, warmupMs: 3000 });
    expect(s.bounds).toEqual({ hitRatioDip: 0.05, convergeMs: 15_000, movedTolerance: 0.1, staleReads: 0 });
    expect(s.timeline).toEqual([
      expect.objectContaining({ index: 0, kind: 'add', hosts: ['n4'], noLoss: true, label: 'add n4', source: 'timeline[0]' }),
      expect.objectContaining({ index: 1, kind: 'wait', ms: 1000 }),
    ]);
  });

  it('reports every problem at once, each with its path', () => {
    const got = issues({
      name: 'has space', cluster: { nodes: 0, gossipIntervall: '1s' }, data: { keys: -1, valueSize: [512, 64] },
      workload: { rate: 'fast', readRatio: 2, distribution: 'pareto' }, timeline: [], bounds: { converge: 'soon' },
    });
    expect(got).toEqual(expect.arrayContaining([
      expect.stringMatching(/^name: "has space" may only hold letters/),
      'cluster.gossipIntervall: unknown field (did you mean "gossipInterval"?); known: nodes, maxMemory, gossipInterval, probeTimeout, suspicionMult, gutterTtl, handoffRate, vnodes',
      'cluster.nodes: must be at least 1 (got 0)',
      'data.keys: must be at least 1 (got -1)',
      'data.valueSize: min (512) is larger than max (64)',
      'workload.rate: must be a number (got "fast")',
      'workload.readRatio: must be at most 1 (got 2)',
      'workload.distribution: must be one of "zipf", "uniform" (got "pareto")',
      'timeline: needs at least one step',
      'bounds.converge: must be a duration such as 500ms, 3s or 1m (got "soon")',
    ]));
  });

  it('says which fields are required', () => {
    expect(issues({ timeline: [{ wait: '1s' }] })).toEqual(expect.arrayContaining([
      'name: is required', 'cluster: must be a mapping (got nothing)', 'data: must be a mapping (got nothing)', 'workload: must be a mapping (got nothing)',
    ]));
  });

  it('plays the timeline through: hosts must exist and be in a state the action fits', () => {
    const got = issues({
      ...minimal,
      timeline: [
        { resume: 'n1' },                // not paused
        { kill: 'n9' },                  // no such node
        { pause: 'n2' }, { remove: 'n2' }, // paused nodes cannot drain
        { kill: 'n1' }, { kill: 'n3' },  // the last node up
        { kill: 'n2', restart: 'n1' },   // two actions
        { explode: 'n1' },               // no action
        { wait: '1s', mode: 'drain' },   // a field of another action
      ],
    });
    expect(got).toEqual([
      'timeline[0].resume: resume needs n1 to be paused, but it is up at this point',
      'timeline[1].kill: there is no node n9 at this point (nodes: n1, n2, n3)',
      'timeline[3].remove: remove needs n2 to be up, but it is paused at this point',
      'timeline[5].kill: kill n3 would leave no node up to serve (or take) its keys',
      'timeline[6]: has 2 actions (kill, restart); put each in its own step',
      'timeline[7]: has no action; use one of add, remove, kill, pause, resume, restart, partition, heal, netem, wait',
      'timeline[8].mode: unknown field; known: wait, expect, label, hitRatioDip, converge',
    ]);
  });

  it('numbers added nodes on from the initial ones and expands `restart: all` into one step per node', () => {
    const r = ScenarioSchema.parse({ ...minimal, timeline: [{ add: 2 }, { remove: 'n5' }, { restart: 'all' }, { kill: 'n2' }, { restart: 'n2' }] });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.scenario.timeline.map((s) => [s.index, s.label, s.noLoss])).toEqual([
      [0, 'add n4, n5', true],
      [1, 'remove n5', true],
      [2, 'restart n1 (1/4, drain)', true],
      [3, 'restart n2 (2/4, drain)', true],
      [4, 'restart n3 (3/4, drain)', true],
      [5, 'restart n4 (4/4, drain)', true],
      [6, 'kill n2', false],
      [7, 'start n2 again', true],
    ]);
  });

  it('lets a step opt out of, or into, the no-loss check', () => {
    const r = ScenarioSchema.parse({ ...minimal, timeline: [{ kill: 'n2', expect: 'no-loss' }, { add: 1, expect: 'none' }, { restart: 'n1', mode: 'kill' }] });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.scenario.timeline.map((s) => s.noLoss)).toEqual([true, false, false]);
  });

  it('reads netem and heal options', () => {
    const r = ScenarioSchema.parse({ ...minimal, timeline: [{ netem: { host: 'n1', delay: '20ms', loss: 1.5 } }, { partition: 'n2' }, { heal: 'n2', rejoinAfter: '2s' }] });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.scenario.timeline[0]).toMatchObject({ kind: 'netem', host: 'n1', delayMs: 20, jitterMs: 0, lossPct: 1.5, label: 'netem n1 delay 20ms loss 1.5%' });
    expect(r.scenario.timeline[2]).toMatchObject({ kind: 'heal', host: 'n2', rejoinWaitMs: 2000, noLoss: true });
  });
});

describe('loadScenario', () => {
  it('gives YAML problems with their line numbers', () => {
    const e = errorOf('name: x\ncluster:\n  nodes: 3\ndata:\n  keys: 10\nworkload:\n  rate: 10\ntimeline:\n  - add: 1\n  - kil: n2\n');
    expect(e.issues).toEqual([expect.objectContaining({ path: 'timeline[1]', line: 10 })]);
    expect(e.message).toContain('line 10: timeline[1]: has no action');
  });

  it('reports YAML syntax errors with their line', () => {
    const e = errorOf('name: x\ncluster: {nodes: 3\n');
    expect(e.issues[0]).toMatchObject({ path: '(syntax)', line: expect.any(Number) });
  });

  it('reads JSON too', () => {
    const s = parseScenarioText(JSON.stringify(minimal), 'tiny.json');
    expect(s.name).toBe('tiny');
  });

  it('rejects a duplicate key instead of silently taking the last one', () => {
    expect(errorOf('name: a\nname: b\n').issues[0]!.path).toBe('(syntax)');
  });

  it('every shipped scenario and the test fixtures are valid', () => {
    const root = join(__dirname, '..', '..', '..', 'scenarios');
    const files = [...readdirSync(root).map((f) => join(root, f)), join(__dirname, 'fixtures', 'small.yaml')].filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) expect(() => loadScenario(f)).not.toThrow();
  });
});
