export { loadRingHasher, isRingHasherLoaded, hashKey, hashKeyBytes, RING_HASH_SEED } from './hasher';
export { HashRing, DEFAULT_VNODES, type RingMember, type RingOptions } from './ring';
export { arcContains, arcLength, HASH_SPACE, MAX_HASH, type RingArc, type MovedArc } from './arc';
export { movedArcs } from './moved-arcs';
export { ringBalance, loadBalance, type RingBalance } from './balance';
export { RingError, type RingErrorCode } from './errors';
