import { CorralError } from '@corral/protocol';
import type { ConnectionContext } from '../connection-context';
import type { MemoryStore } from '../memory-store';
import type { LeaseService } from './lease-service';

type Handler = (args: unknown[], ctx: ConnectionContext) => unknown;
type Options = Record<string, unknown>;

/** The executor's entries for the lease ops and SETIFNEWER (arguments already validated by the op table). */
export function leaseHandlers(leases: LeaseService, store: MemoryStore): Record<'LGET' | 'LSET' | 'LDROP' | 'SETIFNEWER', Handler> {
  return {
    LGET: (a) => {
      const o = options(a[1]);
      return leases.lget(a[0] as string, {
        leaseTtlMs: field(o, 'leaseTtlMs'), waitMs: field(o, 'waitMs'), graceMs: field(o, 'graceMs'), early: field(o, 'early'),
        seenVersion: field(o, 'seenVersion'),
      });
    },
    LSET: (a) => {
      const o = options(a[3]);
      return leases.lset(a[0] as string, a[1] as Buffer, nullable(a[2]), {
        ttlMs: field(o, 'ttlMs'), flags: field(o, 'flags'), graceMs: field(o, 'graceMs'), deltaMs: field(o, 'deltaMs'),
      });
    },
    LDROP: (a) => leases.ldrop(a[0] as string, a[1] as number),
    SETIFNEWER: (a) => {
      const o = options(a[3]);
      const flags = field<number>(o, 'flags');
      if (flags !== undefined && flags > 255) throw new CorralError('E_BAD_ARGS', 'SETIFNEWER: flags must be 0..255');
      return store.set(a[0] as string, a[1] as Buffer, {
        ttlMs: field(o, 'ttlMs'), flags, graceMs: field(o, 'graceMs'), sourceVersion: a[2] as number, ifSourceNewer: true,
      });
    },
  };
}

export function options(x: unknown): Options {
  return typeof x === 'object' && x !== null ? (x as Options) : {};
}

/** An option value; null (msgpack nil) counts as absent. */
export function field<T>(o: Options, name: string): T | undefined {
  const v = o[name];
  return v === null || v === undefined ? undefined : (v as T);
}

function nullable(x: unknown): number | undefined {
  return x === null || x === undefined ? undefined : (x as number);
}
