import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Prometheus figures of the invalidation stream and hot keys. Counted in plain objects on the hot
 * path and read at scrape time (prom-client's inc() hashes labels on every call, too slow per push).
 */
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

export function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
}
