export { Membership, type MembershipEvents } from './membership';
export type { Member, MemberState, MembershipOptions } from './types';
export type { MembershipStats } from './stats';
export { suspicionTimeoutMs, retransmitLimit, pushPullIntervalFor, DEFAULT_TIMINGS, type Timings } from './options';
export { CoordinatorError, CoordinatorErrorCodes, type CoordinatorErrorCode } from './errors';
export { systemClock, type Clock, type TimerHandle } from './clock';
export { GossipQueue } from './gossip-queue';
export { ProbeOrder } from './probe-order';
export { SuspicionTimers } from './suspicion-timers';
