export { formatTable, printTable } from './table';
export { spawnLocalNode, stopLocalNodes, type LocalNode } from './local-cluster';
export { parseAddress } from './options';
