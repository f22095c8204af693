// redis-server inside a lab host: no persistence, protected mode off, DEBUG allowed (DEBUG DIGEST
// compares datasets), bound to the host's lab addresses and loopback, run in the foreground
// (tracked by the lab); cli() runs redis-cli against it.
import { join } from 'node:path';
import type { NsRunner } from './types.js';
import { LabError } from './errors.js';
import { stopProcessTree, detachFromLoop, tail, readLog, waitListening } from './proc.js';

export interface RedisOptions {
  /** TCP port. Default 6379. */
  port?: number;
}

export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  /** Runs `redis-cli -h <host ip> -p <port> ...args` in the host; returns stdout without the final newline. */
  cli(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

/** redis-server's command line arguments. Pure. */
export function redisArgs(dir: string, port: number, addresses: readonly string[]): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    ...addresses,
    '--protected-mode',
    'no',
    '--enable-debug-command',
    'yes',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
    '--pidfile',
    join(dir, 'redis.pid'),
    '--logfile',
    join(dir, 'redis.log'),
  ];
}

export async function startRedis(host: NsRunner, opts: RedisOptions = {}): Promise<RedisServer> {
  const port = opts.port ?? 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LabError('EBADARG', `bad port ${port}`);
  const dir = await host.makeTempDir(`redis${port}`);
  const addresses = host.ipv6 ? [host.ip, host.ip6, '127.0.0.1', '::1'] : [host.ip, '127.0.0.1'];
  const child = host.spawn('redis-server', redisArgs(dir, port, addresses), { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  child.on('error', () => undefined);
  detachFromLoop(child);
  try {
    await waitListening(host, port, child, 'redis-server', () => out() + err() + readLog(join(dir, 'redis.log')));
  } catch (e) {
    await stopProcessTree(child, 500);
    throw e;
  }
  return {
    port,
    pid: child.pid ?? 0,
    async cli(args: readonly string[]): Promise<string> {
      const r = await host.exec('redis-cli', ['-h', host.ip, '-p', String(port), ...args], { timeoutMs: 10_000 });
      return r.stdout.replace(/\n$/, '');
    },
    stop: () => stopProcessTree(child),
  };
}
