import xxhash from 'xxhash-wasm';
import { RingError } from './errors';

type XXHash = Awaited<ReturnType<typeof xxhash>>;

/**
 * Part of the ring's definition, like the hash function itself: every server and client must
 * agree on it, so changing it re-maps every key in a running cluster.
 */
export const RING_HASH_SEED = 0;

let api: XXHash | undefined;
let loading: Promise<void> | undefined;

/** Idempotent. xxhash-wasm compiles its WebAssembly asynchronously, so hashing cannot be lazy. */
export function loadRingHasher(): Promise<void> {
  loading ??= xxhash().then(
    (loaded) => {
      api = loaded;
    },
    (err: unknown) => {
      loading = undefined; // let a later call retry instead of caching the failure forever
      throw err;
    },
  );
  return loading;
}

export function isRingHasherLoaded(): boolean {
  return api !== undefined;
}

/** xxh32 of the key's UTF-8 bytes, as a uint32. */
export function hashKey(key: string): number {
  return (api ?? notLoaded()).h32(key, RING_HASH_SEED);
}

/** Same value as `hashKey` for the UTF-8 encoding of a string, for keys that arrive as bytes. */
export function hashKeyBytes(key: Uint8Array): number {
  return (api ?? notLoaded()).h32Raw(key, RING_HASH_SEED);
}

function notLoaded(): never {
  throw new RingError(
    'ERR_RING_HASHER_NOT_LOADED',
    'ring hasher not loaded: await loadRingHasher() once per process before hashing keys or building a HashRing',
  );
}
