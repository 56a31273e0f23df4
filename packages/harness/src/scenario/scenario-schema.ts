import { FieldReader, type SchemaIssue } from './field-reader';
import type { Bounds, ClusterSpec, DataSpec, Distribution, Scenario, WorkloadSpec } from './scenario-types';
import { readTimeline } from './timeline-schema';

export type ParseResult = { ok: true; scenario: Scenario } | { ok: false; issues: SchemaIssue[] };

const TOP = ['name', 'description', 'cluster', 'data', 'workload', 'timeline', 'bounds', 'sampleInterval', 'settle'] as const;

/**
 * Validates a parsed scenario file (YAML or JSON, already turned into plain values) and fills in
 * the defaults. Every problem is reported with its path, so one run of `corral harness run` lists
 * all of them. The defaults are small on purpose: a scenario should finish in a few minutes on a
 * two-core machine, and a bigger one says so in its file.
 */
export const ScenarioSchema = {
  parse(raw: unknown): ParseResult {
    const issues: SchemaIssue[] = [];
    const r = FieldReader.root(raw, issues);
    if (!r.object(TOP)) return { ok: false, issues };
    const name = r.field('name').string({ pattern: /^[\w.-]+$/, hint: 'may only hold letters, digits, ".", "-" and "_" (it names the report folder)' });
    const description = r.field('description').or('', (f) => f.string());
    const cluster = readCluster(r.field('cluster'));
    const data = readData(r.field('data'));
    const workload = readWorkload(r.field('workload'));
    const bounds = readBounds(r.field('bounds'));
    const sampleMs = r.field('sampleInterval').or(500, (f) => f.duration({ min: 100, max: 10_000 }));
    const settleMs = r.field('settle').or(500, (f) => f.duration({ min: 0, max: 60_000 }));
    const timeline = readTimeline(r.field('timeline'), cluster?.nodes ?? 1);
    if (issues.length > 0 || !name || !cluster || !data || !workload || !bounds || !timeline) return { ok: false, issues };
    return { ok: true, scenario: { name, description, cluster, data, workload, timeline, bounds, sampleMs, settleMs } };
  },
};

function readCluster(r: FieldReader): ClusterSpec | undefined {
  if (!r.object(['nodes', 'maxMemory', 'gossipInterval', 'probeTimeout', 'suspicionMult', 'gutterTtl', 'handoffRate', 'vnodes'])) return undefined;
  const nodes = r.field('nodes').number({ integer: true, min: 1, max: 32 });
  const gossipIntervalMs = r.field('gossipInterval').or(250, (f) => f.duration({ min: 50, max: 10_000 }));
  const probeTimeoutMs = r.field('probeTimeout').or(undefined, (f) => f.duration({ min: 10, max: 10_000 }));
  if (probeTimeoutMs !== undefined && probeTimeoutMs >= gossipIntervalMs)
    r.field('probeTimeout').fail(`must be shorter than gossipInterval (${gossipIntervalMs} ms), or probes could not be retried indirectly`);
  const spec: ClusterSpec = {
    nodes: nodes ?? 1,
    maxMemoryBytes: r.field('maxMemory').or(64 * 1024 * 1024, (f) => f.bytes({ min: 1024 * 1024 })),
    gossipIntervalMs,
    suspicionMult: r.field('suspicionMult').or(4, (f) => f.number({ integer: true, min: 1, max: 20 })),
    gutterTtlMs: r.field('gutterTtl').or(10_000, (f) => f.duration({ min: 100 })),
    ...(probeTimeoutMs !== undefined && { probeTimeoutMs }),
  };
  const rate = r.field('handoffRate').or(undefined, (f) => f.bytes({ min: 0 }));
  if (rate !== undefined) spec.handoffRateBytes = rate;
  const vnodes = r.field('vnodes').or(undefined, (f) => f.number({ integer: true, min: 1, max: 10_000 }));
  if (vnodes !== undefined) spec.vnodes = vnodes;
  return nodes === undefined ? undefined : spec;
}

