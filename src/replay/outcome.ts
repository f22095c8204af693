// What an offline replay's exit code says (pure): 0 when the capture's sessions were replayed,
// NOTHING_MATCHED when the capture held nothing of the service or no session could start,
// TARGET_FAILED when the target refused, reset or never answered sessions. Each non-zero code has a
// one-line reason for standard error.

import { ExitCode } from '../exit-codes.js';
import type { ReplayReport } from './socket/index.js';
import type { OfflineReport } from '../stats/offline-report.js';

export interface Outcome {
  readonly code: ExitCode;
  /** Why the code is not 0 (null for 0). */
  readonly reason: string | null;
}

const OK: Outcome = { code: ExitCode.OK, reason: null };

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The packet transport's report (raw send + intercept). */
export function packetOutcome(r: OfflineReport): Outcome {
  const s = r.sessions;
  if (s.inFile === 0) {
    return {
      code: ExitCode.NOTHING_MATCHED,
      reason: `nothing to replay: none of the ${plural(r.packets.inFile, 'packet')} of ${r.file} is a client packet of the -x ports`,
    };
  }
  // noSynAck is the sessions closed 'handshakeTimeout' (buildOfflineReport): counted once.
  const unanswered = s.skipped.noSynAck;
  const reset = s.closed['targetReset'] ?? 0;
  if (unanswered + reset > 0) {
    const parts = [unanswered > 0 ? `${unanswered} never answered` : '', reset > 0 ? `${reset} reset` : ''].filter(
      (p) => p !== '',
    );
    return {
      code: ExitCode.TARGET_FAILED,
      reason: `the target failed sessions: of ${plural(s.inFile, 'session')}, ${parts.join(', ')}`,
    };
  }
  if (s.replayed === 0) {
    return {
      code: ExitCode.NOTHING_MATCHED,
      reason: `nothing replayed: none of the ${plural(s.inFile, 'session')} of ${r.file} could start`,
    };
  }
  return OK;
}

/** The socket transport's report. */
export function socketOutcome(r: ReplayReport, file: string): Outcome {
  if (r.sessionsTotal === 0) {
    const c = r.capture;
    return {
      code: ExitCode.NOTHING_MATCHED,
      reason: `nothing to replay: ${plural(c.read, 'packet')} read from ${file}, ${c.packets} of the -x ports, no session with client data`,
    };
  }
  if (r.replaysTotal === 0) {
    return {
      code: ExitCode.NOTHING_MATCHED,
      reason: `nothing replayed: -r ${r.samplePercent} left out all ${plural(r.sessionsTotal, 'session')} of ${file}`,
    };
  }
  const f = r.replay.failures;
  if (r.replay.sessionsFailed > 0) {
    const parts = [
      f.connectRefused > 0 ? `${f.connectRefused} refused` : '',
      f.reset > 0 ? `${f.reset} reset` : '',
      f.timeout > 0 ? `${f.timeout} timed out` : '',
      f.targetClosed > 0 ? `${f.targetClosed} closed by the target` : '',
      f.other > 0 ? `${f.other} other` : '',
    ].filter((p) => p !== '');
    return {
      code: ExitCode.TARGET_FAILED,
      reason: `the target failed ${r.replay.sessionsFailed} of ${plural(r.replaysTotal, r.copies > 1 ? 'session replay' : 'session')}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`,
    };
  }
  return OK;
}
