// Helpers for server processes inside a namespace: wait for a TCP listener, stop a process tree.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LabError } from './errors.js';
import { sleep } from './exec.js';
import { killPids } from './netns.js';
import type { NsRunner } from './types.js';

/** Direct children of pid (from /proc), e.g. nginx workers. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Lets the event loop end while a lab server runs: a script that forgets destroy() still exits, and
 * the exit handler tears the lab down.
 */
export function detachFromLoop(child: ChildProcess): void {
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Resolves when the child has exited (at once if it has), or after timeoutMs. A timer keeps the event
 * loop alive meanwhile, since lab servers are unref'ed (see detachFromLoop).
 */
export function waitExit(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      child.off('exit', done);
      resolve();
    }
    child.once('exit', done);
  });
}

/** Stops a server: SIGTERM (then SIGKILL) to it and to its children. */
export async function stopProcessTree(child: ChildProcess, graceMs = 3000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || hasExited(child)) return;
  const kids = childPids(pid);
  await killPids([pid], graceMs);
  await killPids(kids, 500);
  await waitExit(child);
}

/** Parses `ss -Hltnp` lines: does process pid listen on TCP port? Pure. */
export function ssHasListener(ssOutput: string, port: number, pid: number): boolean {
  return ssOutput.split('\n').some((line) => {
    const local = line.trim().split(/\s+/)[3];
    return local !== undefined && local.endsWith(`:${port}`) && line.includes(`pid=${pid},`);
  });
}

/** Polls `ss` in the namespace until the child listens on TCP port; fails if it exits first. */
export async function waitListening(
  host: NsRunner,
  port: number,
  child: ChildProcess,
  what: string,
  diag: () => string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited(child) || child.pid === undefined)
      throw new LabError('ESTART', `${what} in ${host.name} exited during start-up`, { stderr: diag() });
    const r = await host.exec('ss', ['-Hltnp'], { check: false });
    if (ssHasListener(r.stdout, port, child.pid)) return;
    if (Date.now() > deadline)
      throw new LabError('ETIMEDOUT', `${what} in ${host.name} did not listen on port ${port} within ${timeoutMs} ms`, {
        stderr: diag(),
      });
    await sleep(20);
  }
}

/** Keeps the last `max` characters of a stream (a server's stderr) for error messages. */
export function tail(stream: NodeJS.ReadableStream | null, max = 4000): () => string {
  let text = '';
  stream?.on('data', (b: Buffer) => {
    text = (text + b.toString('utf8')).slice(-max);
  });
  return () => text;
}

/** The last part of a log file, '' if unreadable. */
export function readLog(path: string, max = 4000): string {
  try {
    return readFileSync(path, 'utf8').slice(-max);
  } catch {
    return '';
  }
}