function readData(r: FieldReader): DataSpec | undefined {
  if (!r.object(['keys', 'valueSize', 'ttl'])) return undefined;
  const keys = r.field('keys').number({ integer: true, min: 1, max: 1_000_000 });
  const vs = r.field('valueSize');
  let valueBytes: { min: number; max: number } | undefined = { min: 256, max: 256 };
  if (Array.isArray(vs.value)) {
    const [lo, hi] = vs.items();
    const min = lo?.bytes({ min: 16, max: 1024 * 1024 });
    const max = hi?.bytes({ min: 16, max: 1024 * 1024 });
    if ((vs.value as unknown[]).length !== 2) valueBytes = vs.fail('a range must be [min, max], e.g. [64, 1kb]');
    else if (min !== undefined && max !== undefined && min > max) valueBytes = vs.fail(`min (${min}) is larger than max (${max})`);
    else valueBytes = min !== undefined && max !== undefined ? { min, max } : undefined;
  } else if (vs.present) {
    const n = vs.bytes({ min: 16, max: 1024 * 1024 });
    valueBytes = n === undefined ? undefined : { min: n, max: n };
  }
  const ttl = r.field('ttl');
  const ttlMs = ttl.value === 'none' ? undefined : ttl.or(undefined, (f) => f.duration({ min: 1000 }));
  if (keys === undefined || !valueBytes) return undefined;
  return { keys, valueBytes, ...(ttlMs !== undefined && { ttlMs }) };
}

function readWorkload(r: FieldReader): WorkloadSpec | undefined {
  if (!r.object(['clients', 'rate', 'readRatio', 'distribution', 'zipfExponent', 'l1', 'warmup', 'timeout', 'originLatency'])) return undefined;
  const kind = r.field('distribution').or('zipf' as const, (f) => f.oneOf(['zipf', 'uniform'] as const));
  const exponent = r.field('zipfExponent').or(0.99, (f) => f.number({ min: 0.01, max: 3 }));
  if (kind === 'uniform' && r.field('zipfExponent').present) r.field('zipfExponent').fail('only applies to distribution: zipf');
  const distribution: Distribution = kind === 'uniform' ? { kind } : { kind, exponent };
  const rate = r.field('rate').number({ min: 1, max: 50_000 });
  // Every field is read before deciding, so all of their problems are reported together.
  const spec = {
    clients: r.field('clients').or(2, (f) => f.number({ integer: true, min: 1, max: 64 })),
    readRatio: r.field('readRatio').or(0.9, (f) => f.number({ min: 0, max: 1 })),
    distribution,
    l1: r.field('l1').or(false, (f) => f.boolean()),
    warmupMs: r.field('warmup').or(3000, (f) => f.duration({ min: 500, max: 600_000 })),
    timeoutMs: r.field('timeout').or(1000, (f) => f.duration({ min: 50, max: 60_000 })),
    originLatencyMs: r.field('originLatency').or(2, (f) => f.duration({ min: 0, max: 10_000 })),
  };
  return rate === undefined ? undefined : { ...spec, rate };
}

function readBounds(r: FieldReader): Bounds | undefined {
  const defaults: Bounds = { hitRatioDip: 0.05, convergeMs: 15_000, movedTolerance: 0.1, staleReads: 0 };
  if (!r.present) return defaults;
  if (!r.object(['hitRatioDip', 'converge', 'movedTolerance', 'staleReads'])) return undefined;
  return {
    hitRatioDip: r.field('hitRatioDip').or(defaults.hitRatioDip, (f) => f.number({ min: 0, max: 1 })),
    convergeMs: r.field('converge').or(defaults.convergeMs, (f) => f.duration({ min: 100, max: 600_000 })),
    movedTolerance: r.field('movedTolerance').or(defaults.movedTolerance, (f) => f.number({ min: 0, max: 10 })),
    staleReads: r.field('staleReads').or(defaults.staleReads, (f) => f.number({ integer: true, min: 0 })),
  };
}
