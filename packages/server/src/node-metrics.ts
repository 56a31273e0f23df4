import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { monotonicCounter, readGauge } from './metric-mirrors';
import { allOps, type ErrorCode, type OpSpec } from '@corral/protocol';
import type { Logger } from 'pino';
import type { OpObserver } from './command-executor';
import type { ConnectionContext } from './connection-context';
import type { MemoryStore } from './memory-store';

export type DropReason =
  | 'output_buffer_hard' | 'output_buffer_stalled' | 'idle' | 'bad_frame' | 'too_many_connections' | 'shutdown_timeout';

/**
 * The node's Prometheus metrics, in a Registry of its own: several nodes can share a test process
 * and the global registry would make them collide. Store figures are read at scrape time instead
 * of counted per op, so the hot path pays nothing for them.
 */
export class NodeMetrics implements OpObserver {
  readonly registry = new Registry();
  private readonly ops: Counter<'op' | 'result'>;
  /** Successful ops counted in a plain array; prom-client hashes labels on every inc(), too slow per request. */
  private readonly okByCode: number[] = [];
  private readonly connectionsOpened: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly badFrames: Counter;
  private readonly internalErrors: Counter;
  private readonly pastDeadline: Counter;
  private openConnections = 0;
  /** Every request answered, ok or not: ops/s in `corral cluster status` comes from it. */
  opsTotal = 0;
  private readonly counts = { connectionsOpened: 0, droppedConnections: 0, badFrames: 0, internalErrors: 0, writesPastDeadline: 0 };

  constructor(store: MemoryStore, private readonly log: Logger) {
    const registers = [this.registry];
    const okByCode = this.okByCode;
    const reported: number[] = [];
    this.ops = new Counter({
      name: 'corral_ops_total', help: 'Requests by op and result (ok or error code)', labelNames: ['op', 'result'], registers,
      collect() {
        for (const op of allOps()) {
          const n = okByCode[op.code] ?? 0;
          if (n > (reported[op.code] ?? 0)) { this.labels(op.name, 'ok').inc(n - (reported[op.code] ?? 0)); reported[op.code] = n; }
        }
      },
    });
    monotonicCounter(this.registry, 'corral_hits_total', 'Reads that found a live entry', () => store.stats().hits);
    monotonicCounter(this.registry, 'corral_misses_total', 'Reads that found nothing', () => store.stats().misses);
    monotonicCounter(this.registry, 'corral_evictions_total', 'Entries evicted to stay within max-memory', () => store.stats().evictions);
    monotonicCounter(this.registry, 'corral_expirations_total', 'Entries removed because their TTL passed', () => store.stats().expirations);
    readGauge(this.registry, 'corral_keys', 'Entries in the store', () => store.size);
    readGauge(this.registry, 'corral_bytes_used', 'Accounted store bytes (keys + values + per-entry overhead)', () => store.bytesUsed);
    readGauge(this.registry, 'corral_max_memory_bytes', 'The store byte bound', () => store.maxMemoryBytes);
    readGauge(this.registry, 'corral_connections', 'Open client connections', () => this.openConnections);
    this.connectionsOpened = new Counter({ name: 'corral_connections_opened_total', help: 'Accepted connections', registers });
    this.dropped = new Counter({ name: 'corral_dropped_connections_total', help: 'Connections the node closed on a client', labelNames: ['reason'], registers });
    this.badFrames = new Counter({ name: 'corral_bad_frames_total', help: 'Framing errors (connection closed)', registers });
    this.internalErrors = new Counter({ name: 'corral_internal_errors_total', help: 'Requests that hit a bug (E_INTERNAL)', registers });
    this.pastDeadline = new Counter({ name: 'corral_writes_past_deadline_total', help: 'Writes refused because they arrived after their client\'s deadline (E_DEADLINE_PASSED)', registers });
  }

  /** Process-wide figures (RSS, GC, event loop); only for a node that owns its process. */
  includeProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'corral_' });
  }

  onOp(op: OpSpec | undefined, result: 'ok' | ErrorCode): void {
    this.opsTotal++;
    if (result === 'ok' && op !== undefined) this.okByCode[op.code] = (this.okByCode[op.code] ?? 0) + 1;
    else this.ops.labels(op?.name ?? 'unknown', result).inc();
  }

  onInternalError(op: OpSpec, err: unknown, ctx: ConnectionContext): void {
    this.internalErrors.inc();
    this.counts.internalErrors++;
    this.log.error({ err, op: op.name, conn: ctx.id, remote: ctx.remote }, 'op_internal_error');
  }

  connectionOpened(): void { this.openConnections++; this.counts.connectionsOpened++; this.connectionsOpened.inc(); }
  connectionClosed(): void { this.openConnections--; }
  connectionDropped(reason: DropReason): void { this.counts.droppedConnections++; this.dropped.labels(reason).inc(); }
  badFrame(): void { this.counts.badFrames++; this.badFrames.inc(); }
  writePastDeadline(): void { this.counts.writesPastDeadline++; this.pastDeadline.inc(); }

  /** The connection figures for STATS, so a client without Prometheus sees them too. */
  stats(): Record<string, number> {
    return { ...this.counts, connections: this.openConnections };
  }
}
