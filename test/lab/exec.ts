// Running programs for the lab: async commands with output capture, a timeout and LabError on failure,
// plus a synchronous variant for exit handlers. No namespace knowledge here (see netns.ts).
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { LabError } from './errors.js';

export interface ExecOptions {
  /** Throw LabError (with stderr) on a non-zero exit. Default true. */
  check?: boolean;
  /** Kill the command (SIGKILL) and throw ETIMEDOUT after this long. Default 30 s. */
  timeoutMs?: number;
  /** Written to the command's stdin (stdin is closed afterwards). */
  input?: string;
}

export interface ExecResult {
  /** Exit status; 128 + signal number when killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function quoteCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGABRT: 6,
  SIGSEGV: 11,
  SIGPIPE: 13,
};

function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal !== null ? (SIGNALS[signal] ?? 0) : 0);
}

/** Called with each child started by runCommand, so a lab can track (and later kill) it. */
export type SpawnHook = (child: ChildProcess) => void;

/** Spawns cmd with args and hands the child to hook (for tracking). */
export function spawnCommand(
  cmd: string,
  args: readonly string[],
  stdio: StdioOptions,
  hook?: SpawnHook,
  extra: { env?: NodeJS.ProcessEnv | undefined; cwd?: string | undefined } = {},
): ChildProcess {
  const child = spawn(cmd, args, { stdio, env: extra.env, cwd: extra.cwd });
  hook?.(child);
  return child;
}

/** Runs cmd to completion and collects its output. */
export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
  hook?: SpawnHook,
  display?: string,
): Promise<ExecResult> {
  const check = opts.check ?? true;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const shown = display ?? quoteCommand(cmd, args);
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawnCommand(cmd, args, [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'], hook);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => undefined); // the command may exit before reading everything
      child.stdin.end(opts.input);
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e.code === 'ENOENT')
        reject(new LabError('ENOTOOL', `${cmd} is not installed (not found in PATH)`, { command: shown, cause: e }));
      else reject(new LabError('ECMDFAIL', `could not run ${cmd}: ${e.message}`, { command: shown, cause: e }));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const res: ExecResult = {
        code: exitCode(code, signal),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (timedOut)
        reject(
          new LabError('ETIMEDOUT', `command timed out after ${timeoutMs} ms`, { command: shown, stderr: res.stderr }),
        );
      else if (check && res.code !== 0)
        reject(
          new LabError('ECMDFAIL', `command failed with exit code ${res.code}`, { command: shown, stderr: res.stderr }),
        );
      else resolve(res);
    });
  });
}

/** Synchronous run for exit handlers: never throws, returns null stdout on failure. */
export function runSync(cmd: string, args: readonly string[], timeoutMs = 5_000): string | null {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, encoding: 'utf8' });
  } catch {
    return null;
  }
}

/** Blocks the thread for ms milliseconds (exit handlers cannot await). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True if a process with this pid exists and is not a zombie (EPERM counts as existing). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // vanished meanwhile
  }
}
