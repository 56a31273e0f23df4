import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Prometheus metrics that mirror numbers the node already counts in plain fields: the hot path
 * bumps a number, and the metric catches up at scrape time (prom-client's inc() hashes labels on
 * every call, too slow per request or per push). Every subsystem's metrics use these two.
 */
/** A counter following a monotonic number kept elsewhere. */
export function monotonicCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name, help, registers: [registry],
    collect() {
      const v = read();
      if (v > seen) { this.inc(v - seen); seen = v; }
    },
  });
}

/** A gauge read at scrape time. */
export function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
}
