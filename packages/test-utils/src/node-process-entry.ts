#!/usr/bin/env node
/**
 * Runs one cache node in this process, for tests that need a real process (RSS, signals, crashes)
 * without depending on the CLI. Takes `--flag value` pairs named like `corral node start`'s options,
 * plus `--config-json '{...}'` for anything else (NodeConfig fields).
 */
import { parseBytes, parseDuration } from '@corral/protocol';
import { runNode, type RunNodeOptions } from '@corral/server';

type Kind = 'string' | 'int' | 'bytes' | 'duration' | 'list';
/** The same names as `corral node start`; --shutdown-grace is not a CLI flag yet. */
const FLAGS: Record<string, [keyof RunNodeOptions, Kind]> = {
  '--host': ['host', 'string'],
  '--port': ['port', 'int'],
  '--node-id': ['nodeId', 'string'],
  '--max-memory': ['maxMemoryBytes', 'bytes'],
  '--max-key': ['maxKeyBytes', 'bytes'],
  '--max-value': ['maxValueBytes', 'bytes'],
  '--max-frame': ['maxFrameBytes', 'bytes'],
  '--max-connections': ['maxConnections', 'int'],
  '--idle-timeout': ['idleTimeoutMs', 'duration'],
  '--output-buffer-soft': ['outputBufferSoftBytes', 'bytes'],
  '--output-buffer-hard': ['outputBufferHardBytes', 'bytes'],
  '--output-buffer-pause': ['outputBufferPauseMs', 'duration'],
  '--admin-token': ['adminToken', 'string'],
  '--metrics-port': ['metricsPort', 'int'],
  '--metrics-host': ['metricsHost', 'string'],
  '--log-level': ['logLevel', 'string'],
  '--shutdown-grace': ['shutdownGraceMs', 'duration'],
  '--peers': ['peers', 'list'],
  '--vnodes': ['vnodes', 'int'],
  '--resp-port': ['respPort', 'int'],
  '--gutter-ttl': ['gutterTtlMs', 'duration'],
  '--snapshot-file': ['snapshotFile', 'string'],
  '--snapshot-mode': ['snapshotMode', 'string'],
  '--snapshot-max-keys': ['snapshotMaxKeys', 'int'],
};

export function parseNodeArgs(argv: string[]): RunNodeOptions {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--config-json') {
      Object.assign(out, JSON.parse(value) as object);
      continue;
    }
    const spec = FLAGS[flag];
    if (!spec) throw new Error(`unknown option ${flag} (known: ${Object.keys(FLAGS).join(' ')} --config-json)`);
    const [name, kind] = spec;
    out[name] = kind === 'list' ? value.split(',').map((x) => x.trim()).filter(Boolean) : kind === 'string' ? value : kind === 'bytes' ? parseBytes(value) : kind === 'duration' ? parseDuration(value) : toInt(flag, value);
  }
  return out as RunNodeOptions;
}

function toInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got ${v}`);
  return n;
}

if (require.main === module) {
  let opts: RunNodeOptions;
  try {
    opts = parseNodeArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  runNode(opts).catch(() => process.exit(1));
}
