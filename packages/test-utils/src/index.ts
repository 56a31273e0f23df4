export * from './manual-clock';
export * from './node-process';
export * from './raw-connection';
export * from './test-node';
export * from './test-cluster';
export * from './gossip-cluster';
