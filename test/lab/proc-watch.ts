// Watching a long-running child process of a lab test (tcpcopy, intercept, a scripted client):
// collect its output, wait for a line to show up, stop it with SIGTERM within a bound, and poll a
// condition until it holds or time runs out.
import type { ChildProcess } from 'node:child_process';
import { LabError } from './errors.js';

export interface ProcessWatch {
  /** Everything the child wrote to stdout and stderr so far. */
  text(): string;
  /** Resolves when re matches the output; rejects on timeout or if the child exits first. */
  waitFor(re: RegExp, timeoutMs: number): Promise<void>;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Collects a child's stdout and stderr text. Call before the child writes anything. */
export function watchProcess(child: ChildProcess): ProcessWatch {
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (b: Buffer): void => {
    text += b.toString('utf8');
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.re.test(text)) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  child.stderr?.on('data', onData);
  child.stdout?.on('data', onData);
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    text: () => text,
    exited,
    waitFor: (re, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(text)) {
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          const i = waiters.indexOf(entry);
          if (i >= 0) waiters.splice(i, 1);
          reject(
            new LabError('ETIMEDOUT', `timed out after ${timeoutMs} ms waiting for ${String(re)}`, {
              stderr: text.slice(-8000),
            }),
          );
        }, timeoutMs);
        const entry = {
          re,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.push(entry);
        void exited.then((code) => {
          if (waiters.includes(entry)) {
            waiters.splice(waiters.indexOf(entry), 1);
            clearTimeout(timer);
            reject(
              new LabError('ESTART', `process exited (${String(code)}) before ${String(re)}`, {
                stderr: text.slice(-8000),
              }),
            );
          }
        });
      }),
  };
}

/** Sends SIGTERM and waits for the exit code; throws if the child is still running after timeoutMs. */
export async function stopWatched(child: ChildProcess, w: ProcessWatch, timeoutMs: number): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const r = await Promise.race([w.exited, timeout]);
  clearTimeout(timer);
  if (r === 'timeout')
    throw new LabError('ETIMEDOUT', `process did not exit within ${timeoutMs} ms after SIGTERM`, {
      stderr: w.text().slice(-8000),
    });
  return r;
}

/** Polls f every intervalMs until it returns true (→ true) or timeoutMs has passed (→ false). */
export async function pollUntil(f: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await f()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Polls a count every quietMs until it stops changing between two polls (or timeoutMs passes); returns the last value.
 */
export async function pollUntilSettled(read: () => Promise<number>, timeoutMs: number, quietMs = 500): Promise<number> {
  let last = await read();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = await read();
    if (now === last || Date.now() >= deadline) return now;
    last = now;
  }
}
