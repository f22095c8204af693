// The demo without root or from an installed package: replays the capture shipped in demo/ (made by
// scripts/make-demo-capture.mjs) over the socket transport to an HTTP server of its own on loopback,
// prints the replay report, and succeeds when the server got every captured request.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { DemoLoadResult, DemoSummary } from './types.js';

// ---- without root: socket replay of demo/demo.pcapng ----------------------------------------

/** The capture shipped for the non-root demo (scripts/make-demo-capture.mjs writes it). */
export function demoCapturePath(): string {
  return join(packageRoot(), 'demo', 'demo.pcapng');
}

/** The server port of the HTTP sessions in the demo capture. */
export const DEMO_CAPTURE_PORT = 80;

export interface DemoHttpServer {
  server: Server;
  host: string;
  port: number;
  /** Requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * The demo's HTTP server (node:http): GET /demo/<n> answers 200 with a short text body; no Date
 * header, so the same request always gets the same bytes (the demo capture holds its real replies).
 */
export async function startDemoHttpServer(host = '127.0.0.1', port = 0): Promise<DemoHttpServer> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const body = `tcpcopy demo reply to ${req.method ?? '?'} ${req.url ?? '?'}\n`;
    res.sendDate = false;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    host,
    port: addr.port,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function runSocketDemo(out: (line: string) => void, why: string): Promise<DemoSummary> {
  const file = demoCapturePath();
  out(`tcpcopy demo (${why}): replaying ${file}`);
  out('  over ordinary TCP sockets (--transport socket) to a built-in HTTP server on loopback');
  const { replayCaptureOverSockets, formatReplayReport } = await import('../replay/socket/index.js');
  const target = await startDemoHttpServer();
  let served = 0;
  let report;
  try {
    out(
      `  target http://${target.host}:${target.port}/ (tcpcopy --offline ${file} --transport socket -x ${DEMO_CAPTURE_PORT}-${target.host}:${target.port})`,
    );
    report = await replayCaptureOverSockets({
      file,
      ports: [DEMO_CAPTURE_PORT],
      target: { host: target.host, port: target.port },
      accelerate: 1,
    });
    served = target.requests();
  } finally {
    await target.close();
  }
  out(formatReplayReport(report));
  const r = report.replay;
  // A session is ok only when every captured turn was sent and answered, so with all ok the turns
  // sent are the capture's requests (the demo capture has one request per turn: no pipelining).
  const captured = r.requestsSent;
  const ok =
    report.sessionsTotal > 0 &&
    r.sessionsFailed === 0 &&
    r.sessionsOk === report.sessionsTotal &&
    report.capture.gapBytes === 0 &&
    served === captured &&
    captured > 0;
  out(
    `requests: replayed ${captured}, served by the target ${served}; sessions ${r.sessionsOk}/${report.sessionsTotal} ok${ok ? '' : '  (FAILED: see above)'}`,
  );
  const load: DemoLoadResult = {
    name: 'socket replay of demo/demo.pcapng',
    online: captured,
    replicated: served,
    ratio: captured > 0 ? served / captured : 0,
    onlineRps: 0,
  };
  return { loads: [load], leaked: 0, tcpcopyExit: ok ? 0 : 1, interceptExit: null, ok };
}
