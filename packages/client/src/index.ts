export { Corral, type CorralOptions, type CorralEvents, type CallOptions, type SetOptions, type TtlOptions, type Entry } from './corral';
export { CorralError, ErrorCodes, isErrorCode, type ErrorCode } from './errors';
export {
  NodeConnection, ConnectionDefaults,
  type NodeConnectionOptions, type NodeConnectionEvents, type ConnectionState, type NodeAddress, type RequestOptions, type PushEvent,
} from './node-connection';
export type { HelloReply, NodeLimits } from './handshake';
export { Backoff, DefaultBackoff, type BackoffOptions } from './backoff';
export { SingleNodeRouter, type Router, type Route } from './router';
export {
  ClusterRouter, type ClusterRouterOptions, type ClusterRouterEvents, type TopologyView, type MemberView,
} from './cluster-router';
export {
  CircuitBreaker, DefaultBreaker, type BreakerOptions, type BreakerState, type BreakerStateChange,
} from './circuit-breaker';
export type { NodeDownPolicy } from './route-choice';
export { parseTopology, type Topology, type TopologyMember, type MemberState } from './topology';
export { parseAddress } from './seeds';
export type { Logger } from './logger';
export type { GetOrSetOptions, StampedeOptions } from './stampede/get-or-set-options';
export type { Loader, LoaderContext } from './stampede/loader-run';
export type { StampedeStats } from './stampede/stampede-stats';
export type { StampedeReport } from './stampede/stampede-services';
export { CacheBreaker, DefaultCacheBreaker, isCacheFailure, type CacheBreakerOptions, type CacheBreakerState, type CacheBreakerStateChange } from './stampede/cache-breaker';
export { OriginLimiter, DefaultOriginLimiter, type OriginLimiterOptions, type OriginLimiterStats } from './stampede/origin-limiter';
export { Coalescer } from './stampede/coalescer';
export { xfetchShouldRefresh, xfetchRefreshProbability } from './stampede/xfetch';
export type { Lock, LockOptions, LockStats } from './stampede/distributed-lock';
export { WriteBehindQueue, type WriteBehindOptions, type WriteBehindStats, type DatabaseWriter } from './write/write-behind-queue';
export type { WriteOptions, SetIfNewerOptions, UpdateOptions, WriteStats } from './write/write-strategies';
export type { WarmLoader, WarmOptions, WarmProgress, WarmResult } from './warm/warmer';
export { BackgroundWarmer, BackgroundWarmerDefaults, type BackgroundWarmerOptions, type BackgroundWarmerStats } from './warm/background-warmer';
export { HotKeyTable, type HotKeyTableOptions, type TrackedKey } from './warm/hot-key-table';
export type { AccessObserver, RefreshAheadOptions, RefreshOutcome, WarmRefresher } from './warm/refresh-ahead';
export type { L1Options, HotKeyReadOptions } from './l1/l1-options';
export type { L1Stats, FlushReason } from './l1/l1-stats';
