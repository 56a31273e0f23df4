import { CacheNode, createNodeLogger, type NodeConfig } from '@corral/server';
import { RawConnection, type RawConnectionOptions } from './raw-connection';

export interface TestNode {
  node: CacheNode;
  host: string;
  port: number;
  address: { host: string; port: number };
  /** A RawConnection to this node. */
  connect(opts?: RawConnectionOptions): Promise<RawConnection>;
  stop(graceMs?: number): Promise<void>;
}

/**
 * An in-process CacheNode on 127.0.0.1 and a free port. Logs are silent unless CORRAL_TEST_LOG
 * names a level (e.g. CORRAL_TEST_LOG=debug npx jest ...).
 */
export async function startTestNode(config: Partial<NodeConfig> = {}): Promise<TestNode> {
  const logger = config.logger ?? createNodeLogger(process.env['CORRAL_TEST_LOG'] ?? 'silent');
  const node = await CacheNode.start({ host: '127.0.0.1', port: 0, ...config, logger });
  const address = node.address;
  return {
    node,
    host: address.host,
    port: address.port,
    address,
    connect: (opts) => RawConnection.connect(address.port, { host: address.host, ...opts }),
    stop: (graceMs = 1_000) => node.stop({ graceMs }),
  };
}
