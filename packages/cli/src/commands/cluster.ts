import { Command } from 'commander';
import { clusterAddCommand } from './cluster-add';
import { clusterHotkeysCommand } from './cluster-hotkeys';
import { clusterRemoveCommand } from './cluster-remove';
import { clusterRingCommand } from './cluster-ring';
import { clusterStatusCommand } from './cluster-status';

export function clusterCommand(): Command {
  return new Command('cluster')
    .description('look at and change a cluster formed by gossip: status, ring, add, remove, hotkeys')
    .addCommand(clusterStatusCommand())
    .addCommand(clusterRingCommand())
    .addCommand(clusterAddCommand())
    .addCommand(clusterRemoveCommand())
    .addCommand(clusterHotkeysCommand());
}
