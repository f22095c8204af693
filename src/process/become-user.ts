// --user: after the service started (capture and raw sockets open), the process becomes `user`,
// keeping only the capabilities it still needs. -l's log, which it goes on opening by name, is
// handed to that user first — opened without following a symbolic link, and only a regular file
// with one link, so a link planted in a directory the user can write cannot make root hand it
// another file — and must still be writable afterwards, else the drop is an error (a service that
// cannot log is not left running). -P's pid file stays root's: the user must not rewrite the pid
// that root's scripts signal (at exit it is left behind if its directory is root's; the next start
// replaces a stale one).
import { accessSync, closeSync, constants, fchownSync, fstatSync, openSync } from 'node:fs';
import { Capability, dropPrivileges, lookupUser } from '../io/privileges.js';
import type { Logger } from '../log/index.js';

export interface BecomeUserOptions {
  readonly user: string;
  readonly logFile: string | null;
  readonly logger: Logger;
  /** Capabilities kept; default CAP_NET_RAW (captures reopen, raw sockets opened later). */
  readonly caps?: readonly number[];
}

export class BecomeUserError extends Error {
  override readonly name = 'BecomeUserError';
  readonly exitCode = 1;
}

/** Gives the log file to uid:gid through a descriptor: no symbolic link, a regular file, one link. */
function handOver(path: string, uid: number, gid: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o640);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) throw new Error('not a regular file with one link');
    fchownSync(fd, uid, gid);
  } finally {
    closeSync(fd);
  }
}

export function becomeUser(o: BecomeUserOptions): void {
  const caps = o.caps ?? [Capability.NET_RAW];
  const ids = lookupUser(o.user);
  if (ids === null) throw new BecomeUserError(`--user ${o.user}: no such user`);
  if (o.logFile !== null) {
    try {
      handOver(o.logFile, ids.uid, ids.gid);
    } catch (e) {
      throw new BecomeUserError(`--user ${o.user}: cannot hand ${o.logFile} to that user: ${(e as Error).message}`);
    }
  }
  const now = dropPrivileges(o.user, caps);
  if (o.logFile !== null) {
    try {
      accessSync(o.logFile, constants.W_OK);
    } catch {
      throw new BecomeUserError(
        `--user ${o.user}: the log file ${o.logFile} is not writable as that user (is its directory searchable by it?)`,
      );
    }
  }
  const kept = caps.map((c) => Object.entries(Capability).find(([, v]) => v === c)?.[0] ?? String(c));
  o.logger.notice(
    `running as user ${o.user} (uid ${now.uid}, gid ${now.gid}), keeping ${kept.map((k) => `CAP_${k}`).join(', ') || 'no capability'}`,
  );
}
