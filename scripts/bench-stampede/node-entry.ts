// One cache node for the stampede benchmark, from the sources (no build needed): prints node_listening.
import { runNode } from '../../packages/server/src';

runNode({ host: '127.0.0.1', port: 0, logLevel: 'info', maxMemoryBytes: 256 * 1024 * 1024 }).catch(() => process.exit(1));
