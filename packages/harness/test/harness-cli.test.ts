import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src';
import { corral, processesOfHarness, registryFilesOf } from './helpers/harness-cli';
import { openReport } from './helpers/report-browser';

/**
 * `corral harness run` end to end, as an operator runs it: real node processes on loopback
 * aliases, the real `corral cluster add/remove`, a report on disk. Also what happens when it is
 * interrupted or killed: nothing it started may survive. Runs the built CLI (`npm test` builds).
 */

jest.setTimeout(120_000);

let out: string;
beforeAll(() => { out = mkdtempSync(join(tmpdir(), 'corral-harness-test-')); });
afterAll(() => rmSync(out, { recursive: true, force: true }));

const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;

it('runs a small scenario (add, drain) to a passing report, draws it, and leaves nothing behind', async () => {
  const dir = join(out, 'small');
  const run = corral(['harness', 'run', 'packages/harness/test/fixtures/small.yaml', '--out', dir, '--json']);
  const { code } = await run.done;
  expect({ code, stderr: code === 0 ? '' : run.stderr.join('\n') }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(run.stdout.at(-1)!)).toMatchObject({ scenario: 'small', passed: true, report: join(dir, 'report.json') });

  const r = readReport(dir);
  expect(r.passed).toBe(true);
  expect(r.steps.map((s) => [s.label, s.membersBefore.length, s.membersAfter.length, s.lost])).toEqual([
    ['add n4', 3, 4, 0], ['remove n2', 4, 3, 0], ['wait 1s', 3, 3, 0],
  ]);
  // The membership changes went through the operator's commands, and their summaries are kept.
  expect(r.steps[0]!.commands[0]).toMatchObject({ argv: expect.arrayContaining(['corral', 'cluster', 'add']), exitCode: 0, summary: expect.objectContaining({ settled: true }) });
  expect(r.steps[1]!.commands[0]).toMatchObject({ argv: expect.arrayContaining(['cluster', 'remove']), exitCode: 0 });
  for (const s of r.steps.slice(0, 2)) {
    expect(s.moved!.actual).toBeGreaterThan(0);
    expect(s.moved!.deviation).toBeLessThanOrEqual(0.1);
    expect(s.convergence!.handoffMs).not.toBeNull();
  }
  expect(r.samples.length).toBeGreaterThan(5);
  expect(r.samples.some((s) => Object.keys(s.nodes).length === 4)).toBe(true);
  expect(r.invariants.length).toBeGreaterThan(8);
  expect(r.invariants.every((i) => i.pass)).toBe(true);

  const page = await openReport(join(dir, 'report.html'));
  expect(page.pageErrors).toEqual([]);
  expect(page.requests).toEqual([]);
  expect(page.canvases.length).toBeGreaterThanOrEqual(6);
  expect(page.canvases.filter((c) => !c.painted)).toEqual([]);
  expect(page.invariantRows.map(({ name, step, pass }) => ({ name, step, pass }))).toEqual(r.invariants.map(({ name, step, pass }) => ({ name, step, pass })));

  expect(processesOfHarness(run.child.pid!)).toEqual([]);
  expect(registryFilesOf(run.child.pid!)).toEqual([]);
});

it('a scenario whose invariant breaks (kill with expect: no-loss) fails with exit 1 and lists the lost keys', async () => {
  const dir = join(out, 'broken');
  const run = corral(['harness', 'run', 'scenarios/broken-kill-no-loss.yaml', '--out', dir, '--quiet']);
  const { code } = await run.done;
  expect(code).toBe(1);
  const stdout = run.stdout.join('\n');
  expect(stdout).toMatch(/broken-kill-no-loss: FAILED/);
  expect(stdout).toMatch(/FAIL\s+no key lost\s+s0/);
  expect(stdout).toMatch(/Lost keys \(\d+\+?; key, step, owner when written, found by\):\n {2}h:\S+ {2}s0 {2}n2 {2}(read|sweep)/);

  const r = readReport(dir);
  expect(r.passed).toBe(false);
  const failing = r.invariants.filter((i) => !i.pass);
  expect(failing).toEqual([expect.objectContaining({ name: 'no key lost', step: 0 })]);
  expect(r.steps[0]!.lost).toBeGreaterThan(50);
  // Every key listed was owned by the killed node when it was last written.
  expect(new Set(r.lostKeys.map((k) => k.ownerAtWrite))).toEqual(new Set([r.hosts['n2']!.id]));
  expect(processesOfHarness(run.child.pid!)).toEqual([]);
});

it('Ctrl-C stops the run: the report is written as interrupted, every node is stopped', async () => {
  const dir = join(out, 'interrupted');
  const run = corral(['harness', 'run', 'scenarios/scale-out.yaml', '--out', dir]);
  await run.waitForStderr(/warming up/, 60_000);
  expect(processesOfHarness(run.child.pid!).length).toBeGreaterThanOrEqual(3);
  run.child.kill('SIGINT');
  const { code } = await run.done;
  expect(code).toBe(130);
  const r = readReport(dir);
  expect(r.aborted).toMatch(/interrupted/);
  expect(r.passed).toBe(false);
  expect(processesOfHarness(run.child.pid!)).toEqual([]);
  expect(registryFilesOf(run.child.pid!)).toEqual([]);
});

it('a harness killed outright leaves a record, and `corral harness cleanup` removes what it started', async () => {
  const run = corral(['harness', 'run', 'packages/harness/test/fixtures/small.yaml', '--out', join(out, 'killed'), '--quiet']);
  const pid = run.child.pid!;
  // Wait until its nodes run: the registry lists them.
  const deadline = Date.now() + 60_000;
  while (processesOfHarness(pid).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(processesOfHarness(pid).length).toBeGreaterThanOrEqual(3);
  run.child.kill('SIGKILL');
  await run.done;
  // The nodes outlive a SIGKILLed harness (nothing can catch that signal); its run record says what to remove.
  // (Another harness starting meanwhile would sweep them too: every run sweeps records whose owner is gone.)
  const cleanup = corral(['harness', 'cleanup']);
  expect((await cleanup.done).code).toBe(0);
  expect(cleanup.stdout.join('\n')).toMatch(/swept \d+ abandoned run/);
  const gone = Date.now() + 5_000;
  while (processesOfHarness(pid).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
  expect(processesOfHarness(pid)).toEqual([]);
  expect(registryFilesOf(pid)).toEqual([]);
});

it('rejects an invalid scenario with exit 2, listing each problem with its line and path', async () => {
  const file = join(out, 'bad.yaml');
  writeFileSync(file, 'name: bad\ncluster:\n  nodes: 3\ndata:\n  keys: 10\nworkload:\n  rate: 10\ntimeline:\n  - resume: n2\n  - wait: soon\n');
  const run = corral(['harness', 'run', file]);
  expect((await run.done).code).toBe(2);
  expect(run.stderr.join('\n')).toBe(`${file} is not a valid scenario:\n` +
    '  line 9: timeline[0].resume: resume needs n2 to be paused, but it is up at this point\n' +
    '  line 10: timeline[1].wait: must be a duration such as 500ms, 3s or 1m (got "soon")');
});
