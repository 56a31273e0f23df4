import { asAddress, asDuration, envOption } from '../options';

/** Flags every `corral cluster` command shares. */
export interface ClusterFlags { seed: string; adminToken?: string; timeout: number; json?: boolean }

export const seedOption = () => envOption('--seed <host:port>', 'data address of any member to learn the cluster from', 'CORRAL_SEED')
  .argParser(asAddress).default('127.0.0.1:7070');
export const clusterTokenOption = () => envOption('--admin-token <token>', 'admin token, when the nodes have one (the cluster ops are admin ops)', 'CORRAL_ADMIN_TOKEN');
export const requestTimeoutOption = () => envOption('--timeout <duration>', 'give up on a node that does not answer one request in this long', 'CORRAL_TIMEOUT')
  .argParser(asDuration).default(2000, '2s');

export const adminOptions = (f: ClusterFlags) => ({ timeoutMs: f.timeout, ...(f.adminToken !== undefined && { auth: f.adminToken }) });
