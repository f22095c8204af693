// Bounded HTTP load generators run inside a lab host (curl, ab, wrk). Every run is limited in count
// and time, and may only target lab addresses or loopback.
import type { NsRunner } from './types.js';
import { LabError } from './errors.js';
import { parseAb, parseWrk, parseCurlCodes } from './loads-parse.js';
import type { AbResult, WrkResult } from './loads-parse.js';

export const LOAD_LIMITS = {
  maxCurlCount: 100_000,
  maxCurlParallel: 256,
  maxRequests: 2_000_000,
  maxConcurrency: 2_000,
  maxSeconds: 120,
  maxThreads: 16,
  maxConnections: 10_000,
} as const;

function bounded(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || !Number.isInteger(v) || v < min || v > max) {
    throw new LabError('EBADARG', `${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

export interface CurlOptions {
  /** Number of requests (sequential on one connection unless parallel > 1). */
  count: number;
  /** Concurrent transfers (curl --parallel). Default 1. */
  parallel?: number;
  /** Per-request limit in seconds (curl --max-time). Default 10. */
  maxTimeS?: number;
}

/** Runs count GETs of url; returns the HTTP status of each (0 = no response), in completion order. */
export async function curlLoad(host: NsRunner, url: string, opts: CurlOptions): Promise<number[]> {
  host.assertLabUrl(url);
  const count = bounded('count', opts.count, 1, LOAD_LIMITS.maxCurlCount);
  const parallel = bounded('parallel', opts.parallel ?? 1, 1, LOAD_LIMITS.maxCurlParallel);
  const maxTime = bounded('maxTimeS', opts.maxTimeS ?? 10, 1, LOAD_LIMITS.maxSeconds);
  const entry = `url = ${JSON.stringify(url)}\noutput = "/dev/null"\n`;
  const args = ['-s', '-K', '-', '-w', '%{http_code}\\n', '--max-time', String(maxTime), '--connect-timeout', '5'];
  if (parallel > 1) args.push('--parallel', '--parallel-max', String(parallel));
  // Whole-run bound: every request at its limit, divided by the parallelism, capped.
  const timeoutMs = Math.min(LOAD_LIMITS.maxSeconds * 1000, Math.ceil(count / parallel) * maxTime * 1000 + 5000);
  const r = await host.exec('curl', args, { check: false, input: entry.repeat(count), timeoutMs });
  const codes = parseCurlCodes(r.stdout);
  if (codes.length !== count) {
    throw new LabError('ECMDFAIL', `curl reported ${codes.length} of ${count} transfers (exit ${r.code})`, {
      command: `curl ${url} x${count}`,
      stderr: r.stderr,
    });
  }
  return codes;
}

export interface AbOptions {
  url: string;
  concurrency: number;
  requests: number;
  keepAlive: boolean;
  /** ab stops after this many seconds even if not all requests are done. */
  timeLimitS: number;
}

export async function abLoad(host: NsRunner, opts: AbOptions): Promise<AbResult> {
  host.assertLabUrl(opts.url);
  const c = bounded('concurrency', opts.concurrency, 1, LOAD_LIMITS.maxConcurrency);
  const n = bounded('requests', opts.requests, 1, LOAD_LIMITS.maxRequests);
  const t = bounded('timeLimitS', opts.timeLimitS, 1, LOAD_LIMITS.maxSeconds);
  if (c > n) throw new LabError('EBADARG', `concurrency (${c}) cannot exceed requests (${n})`);
  // -t before -n: -t implies -n 50000, a later -n overrides it.
  const args = ['-q', '-r', '-s', '5', '-c', String(c), '-t', String(t), '-n', String(n)];
  if (opts.keepAlive) args.push('-k');
  args.push(opts.url);
  const r = await host.exec('ab', args, { timeoutMs: (t + 15) * 1000 });
  return parseAb(r.stdout);
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationS: number;
}

export async function wrkLoad(host: NsRunner, opts: WrkOptions): Promise<WrkResult> {
  host.assertLabUrl(opts.url);
  const threads = bounded('threads', opts.threads, 1, LOAD_LIMITS.maxThreads);
  const conns = bounded('connections', opts.connections, threads, LOAD_LIMITS.maxConnections);
  const d = bounded('durationS', opts.durationS, 1, LOAD_LIMITS.maxSeconds);
  const r = await host.exec(
    'wrk',
    ['-t', String(threads), '-c', String(conns), '-d', `${d}s`, '--timeout', '2s', opts.url],
    { timeoutMs: (d + 15) * 1000 },
  );
  return parseWrk(r.stdout);
}
