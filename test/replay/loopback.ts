// Servers on a loopback address (127.77.x.y) in the root namespace for the socket-replay tests (no lab needed: the
// socket
// transport reaches its target over loopback): nginx with the lab's config bound to that address only,
// redis-server with the lab's arguments, each in a private temp dir, stopped by pid.
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { nginxConfig, NGINX_BODIES } from '../lab/nginx.js';
import { redisArgs } from '../lab/redis.js';
import { stopProcessTree } from '../lab/proc.js';
import { LOOPBACK_ADDR } from './address.js';

const run = promisify(execFile);

export { LOOPBACK_ADDR };

/** A port free on LOOPBACK_ADDR right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, LOOPBACK_ADDR);
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

async function waitConnectable(port: number, child: ChildProcess, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited during start-up`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: LOOPBACK_ADDR, port });
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not listen on ${LOOPBACK_ADDR}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface LoopbackNginx {
  port: number;
  logLines(): string[];
  stop(): Promise<void>;
}

export async function startLoopbackNginx(port: number): Promise<LoopbackNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'replay-nginx-'));
  mkdirSync(join(dir, 'www'));
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'www', 'index.txt'), NGINX_BODIES['/']);
  writeFileSync(join(dir, 'www', '1k'), NGINX_BODIES['/1k']);
  const conf = nginxConfig(dir, port, { accessLog: true, workers: 1, ipv6: false }).replace(
    `listen ${port} default_server`,
    `listen ${LOOPBACK_ADDR}:${port} default_server`,
  );
  if (!conf.includes(`listen ${LOOPBACK_ADDR}:${port} `)) throw new Error('nginx config: listen line not found');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: 'ignore',
  });
  child.on('error', () => undefined);
  const stop = async (): Promise<void> => {
    await stopProcessTree(child, 2000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitConnectable(port, child, 'nginx');
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    logLines: () => {
      try {
        return readFileSync(join(dir, 'access.log'), 'utf8')
          .split('\n')
          .filter((l) => l !== '');
      } catch {
        return [];
      }
    },
    stop,
  };
}

export interface LoopbackRedis {
  port: number;
  cli(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startLoopbackRedis(port: number): Promise<LoopbackRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'replay-redis-'));
  const child = spawn('redis-server', redisArgs(dir, port, [LOOPBACK_ADDR]), { stdio: 'ignore' });
  child.on('error', () => undefined);
  const stop = async (): Promise<void> => {
    await stopProcessTree(child, 2000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitConnectable(port, child, 'redis-server');
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    async cli(args: readonly string[]): Promise<string> {
      const r = await run('redis-cli', ['-h', LOOPBACK_ADDR, '-p', String(port), ...args], { timeout: 10_000 });
      return r.stdout.replace(/\n$/, '');
    },
    stop,
  };
}

/** Runs a bounded load tool (killed after timeoutMs); returns stdout. */
export async function runLoad(cmd: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const r = await run(cmd, [...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
  return r.stdout;
}
