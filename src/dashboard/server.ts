// The dashboard's HTTP edge (--http): GET / the page, GET /events server-sent events (a state at
// once, then one every intervalMs), GET /state the state as JSON. The states come from `state()`.
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { DASHBOARD_PAGE } from './page.js';

export interface DashboardEndpoint {
  /** null: every address. */
  readonly host: string | null;
  readonly port: number;
}

/** Most event-stream clients at once; more are answered 503. */
export const MAX_EVENT_CLIENTS = 64;

export class DashboardServer {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly server: Server,
    private readonly state: () => unknown,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.broadcast(), intervalMs);
    this.timer.unref();
  }

  /** Listens on `at`; rejects with the listen error (EADDRINUSE, ...). Later errors go to onError. */
  static start(
    at: DashboardEndpoint,
    state: () => unknown,
    opts: { readonly intervalMs?: number; readonly onError?: (e: Error) => void } = {},
  ): Promise<DashboardServer> {
    let self: DashboardServer | null = null;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(DASHBOARD_PAGE),
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : DASHBOARD_PAGE);
        return;
      }
      if (path === '/state') {
        const body = `${JSON.stringify(state())}\n`;
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (path === '/events' && self !== null) {
        self.subscribe(res);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the dashboard is at /\n');
    });
    server.keepAliveTimeout = 65_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host ?? undefined, () => {
        server.off('error', reject);
        server.on('error', opts.onError ?? (() => undefined));
        self = new DashboardServer(server, state, opts.intervalMs ?? 1000);
        resolve(self);
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  private subscribe(res: ServerResponse): void {
    if (this.clients.size >= MAX_EVENT_CLIENTS) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('too many dashboard clients\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    this.send(res, JSON.stringify(this.state()));
  }

  private send(res: ServerResponse, json: string): void {
    // A client that does not read is dropped rather than buffered without bound.
    if (res.writableLength > 1 << 20) {
      res.destroy();
      return;
    }
    res.write(`data: ${json}\n\n`);
  }

  private broadcast(): void {
    if (this.clients.size === 0) return;
    const json = JSON.stringify(this.state());
    for (const c of this.clients) this.send(c, json);
  }

  close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.clients) c.end();
    this.clients.clear();
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
