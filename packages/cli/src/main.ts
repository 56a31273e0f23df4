import { Command } from 'commander';
import { CorralError } from '@corral/protocol';
import { nodeStartCommand } from './commands/node-start';
import { adminCommands } from './commands/admin';
import { devCommand } from './commands/dev';
import { clusterCommand } from './commands/cluster';

const program = new Command('corral')
  .description('Corral: a sharded cache cluster that protects your database.\nRun `corral <command> --help` for the flags of a command; node and connection flags have CORRAL_* environment twins (shown in each --help).')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');

program.addCommand(new Command('node').description('run a cache node').addCommand(nodeStartCommand()));
for (const c of adminCommands()) program.addCommand(c);
program.addCommand(clusterCommand());
program.addCommand(devCommand());
program.addCommand((require('./commands/harness') as typeof import('./commands/harness')).harnessCommand());
program.addCommand((require('./commands/warm') as typeof import('./commands/warm')).warmCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CorralError) {
    console.error(`corral: ${err.code}: ${err.message}`);
    if (err.code === 'E_NOT_CONNECTED' || err.code === 'E_CONNECTION_CLOSED')
      console.error('Is a node running there? Start one with `corral node start` or `npm start`, or pass --node host:port.');
  } else {
    console.error(`corral: ${(err as Error).message ?? String(err)}`);
  }
  process.exitCode = 1;
});
