import { CacheNode } from './cache-node';
import { createNodeLogger } from './logger';
import type { NodeConfig } from './node-config';

export type RunNodeOptions = Partial<NodeConfig>;

/**
 * The process entry behind `corral node start`: one node per process, JSON logs on stdout, and a
 * graceful stop (shutdownGraceMs) on SIGTERM/SIGINT that exits 0 — orchestrators read any other
 * code as a crash. The `node_listening` line carries the bound port, which is how callers learn
 * what port 0 picked. A second signal exits at once with 1.
 */
export async function runNode(config: RunNodeOptions = {}): Promise<CacheNode> {
  const logger = config.logger ?? createNodeLogger(config.logLevel);
  const log = logger.child({ component: 'process' });
  let node: CacheNode;
  try {
    node = await CacheNode.start({ ...config, logger });
  } catch (err) {
    log.fatal({ err }, 'node_start_failed');
    throw err;
  }
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second_signal_exiting_now');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'signal_received');
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => { log.error({ err }, 'stop_failed'); process.exit(1); });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // `corral cluster remove` without --keep-running: the node has handed every key over and left; done.
  node.agent?.on('drained', ({ exit }) => {
    if (!exit || signalled) return;
    signalled = true;
    log.info({}, 'drained_exiting');
    node.stop().then(() => process.exit(0), (err: unknown) => { log.error({ err }, 'stop_failed'); process.exit(1); });
  });
  return node;
}
