import { Command } from 'commander';
import { join, resolve } from 'node:path';
import {
  HarnessRun, listNetns, leftoverLinks, loadScenario, NETNS_PREFIX, NetnsHosts, RunRegistry, ScenarioError, summaryText,
} from '@corral/harness';
import { CLI_ENTRY } from '../local-cluster';

interface RunFlags { netns?: boolean; out?: string; quiet?: boolean; json?: boolean }

/** Exit codes: 0 every invariant held, 1 one broke (or the run stopped early), 2 the scenario or the machine cannot run it. */
const EXIT_FAILED = 1;
const EXIT_UNUSABLE = 2;

export function harnessCommand(): Command {
  const run = new Command('run')
    .argument('<scenario>', 'scenario file (YAML or JSON), e.g. scenarios/scale-out.yaml')
    .description('run a rebalancing scenario against real node processes, check its invariants, write report.json and report.html; exits 1 when an invariant breaks')
    .option('--netns', 'put each host in its own network namespace (root + iproute2): needed for partition, heal and netem steps')
    .option('--out <dir>', 'where the report and node logs go (default .corral/harness/<scenario>-<time>)')
    .option('--quiet', 'no live progress, only the summary')
    .option('--json', 'print report.json\'s path and verdict as one JSON line instead of the summary')
    .action(async (file: string, f: RunFlags) => {
      let scenario;
      try {
        scenario = loadScenario(file);
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        console.error(e.message);
        process.exitCode = EXIT_UNUSABLE;
        return;
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const outDir = resolve(f.out ?? join('.corral', 'harness', `${scenario.name}-${stamp}`));
      const abort = new AbortController();
      const h = new HarnessRun({ scenario, scenarioFile: file, cliEntry: CLI_ENTRY, netns: !!f.netns, outDir, display: process.stderr, quiet: !!f.quiet, signal: abort.signal });
      // First Ctrl-C: finish gracefully (stop the step, write the report, stop every node). Second: stop everything now.
      const onSignal = (sig: NodeJS.Signals) => {
        if (!abort.signal.aborted) {
          process.stderr.write(`\n${sig}: stopping the run, writing the report and stopping every node (again to force)…\n`);
          abort.abort();
          return;
        }
        h.emergencyStop();
        process.exit(130);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { report, paths } = await h.run();
        if (f.json) console.log(JSON.stringify({ scenario: scenario.name, passed: report.passed, report: paths.json, html: paths.html }));
        else console.log(summaryText(report, paths));
        process.exitCode = abort.signal.aborted ? 130 : report.passed ? 0 : EXIT_FAILED;
      } catch (e) {
        console.error(`corral harness: ${(e as Error).message}`);
        process.exitCode = abort.signal.aborted ? 130 : EXIT_UNUSABLE;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  const validate = new Command('validate')
    .argument('<scenario...>', 'scenario files')
    .description('check scenario files without running them; lists every problem with its line')
    .action((files: string[]) => {
      for (const file of files) {
        try {
          const s = loadScenario(file);
          console.log(`${file}: ok (${s.name}: ${s.cluster.nodes} nodes, ${s.timeline.length} steps: ${s.timeline.map((x) => x.label).join('; ')})`);
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
          console.error(e.message);
          process.exitCode = EXIT_UNUSABLE;
        }
      }
    });

  const cleanup = new Command('cleanup')
    .description('remove what harness runs that were killed left behind (node processes, network namespaces, links)')
    .action(() => {
      const r = RunRegistry.sweep(undefined, NetnsHosts.teardown);
      console.log(`swept ${r.runs} abandoned run(s): ${r.killed} processes killed, ${r.netns} namespaces and ${r.links} links removed`);
      const ns = listNetns(NETNS_PREFIX);
      const links = leftoverLinks();
      if (ns.length > 0 || links.length > 0)
        console.log(`still present (a run in progress, or made by hand): namespaces ${ns.join(' ') || 'none'}; links ${links.join(' ') || 'none'}`);
    });

  return new Command('harness')
    .description('rebalancing test harness: run scenarios (scale out/in, restarts, crashes, partitions) on real hosts and check the invariants')
    .addCommand(run)
    .addCommand(validate)
    .addCommand(cleanup);
}
