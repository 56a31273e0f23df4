import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** The Prometheus scrape endpoint (/metrics) and a liveness probe (/healthz) for one node. */
export class MetricsServer {
  private constructor(private readonly server: Server, readonly port: number) {}

  static start(opts: { registry: Registry; host: string; port: number; healthy: () => boolean; log: Logger }): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        opts.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
          (err: unknown) => {
            opts.log.error({ err }, 'metrics_collect_failed');
            res.writeHead(500).end();
          });
      } else if (path === '/healthz') {
        const ok = opts.healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'shutting down\n');
      } else {
        res.writeHead(404).end();
      }
    });
    // A scraper that hangs must not keep the node from shutting down.
    server.keepAliveTimeout = 5_000;
    server.requestTimeout = 10_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        const port = (server.address() as AddressInfo).port;
        opts.log.info({ host: opts.host, port }, 'metrics_listening');
        resolve(new MetricsServer(server, port));
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
