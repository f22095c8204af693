// Shared helpers of the capture tests: root check, waiting, collecting a LiveCapture's packets,
// and a reference tcpdump capture running in a lab host.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { LabHost } from '../lab/index.js';
import assert from 'node:assert/strict';
import { NativeIoError } from '../../src/io/index.js';
import type { CaptureBatch } from '../../src/capture/index.js';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
/** `skip` value for tests that need root and network namespaces. */
export const NEEDS_ROOT: string | false = IS_ROOT ? false : 'needs root (network namespaces, raw sockets)';

/** An assert.throws/rejects validator: a NativeIoError with this code and a message matching `re`. */
export function isNativeError(code: string, re: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof NativeIoError, `a NativeIoError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** Polls pred every 5 ms until true; throws naming `what` after timeoutMs. */
export async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export interface Collected {
  data: Buffer;
  tsNs: bigint;
  caplen: number;
  origLen: number;
}

/** Keeps a copy of every packet the capture delivers (a SocketCapture reuses its batch buffer). */
export function collect(cap: { on(event: 'batch', listener: (b: CaptureBatch) => void): unknown }): Collected[] {
  const out: Collected[] = [];
  cap.on('batch', (b) => {
    for (let i = 0; i < b.count; i++)
      out.push({ data: Buffer.from(b.data(i)), tsNs: b.tsNs(i), caplen: b.caplen(i), origLen: b.origLen(i) });
  });
  return out;
}

export interface Tcpdump {
  readonly file: string;
  /** Stops tcpdump (SIGINT) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `tcpdump -w file` with ns timestamps in host; resolves once it is listening. */
export async function startTcpdump(host: LabHost, iface: string, filter: string, file: string): Promise<Tcpdump> {
  const child: ChildProcess = host.spawn(
    'tcpdump',
    ['-i', iface, '-n', '-U', '--immediate-mode', '--time-stamp-precision=nano', '-w', file, filter],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  const exited = once(child, 'exit');
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        res();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`tcpdump exited (${String(code)}): ${stderr}`));
    });
  });
  return {
    file,
    async stop(): Promise<void> {
      child.kill('SIGINT');
      await exited;
    },
  };
}
