import { ScenarioSchema, type Report, type Sample, type StepReport } from '../../src';

/**
 * A report as a run would write it, with made-up but plausible figures: a 3-node cluster grows to
 * 4, then a node is killed. For testing the report page without running a cluster.
 */
export function sampleReport(): Report {
  const parsed = ScenarioSchema.parse({
    name: 'sample', description: 'fixture: add one node, then kill one', cluster: { nodes: 3 }, data: { keys: 1000 },
    workload: { rate: 200 }, timeline: [{ add: 1 }, { kill: 'n2', hitRatioDip: 0.5 }],
  });
  if (!parsed.ok) throw new Error('fixture scenario invalid');
  const hosts = { n1: '127.77.1.11:30000', n2: '127.77.1.12:30000', n3: '127.77.1.13:30000', n4: '127.77.1.14:30000' };
  const samples: Sample[] = [];
  for (let i = 1; i <= 40; i++) {
    const t = i * 0.5;
    const step = t < 5 ? -1 : t < 11 ? 0 : 1;
    const afterKill = step === 1 ? Math.max(0, 0.3 - (t - 11) * 0.03) : 0;
    const nodes: Sample['nodes'] = {};
    for (const [n] of Object.entries(hosts)) {
      if (n === 'n4' && t < 6) continue;
      if (n === 'n2' && t >= 11) continue;
      nodes[n] = { keys: 250 + (n === 'n4' ? Math.min(250, (t - 6) * 200) : 80), epoch: 3, ringMembers: 4, fingerprint: 1, live: t < 6 ? 3 : 4, view: { alive: 4 }, handoffLeft: t > 6 && t < 7 ? 120 : 0, pendingArcs: 0 };
    }
    samples.push({
      t, step, opsPerSec: 200 + (i % 3), reads: 90, writes: 10, hitRatio: 1 - afterKill, l1HitRatio: null,
      p50: 0.4 + (i % 5) / 10, p99: 3 + (i % 7), max: 9 + i % 11, errors: step === 1 && t < 12 ? { E_TIMEOUT: 2 } : {},
      originLoads: Math.round(afterKill * 90), staleReads: 0, missedAcked: Math.round(afterKill * 30), skipped: 0, nodes,
    });
  }
  const steps: StepReport[] = [
    {
      index: 0, label: 'add n4', kind: 'add', source: 'timeline[0]', startedAt: 5, endedAt: 11, noLoss: true,
      membersBefore: ['n1', 'n2', 'n3'], membersAfter: ['n1', 'n2', 'n3', 'n4'],
      keysBefore: { n1: 330, n2: 340, n3: 330 }, keysAfter: { n1: 250, n2: 255, n3: 245, n4: 250 },
      convergence: { ringMs: 900, handoffMs: 1400 }, moved: { actual: 250, ringIdeal: 250, balanced: 250, deviation: 0, ringImbalance: 0, keysBefore: 1000 },
      lost: 0, unavailable: 0, regressions: [], staleReads: 0, hitRatio: { baseline: 1, before: 1, min: 1, dip: 0 },
      commands: [{ argv: ['corral', 'cluster', 'add', hosts.n4, '--json'], exitCode: 0, ms: 1200, summary: { moved: { keys: 250 } } }], notes: [],
    },
    {
      index: 1, label: 'kill n2', kind: 'kill', source: 'timeline[1]', startedAt: 11, endedAt: 20, noLoss: false,
      membersBefore: ['n1', 'n2', 'n3', 'n4'], membersAfter: ['n1', 'n3', 'n4'],
      keysBefore: { n1: 250, n2: 255, n3: 245, n4: 250 }, keysAfter: { n1: 300, n3: 290, n4: 310 },
      convergence: { ringMs: 1800, handoffMs: 1800 }, moved: null,
      lost: 255, unavailable: 0, regressions: [], staleReads: 0, hitRatio: { baseline: 1, before: 1, min: 0.7, dip: 0.3 },
      commands: [], notes: ['a note with <markup> that must be escaped'],
    },
  ];
  return {
    version: 1, scenario: parsed.scenario, scenarioFile: 'scenarios/sample.yaml', startedAt: '2026-01-01T00:00:00.000Z', durationS: 20,
    hostMode: 'loopback', hosts: Object.fromEntries(Object.entries(hosts).map(([n, id]) => [n, { id, logFile: `/tmp/logs/${n}.log` }])),
    l1: { requested: false, available: false, note: 'off in this scenario' }, baselineHitRatio: 1, samples, steps,
    invariants: [
      { name: 'no key lost', step: 0, stepLabel: 'add n4', pass: true, expected: '0 acknowledged keys gone', actual: '0' },
      { name: 'keys moved within 10.0% of ideal', step: 0, stepLabel: 'add n4', pass: true, expected: '250 ± 25', actual: '250 (+0.0%)' },
      { name: 'membership converged within bound', step: 1, stepLabel: 'kill n2', pass: false, expected: 'ring and handoff ≤ 1.00 s', actual: 'ring 1.80 s, handoff 1.80 s' },
      { name: 'no version regression', step: null, stepLabel: null, pass: true, expected: '0', actual: '0' },
    ],
    lostKeys: [{ key: 'h:x:17', step: 1, atMs: 11_200, atWall: '2026-01-01T00:00:11.200Z', detectedBy: 'read', lastAckedSeq: 3, lastAckedVersion: 123456, ownerAtWrite: hosts.n2, cameBack: false }],
    lostKeysOmitted: 254,
    totals: { ops: 8000, reads: 7200, writes: 800, originLoads: 300, staleReads: 0, lost: 255, unavailable: 0, errors: { E_TIMEOUT: 4 }, evictions: 0 },
    passed: false,
  };
}
