import { createInterface } from 'node:readline';
import type { ChildSpawner } from '../hosts/child-spawner';

/** One `corral cluster …` run: what was run, how it ended, and its `--json` summary. */
export interface CommandRecord {
  argv: string[];
  exitCode: number | null;
  ms: number;
  summary: Record<string, unknown> | undefined;
  /** The last lines of stderr, when it failed. */
  error?: string;
}

/**
 * Membership changes go through the `corral cluster` commands, exactly as an operator runs them
 * (`cluster add` joins an empty node and follows the handoff; `cluster remove` drains a member
 * and exits it), so the harness tests the tool people use and not a private shortcut. Their
 * `--json` summary (keys moved, time to settle) goes into the report. The admin token travels in
 * the environment (CORRAL_ADMIN_TOKEN), never in argv.
 */
export class ClusterCommands {
  constructor(private readonly o: { spawner: ChildSpawner; cliEntry: string }) {}

  add(node: string, seed: string, waitMs: number): Promise<CommandRecord> {
    return this.run(['cluster', 'add', node, '--seed', seed, '--json', '--wait', `${waitMs}ms`]);
  }

  remove(node: string, seed: string, waitMs: number): Promise<CommandRecord> {
    return this.run(['cluster', 'remove', node, '--seed', seed, '--json', '--wait', `${waitMs}ms`]);
  }

  private async run(args: string[]): Promise<CommandRecord> {
    const t0 = performance.now();
    const s = this.o.spawner.spawn([process.execPath, this.o.cliEntry, ...args]);
    let summary: Record<string, unknown> | undefined;
    const stderr: string[] = [];
    createInterface({ input: s.child.stdout! }).on('line', (line) => {
      try {
        const v = JSON.parse(line) as unknown;
        if (typeof v === 'object' && v !== null) summary = v as Record<string, unknown>;
      } catch { /* not the summary */ }
    });
    createInterface({ input: s.child.stderr! }).on('line', (line) => { stderr.push(line); if (stderr.length > 20) stderr.shift(); });
    const exit = await s.exited;
    const rec: CommandRecord = { argv: ['corral', ...args], exitCode: exit.code, ms: Math.round(performance.now() - t0), summary };
    if (exit.code !== 0) rec.error = stderr.join('\n').trim() || `exited with ${exit.signal ?? exit.code}`;
    return rec;
  }
}
