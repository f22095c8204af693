// redis loads and checks for the replication lab: a bounded redis-benchmark run from a lab host,
// a content digest of a server's whole keyspace, and its per-command call counts.
import type { NsRunner } from './types.js';
import type { RedisServer } from './redis.js';
import { LabError } from './errors.js';

export const REDIS_BENCH_LIMITS = {
  maxRequests: 1_000_000,
  maxClients: 1000,
  maxPipeline: 1000,
  maxKeyspace: 10_000_000,
  maxSeconds: 120,
} as const;

export interface RedisBenchmarkOptions {
  /** The server's address: a lab host's address (checked). */
  host: string;
  port: number;
  /** Comma-separated tests, e.g. 'set,incr,lpush,hset' (redis-benchmark -t). */
  tests: string;
  /** Requests per test (-n). */
  requests: number;
  /** Parallel connections (-c). */
  clients: number;
  /** Requests per pipeline (-P). */
  pipeline: number;
  /** Keys are drawn from [0, keyspace) (-r). */
  keyspace: number;
  /** The whole run is killed after this long. Default 60. */
  timeLimitS?: number;
}

export interface RedisBenchmarkResult {
  /** Requests per second of each test, by the name redis-benchmark prints (e.g. 'SET'). */
  rps: Map<string, number>;
}

function bounded(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new LabError('EBADARG', `${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

/** Runs redis-benchmark (-q) from host against a lab redis; bounded in requests and time. */
export async function redisBenchmark(from: NsRunner, o: RedisBenchmarkOptions): Promise<RedisBenchmarkResult> {
  from.assertLabUrl(`redis://${o.host}:${o.port}/`);
  if (!/^[a-z,]+$/.test(o.tests)) throw new LabError('EBADARG', `bad redis-benchmark tests ${JSON.stringify(o.tests)}`);
  const n = bounded('requests', o.requests, 1, REDIS_BENCH_LIMITS.maxRequests);
  const c = bounded('clients', o.clients, 1, REDIS_BENCH_LIMITS.maxClients);
  const p = bounded('pipeline', o.pipeline, 1, REDIS_BENCH_LIMITS.maxPipeline);
  const r = bounded('keyspace', o.keyspace, 1, REDIS_BENCH_LIMITS.maxKeyspace);
  const t = bounded('timeLimitS', o.timeLimitS ?? 60, 1, REDIS_BENCH_LIMITS.maxSeconds);
  const args = [
    '-h',
    o.host,
    '-p',
    String(o.port),
    '-t',
    o.tests,
    '-n',
    String(n),
    '-c',
    String(c),
    '-P',
    String(p),
    '-r',
    String(r),
    '-q',
  ];
  const res = await from.exec('redis-benchmark', args, { timeoutMs: t * 1000 });
  return { rps: parseRedisBenchmark(res.stdout) };
}

/** `SET: 81234.56 requests per second, p50=...` lines (after carriage-return progress) → name → rps. Pure. */
export function parseRedisBenchmark(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.slice(raw.lastIndexOf('\r') + 1);
    const m = /^\s*([A-Za-z][\w ()]*?): ([\d.]+) requests per second/.exec(line);
    if (m && m[1] !== undefined) out.set(m[1], Number(m[2]));
  }
  return out;
}

/**
 * A digest of the whole keyspace (keys sorted; each key's type and value, hashes and sets sorted):
 * equal on two servers iff they hold the same data. Computed server-side by a Lua script, since
 * Redis 7 refuses DEBUG DIGEST unless started with enable-debug-command.
 */
export const KEYSPACE_DIGEST_LUA = `
local keys = redis.call('KEYS', '*')
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  local t = redis.call('TYPE', k)['ok']
  local v = ''
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'list' then v = table.concat(redis.call('LRANGE', k, 0, -1), '\\0')
  elseif t == 'set' then local m = redis.call('SMEMBERS', k); table.sort(m); v = table.concat(m, '\\0')
  elseif t == 'hash' then
    local h = redis.call('HGETALL', k); local f = {}
    for i = 1, #h, 2 do f[#f + 1] = h[i] .. '\\1' .. h[i + 1] end
    table.sort(f); v = table.concat(f, '\\0')
  elseif t == 'zset' then v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), '\\0')
  else v = '?' end
  parts[#parts + 1] = k .. '\\2' .. t .. '\\2' .. v
end
return redis.sha1hex(table.concat(parts, '\\3'))
`;

/** The keyspace digest of a lab redis (see KEYSPACE_DIGEST_LUA). */
export async function keyspaceDigest(server: RedisServer): Promise<string> {
  return await server.cli(['EVAL', KEYSPACE_DIGEST_LUA, '0']);
}

/** `INFO commandstats` → command name (lower case, e.g. 'set') → calls. Pure. */
export function parseCommandCalls(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== undefined) out.set(m[1], Number(m[2]));
  return out;
}

/** Calls per command so far on a lab redis. */
export async function commandCalls(server: RedisServer): Promise<Map<string, number>> {
  return parseCommandCalls(await server.cli(['INFO', 'commandstats']));
}
