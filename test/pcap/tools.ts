// Test-only helpers: run tshark/capinfos/tcpdump and parse their output, temporary directories.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The only stderr line tshark prints when run as root; it says nothing about the file. */
export const TSHARK_ROOT_NOTICE = 'Running as user "root" and group "root". This could be dangerous.';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** stderr without tshark's root notice (every other line is kept). */
export function meaningfulStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && l.trim() !== TSHARK_ROOT_NOTICE)
    .join('\n');
}

/** Runs `tshark -r file -T fields -e ...`; returns rows of fields (tab separated) and the stderr that matters. */
export async function tsharkFields(
  file: string,
  fields: string[],
): Promise<{ rows: string[][]; code: number | null; stderr: string }> {
  const args = ['-r', file, '-T', 'fields'];
  for (const f of fields) args.push('-e', f);
  const r = await run('tshark', args);
  const rows = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
  return { rows, code: r.code, stderr: meaningfulStderr(r.stderr) };
}

/** "1795424260.481843000" (frame.time_epoch) → ns since the epoch, exactly. */
export function epochToNs(s: string): bigint {
  const neg = s.startsWith('-');
  const [secPart, fracPart = ''] = (neg ? s.slice(1) : s).split('.');
  const ns = BigInt(secPart ?? '0') * 1_000_000_000n + BigInt((fracPart + '000000000').slice(0, 9));
  return neg ? -ns : ns;
}

export async function withTmpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tcpcopy-pcap-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
