/**
 * A scenario as the harness runs it: every default filled in, every duration in ms, every host
 * reference checked against the timeline. `ScenarioSchema.parse` is the only way to get one.
 */
export interface Scenario {
  name: string;
  description: string;
  cluster: ClusterSpec;
  data: DataSpec;
  workload: WorkloadSpec;
  timeline: Step[];
  bounds: Bounds;
  /** How often throughput, latency, hit ratio and every node's status are sampled. */
  sampleMs: number;
  /** After a step converged, how long to let the cluster run before reading every key back. */
  settleMs: number;
}

export interface ClusterSpec {
  /** Nodes started before the timeline, named n1…nN; `add` steps continue the numbering. */
  nodes: number;
  maxMemoryBytes: number;
  gossipIntervalMs: number;
  probeTimeoutMs?: number;
  suspicionMult: number;
  /** Writes a node takes as the gutter of an unreachable owner get at most this TTL. */
  gutterTtlMs: number;
  handoffRateBytes?: number;
  vnodes?: number;
}

export interface DataSpec {
  keys: number;
  valueBytes: { min: number; max: number };
  /** TTL of every write; undefined = none. */
  ttlMs?: number;
}

export type Distribution = { kind: 'uniform' } | { kind: 'zipf'; exponent: number };

export interface WorkloadSpec {
  clients: number;
  /** Operations per second over all clients (open loop: arrivals do not wait for replies). */
  rate: number;
  readRatio: number;
  distribution: Distribution;
  /** Ask for the client's L1 near cache; reported as unavailable when the client has none. */
  l1: boolean;
  warmupMs: number;
  timeoutMs: number;
  /** How long the simulated origin (the database) takes to answer a load. */
  originLatencyMs: number;
}

export interface Bounds {
  /** Largest allowed drop of the hit ratio below the warm-up baseline, as a fraction (0.05 = 5 points). */
  hitRatioDip: number;
  /** Each step: the ring must agree on every live node (and the handoff finish) within this. */
  convergeMs: number;
  /** |moved - ideal| / ideal must stay within this for add, remove and graceful restart. */
  movedTolerance: number;
  /** Reads that returned an older value than one already acknowledged. */
  staleReads: number;
}

export type RestartMode = 'drain' | 'snapshot' | 'term' | 'kill';

interface StepBase {
  /** Position in the expanded timeline (a `restart: all` becomes one step per node). */
  index: number;
  /** Where it came from in the file, for messages: `timeline[3]`. */
  source: string;
  label: string;
  /** Assert that no acknowledged key became unreadable during the step. */
  noLoss: boolean;
  hitRatioDip?: number;
  convergeMs?: number;
}

export type Step = StepBase & (
  | { kind: 'add'; hosts: string[] }
  | { kind: 'remove'; host: string }
  | { kind: 'kill'; host: string }
  | { kind: 'pause'; host: string }
  | { kind: 'resume'; host: string }
  | { kind: 'restart'; host: string; mode: RestartMode }
  | { kind: 'partition'; host: string }
  | { kind: 'heal'; host: string; rejoinWaitMs: number }
  | { kind: 'netem'; host: string; delayMs: number; jitterMs: number; lossPct: number }
  | { kind: 'wait'; ms: number }
);

export type StepKind = Step['kind'];

/** Steps that change which nodes own keys: the ones whose moves are compared with the ideal. */
export const GRACEFUL_KINDS: ReadonlySet<StepKind> = new Set(['add', 'remove', 'restart']);

/** What a step needs from the host pool beyond processes and signals. */
export const NEEDS_NETNS: ReadonlySet<StepKind> = new Set(['partition', 'heal', 'netem']);
