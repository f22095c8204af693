// -P <file>: the pid file of tcpcopy and intercept. Written as "<pid>\n" with O_EXCL, so two
// processes never both own it; a file naming a live process refuses the start, a stale one (its
// process is gone, or the file is empty or garbled) is replaced. Removed on a clean exit, and only
// if it still names us.

import { ExitCode } from '../exit-codes.js';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export class PidFileError extends Error {
  readonly code: 'PID_FILE_BUSY' | 'PID_FILE_IO';
  /** The process exit code it ends in: a -P path that cannot be written is bad input (2). */
  readonly exitCode: number;
  constructor(code: PidFileError['code'], message: string) {
    super(message);
    this.name = 'PidFileError';
    this.code = code;
    this.exitCode = code === 'PID_FILE_IO' ? ExitCode.BAD_INPUT : ExitCode.FAILED;
  }
}

/** True when `pid` is a running process (a zombie, dead but not yet reaped, counts as gone). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone we may not signal.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** The pid a pid file's text names, or null when it names none. */
export function parsePidText(text: string): number | null {
  const m = /^\s*(\d{1,10})\s*$/.exec(text);
  if (!m) return null;
  const pid = Number(m[1]);
  return pid > 0 ? pid : null;
}

export interface PidFile {
  readonly path: string;
  readonly pid: number;
  /** Removes the file if it still names `pid`; never throws. Idempotent. */
  release(): void;
}

function ioError(path: string, err: unknown): PidFileError {
  return new PidFileError('PID_FILE_IO', `-P ${path}: cannot write the pid file (${describeFsError(err)})`);
}

/** "no such file or directory, ENOENT" from a Node file-system error (its message repeats the code). */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = /^[A-Z]+: ([^,]+)/.exec(e.message ?? '')?.[1];
  if (e.code !== undefined) return text !== undefined ? `${text}, ${e.code}` : e.code;
  return e instanceof Error ? e.message : String(err);
}

/**
 * Creates `path` holding `pid` (default this process). Throws PidFileError PID_FILE_BUSY when it
 * names another live process, PID_FILE_IO when it cannot be written.
 */
export function acquirePidFile(path: string, pid: number = process.pid): PidFile {
  // Another round follows the removal of a stale file (another starter may win that race).
  for (let round = 0; round < 3; round++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(path, err);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (readErr) {
        if ((readErr as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        throw ioError(path, readErr);
      }
      const owner = parsePidText(text);
      if (owner !== null && owner !== pid && isProcessAlive(owner)) {
        throw new PidFileError(
          'PID_FILE_BUSY',
          `pid file ${path} names a running process (pid ${owner}); is it already running?`,
        );
      }
      try {
        unlinkSync(path);
      } catch (unlinkErr) {
        if ((unlinkErr as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, unlinkErr);
      }
      continue;
    }
    try {
      writeSync(fd, `${pid}\n`);
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(path);
      } catch {
        // nothing more to do
      }
      throw ioError(path, err);
    }
    closeSync(fd);
    let released = false;
    return {
      path,
      pid,
      release(): void {
        if (released) return;
        released = true;
        try {
          if (parsePidText(readFileSync(path, 'utf8')) === pid) unlinkSync(path);
        } catch {
          // already gone or unreadable: nothing of ours to remove
        }
      },
    };
  }
  throw new PidFileError('PID_FILE_BUSY', `pid file ${path}: another process keeps re-creating it`);
}
