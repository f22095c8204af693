// --user: after the service started (capture and raw sockets open), the process becomes `user`,
// keeping only the capabilities it still needs. The files it goes on writing by name (-l's log, -P's
// pid file) are handed to that user first; the log must still be writable afterwards, else the drop
// is an error (a service that cannot log is not left running).
import { accessSync, appendFileSync, chownSync, constants } from 'node:fs';
import { Capability, dropPrivileges, lookupUser } from '../io/privileges.js';
import type { Logger } from '../log/index.js';

export interface BecomeUserOptions {
  readonly user: string;
  readonly logFile: string | null;
  readonly pidFile: string | null;
  readonly logger: Logger;
  /** Capabilities kept; default CAP_NET_RAW (captures reopen, raw sockets opened later). */
  readonly caps?: readonly number[];
}

export class BecomeUserError extends Error {
  override readonly name = 'BecomeUserError';
  readonly exitCode = 1;
}

export function becomeUser(o: BecomeUserOptions): void {
  const caps = o.caps ?? [Capability.NET_RAW];
  const ids = lookupUser(o.user);
  if (ids === null) throw new BecomeUserError(`--user ${o.user}: no such user`);
  for (const f of [o.logFile, o.pidFile]) {
    if (f === null) continue;
    try {
      if (f === o.logFile) appendFileSync(f, '');
      chownSync(f, ids.uid, ids.gid);
    } catch (e) {
      throw new BecomeUserError(`--user ${o.user}: cannot hand ${f} to that user: ${(e as Error).message}`);
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
