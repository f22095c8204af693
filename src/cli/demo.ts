// The built-in demo (`tcpcopy demo`), the README's main command: live replication in its own network
// namespaces. It builds the replication lab (cli → nginx on onl:80 with tcpcopy beside it, nginx on
// tgt:8080 as the target, intercept on ast where tgt's replies to the clients end), runs three
// bounded loads against the online server, and prints for each how many requests the online and the
// target server logged and their ratio, then both tools' final summaries and whether any of the
// target's replies reached the client. Everything it builds is torn down at the end.
// Without root (no namespaces, no raw sockets), or from an installed package (which does not ship the
// lab), it replays instead the capture shipped in demo/
// (made by scripts/make-demo-capture.mjs) over the socket transport to an HTTP server of its own on
// loopback, prints the replay report, and succeeds when the server got every captured request.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type * as LabModule from '../lab/index.js';
import type { ReplicationStopResult } from '../lab/index.js';
import { packageRoot } from '../paths.js';

export interface DemoOptions {
  /** Sequential curl requests of the first load (one keep-alive connection). Default 50. */
  requests: number;
  /** Requests of each ab load (short connections, then keep-alive), 20 concurrent. Default 5000. */
  abRequests?: number;
  /** Where the lines go (default: stdout). */
  out?: (line: string) => void;
}

export interface DemoLoadResult {
  name: string;
  online: number;
  replicated: number;
  ratio: number;
  onlineRps: number;
}

export interface DemoSummary {
  loads: DemoLoadResult[];
  /** Frames from the target that reached the client (must be 0). */
  leaked: number;
  tcpcopyExit: number | null;
  interceptExit: number | null;
  /** Every ratio ≥ 0.999, nothing leaked, both tools exited 0. */
  ok: boolean;
}

const MIN_RATIO = 0.999;

