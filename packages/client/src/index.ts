export { Corral, type CorralOptions, type CallOptions, type SetOptions, type TtlOptions, type Entry } from './corral';
export { CorralError, ErrorCodes, isErrorCode, type ErrorCode } from './errors';
export {
  NodeConnection, ConnectionDefaults,
  type NodeConnectionOptions, type NodeConnectionEvents, type ConnectionState, type NodeAddress, type RequestOptions, type PushEvent,
} from './node-connection';
export type { HelloReply, NodeLimits } from './handshake';
export { Backoff, DefaultBackoff, type BackoffOptions } from './backoff';
export { SingleNodeRouter, type Router } from './router';
export { parseAddress } from './seeds';
export type { Logger } from './logger';
