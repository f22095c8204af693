// What several tests need to exercise the executables over loopback: a command run to its exit
// asynchronously (so an HTTP server in the test's own process can answer it), and an HTTP server
// that counts the connections and requests it gets.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` to its exit, collecting its output; killed after `timeoutMs`. `onStart` gets the child
 * (to signal it, for example).
 */
export function runAsync(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; onStart?: (c: ChildProcess) => void } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    opts.onStart?.(child);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CountingServer {
  readonly port: number;
  connections(): number;
  requests(): number;
  close(): Promise<void>;
}

/** An HTTP server on `host` answering "ok" to everything, counting connections and requests. */
export async function countingHttpServer(host = '127.0.0.1'): Promise<CountingServer> {
  let connections = 0;
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end('ok\n');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