function summaryLines(log: string, header: string): string[] {
  const lines = log.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0 && start < 0; i--) if ((lines[i] ?? '').includes(header)) start = i;
  return start < 0 ? [] : lines.slice(start).filter((l) => l.trim() !== '').map((l) => `  ${l.replace(/^\S+ \S+ \+\d+ \[\w+\] /, '')}`);
}

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const out = opts.out ?? ((line: string) => console.log(line));
  const abRequests = opts.abRequests ?? 5000;
  if (!Number.isInteger(opts.requests) || opts.requests < 1 || opts.requests > 1000) {
    throw new Error(`--requests must be an integer from 1 to 1000, got ${String(opts.requests)}`);
  }
  if (!Number.isInteger(abRequests) || abRequests < 20 || abRequests > 100_000) {
    throw new Error(`abRequests must be an integer from 20 to 100000, got ${String(abRequests)}`);
  }
  if (process.getuid?.() !== 0) return await runSocketDemo(out, 'not root: no network namespaces or raw sockets');
  // The lab is development support: an installed package does not ship it (package.json "files").
  let lab: typeof LabModule;
  try {
    lab = await import('../lab/index.js');
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    out('tcpcopy demo: the live demo in network namespaces runs from a git clone (bash scripts/demo.sh)');
    return await runSocketDemo(out, 'an installed copy: the lab ships with the sources only');
  }
  const { ReplicationLab, pollUntilSettled } = lab;
  out('tcpcopy demo: building the replication lab in network namespaces ...');
  const rl = await ReplicationLab.create({ service: 'nginx' });
  const loads: DemoLoadResult[] = [];
  let stopped: ReplicationStopResult | null = null;
  let leaked = -1;
  try {
    const { cli, onl, tgt, ast } = rl;
    out(`  cli ${cli.ip}   clients (curl, ab)`);
    out(`  onl ${onl.ip}   online nginx :${rl.onlinePort}, tcpcopy -x ${rl.onlinePort}-${tgt.ip}:${rl.targetPort} -s ${ast.ip}`);
    out(`  tgt ${tgt.ip}   target nginx :${rl.targetPort}, routes replies for ${cli.ip} via ast`);
    out(`  ast ${ast.ip}   intercept: captures the target's replies, returns their headers to tcpcopy`);
    const url = `http://${onl.ip}/`;
    const runs: { name: string; run: () => Promise<number> }[] = [
      {
        name: `${opts.requests} sequential curl requests (keep-alive)`,
        run: async () => {
          const t0 = performance.now();
          const codes = await cli.curl(url, { count: opts.requests });
          return (codes.length * 1000) / (performance.now() - t0);
        },
      },
      { name: `ab -c20 -n${abRequests} (short connections)`, run: async () => (await cli.ab({ url, concurrency: 20, requests: abRequests, keepAlive: false, timeLimitS: 60 })).rps },
      { name: `ab -k -c20 -n${abRequests} (keep-alive)`, run: async () => (await cli.ab({ url, concurrency: 20, requests: abRequests, keepAlive: true, timeLimitS: 60 })).rps },
    ];
    for (const load of runs) {
      const online0 = (await rl.online.logLines()).length;
      const target0 = (await rl.target.logLines()).length;
      const onlineRps = await load.run();
      const online = (await rl.online.logLines()).length - online0;
      const replicated = await pollUntilSettled(async () => (await rl.target.logLines()).length - target0, 15_000);
      const ratio = online > 0 ? replicated / online : 0;
      loads.push({ name: load.name, online, replicated, ratio, onlineRps });
      out(`${load.name}: online ${online} requests (${Math.round(onlineRps)} req/s), target ${replicated}, ratio ${ratio.toFixed(4)}`);
    }
    leaked = await rl.leakedFrames();
    stopped = await rl.stop();
    out('tcpcopy:');
    for (const l of summaryLines(stopped.tcpcopy?.log ?? '', 'tcpcopy summary')) out(l);
    out('intercept:');
    for (const l of summaryLines(stopped.intercept.log, 'intercept summary')) out(l);
    out(`replies from the target that reached the client: ${leaked}`);
  } finally {
    await rl.destroy();
  }
  const tcpcopyExit = stopped?.tcpcopy?.exitCode ?? null;
  const interceptExit = stopped?.intercept.exitCode ?? null;
  const ok = loads.every((l) => l.ratio >= MIN_RATIO && l.replicated <= l.online) && leaked === 0 && tcpcopyExit === 0 && interceptExit === 0;
  const total = loads.reduce((a, l) => ({ online: a.online + l.online, replicated: a.replicated + l.replicated }), { online: 0, replicated: 0 });
  out(`replication ratio: ${total.replicated}/${total.online} = ${(total.online > 0 ? total.replicated / total.online : 0).toFixed(4)}${ok ? '' : '  (FAILED: see above)'}`);
  return { loads, leaked, tcpcopyExit, interceptExit, ok };
}

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
    server, host, port: addr.port,
    requests: () => count,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function runSocketDemo(out: (line: string) => void, why: string): Promise<DemoSummary> {
  const file = demoCapturePath();
  out(`tcpcopy demo (${why}): replaying ${file}`);
  out('  over ordinary TCP sockets (--transport socket) to a built-in HTTP server on loopback');
  const { replayCaptureOverSockets, formatReplayReport } = await import('../replay/index.js');
  const target = await startDemoHttpServer();
  let served = 0;
  let report;
  try {
    out(`  target http://${target.host}:${target.port}/ (tcpcopy --offline ${file} --transport socket -x ${DEMO_CAPTURE_PORT}-${target.host}:${target.port})`);
    report = await replayCaptureOverSockets({ file, ports: [DEMO_CAPTURE_PORT], target: { host: target.host, port: target.port }, accelerate: 1 });
    served = target.requests();
  } finally {
    await target.close();
  }
  out(formatReplayReport(report));
  const r = report.replay;
  // A session is ok only when every captured turn was sent and answered, so with all ok the turns
  // sent are the capture's requests (the demo capture has one request per turn: no pipelining).
  const captured = r.requestsSent;
  const ok = report.sessionsTotal > 0 && r.sessionsFailed === 0 && r.sessionsOk === report.sessionsTotal && report.capture.gapBytes === 0 && served === captured && captured > 0;
  out(`requests: replayed ${captured}, served by the target ${served}; sessions ${r.sessionsOk}/${report.sessionsTotal} ok${ok ? '' : '  (FAILED: see above)'}`);
  const load: DemoLoadResult = { name: 'socket replay of demo/demo.pcapng', online: captured, replicated: served, ratio: captured > 0 ? served / captured : 0, onlineRps: 0 };
  return { loads: [load], leaked: 0, tcpcopyExit: ok ? 0 : 1, interceptExit: null, ok };
}
