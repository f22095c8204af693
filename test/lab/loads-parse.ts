// Pure parsers for the output of the load tools the lab drives (ab, wrk, curl -w).
import { LabError } from './errors.js';

export interface AbResult {
  complete: number;
  failed: number;
  /** Requests per second (ab's mean). */
  rps: number;
  /** Responses with a non-2xx status (0 when ab prints no such line). */
  non2xx: number;
  keepAliveRequests: number;
  timeTakenS: number;
}

export interface WrkResult {
  requests: number;
  rps: number;
  durationS: number;
  /** Sum of connect/read/write/timeout socket errors (0 when wrk prints no such line). */
  socketErrors: number;
  /** Non-2xx-or-3xx responses (0 when wrk prints no such line). */
  non2xx: number;
  /** Mean latency in ms, or null if absent. */
  latencyAvgMs: number | null;
}

function num(text: string, re: RegExp, what: string, tool: string): number {
  const m = re.exec(text);
  const v = m?.[1] !== undefined ? Number(m[1]) : NaN;
  if (!Number.isFinite(v))
    throw new LabError('ECMDFAIL', `could not parse ${what} from ${tool} output`, { stderr: text.slice(-2000) });
  return v;
}

function optNum(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m?.[1] !== undefined ? Number(m[1]) : 0;
}

export function parseAb(text: string): AbResult {
  return {
    complete: num(text, /^Complete requests:\s+(\d+)/m, 'Complete requests', 'ab'),
    failed: num(text, /^Failed requests:\s+(\d+)/m, 'Failed requests', 'ab'),
    rps: num(text, /^Requests per second:\s+([\d.]+)/m, 'Requests per second', 'ab'),
    non2xx: optNum(text, /^Non-2xx responses:\s+(\d+)/m),
    keepAliveRequests: optNum(text, /^Keep-Alive requests:\s+(\d+)/m),
    timeTakenS: num(text, /^Time taken for tests:\s+([\d.]+)\s+seconds/m, 'Time taken for tests', 'ab'),
  };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** wrk prints sizes like "1.23k"; requests are plain integers but accept suffixes anyway. */
function scaled(value: string, suffix: string | undefined): number {
  const mult = suffix === 'k' ? 1e3 : suffix === 'M' ? 1e6 : suffix === 'G' ? 1e9 : 1;
  return Math.round(Number(value) * mult);
}

export function parseWrk(text: string): WrkResult {
  const m = /^\s*(\d+(?:\.\d+)?)([kMG])?\s+requests in\s+([\d.]+)(us|ms|s|m)\b/m.exec(text);
  if (m === null || m[1] === undefined || m[3] === undefined || m[4] === undefined) {
    throw new LabError('ECMDFAIL', 'could not parse the request count from wrk output', { stderr: text.slice(-2000) });
  }
  const sock = /Socket errors:\s*connect\s+(\d+),\s*read\s+(\d+),\s*write\s+(\d+),\s*timeout\s+(\d+)/.exec(text);
  const socketErrors = sock === null ? 0 : sock.slice(1, 5).reduce((a, v) => a + Number(v), 0);
  const lat = /^\s*Latency\s+([\d.]+)(us|ms|s|m)\b/m.exec(text);
  const latencyAvgMs =
    lat?.[1] !== undefined && lat[2] !== undefined ? Number(lat[1]) * (UNIT_MS[lat[2]] ?? NaN) : null;
  return {
    requests: scaled(m[1], m[2]),
    durationS: (Number(m[3]) * (UNIT_MS[m[4]] ?? NaN)) / 1000,
    rps: num(text, /^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec', 'wrk'),
    socketErrors,
    non2xx: optNum(text, /Non-2xx or 3xx responses:\s+(\d+)/),
    latencyAvgMs: latencyAvgMs !== null && Number.isFinite(latencyAvgMs) ? latencyAvgMs : null,
  };
}

/** Parses one `%{http_code}` per line (curl -w); 0 means no response. */
export function parseCurlCodes(text: string): number[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d{3}$/.test(l))
    .map(Number);
}
