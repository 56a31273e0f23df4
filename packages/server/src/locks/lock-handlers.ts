import type { ConnectionContext } from '../connection-context';
import { field, options } from '../leases/lease-handlers';
import type { LockService } from './lock-service';

type Handler = (args: unknown[], ctx: ConnectionContext) => unknown;

/** The executor's entries for the lock ops (arguments already validated by the op table). */
export function lockHandlers(locks: LockService): Record<'LOCK' | 'UNLOCK' | 'LOCKEXTEND', Handler> {
  return {
    LOCK: (a, ctx) => {
      const o = options(a[1]);
      return locks.lock(a[0] as string, field(o, 'ttlMs'), field(o, 'waitMs'), ctx);
    },
    UNLOCK: (a) => locks.unlock(a[0] as string, a[1] as number),
    LOCKEXTEND: (a) => locks.extend(a[0] as string, a[1] as number, a[2] as number),
  };
}
