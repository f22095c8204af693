// The --metrics endpoint: GET /metrics over HTTP, in Prometheus text or, when the scraper asks for
// it (Accept: application/openmetrics-text), OpenMetrics. The thin I/O edge over a MetricsRenderer.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { MetricsFormat, MetricsRenderer } from './registry.js';

export interface MetricsEndpoint {
  /** null: every address. */
  readonly host: string | null;
  readonly port: number;
}

/** The format a scraper's Accept header asks for. Pure. */
export function formatFor(accept: string | undefined): MetricsFormat {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'prometheus';
}

export class MetricsServer {
  private constructor(private readonly server: Server) {}

  /**
   * Listens on `at`; rejects with the listen error (EADDRINUSE, EACCES, ...). A later server error
   * (a failed accept) goes to `onError` and never ends the tool.
   */
  static start(
    at: MetricsEndpoint,
    renderer: MetricsRenderer,
    onError: (e: Error) => void = () => undefined,
  ): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      renderer.render(formatFor(req.headers.accept)).then(
        ({ body, contentType }) => {
          res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (e: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e instanceof Error ? e.message : String(e)}\n`);
        },
      );
    });
    server.keepAliveTimeout = 65_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host ?? undefined, () => {
        server.off('error', reject);
        server.on('error', onError);
        resolve(new MetricsServer(server));
      });
    });
  }

  /** The port it listens on (the one asked for, or the kernel's choice for 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
