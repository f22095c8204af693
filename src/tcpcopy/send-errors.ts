// What tcpcopy says of failed raw sends (the senders count them by errno): a warning the first time
// a cause appears and then at most every REPEAT_MS while it keeps failing, with the count since the
// last warning and a hint at the usual reason; and the summary's line by cause. Pure: the caller
// passes the time and the senders' counts.
import type { LogLine } from '../log/index.js';

/** A cause still failing is warned of again after this long. */
export const SEND_ERROR_REPEAT_MS = 10_000;

const HINTS: Readonly<Record<string, string>> = {
  EPERM: 'a netfilter rule drops the copies on this host, or tcpcopy lacks CAP_NET_RAW',
  EACCES: 'sending is not permitted (a broadcast address, or a security module)',
  ENETUNREACH: 'no route to the target from this host',
  EHOSTUNREACH: 'the target cannot be reached (no route or no neighbour)',
  EMSGSIZE: 'a copied packet is larger than the outgoing MTU (see -M)',
  ENOBUFS: 'the send queue of the device is full (the copies come faster than it sends)',
};

/** The hint for an errno name ('' when none). */
export function sendErrorHint(code: string): string {
  return HINTS[code] ?? '';
}

export class SendErrorReporter {
  /** Per cause: its count at the last warning and when that was. */
  private readonly warned = new Map<string, { count: number; atMs: number }>();

  /** The warnings due now, given the counts by cause so far. */
  tick(nowMs: number, byCode: Readonly<Record<string, number>>): LogLine[] {
    const out: LogLine[] = [];
    for (const [code, count] of Object.entries(byCode)) {
      const w = this.warned.get(code);
      if (w !== undefined && (count <= w.count || nowMs - w.atMs < SEND_ERROR_REPEAT_MS)) continue;
      const fresh = count - (w?.count ?? 0);
      const hint = sendErrorHint(code);
      out.push({
        level: 'warn',
        text: `raw send failed with ${code}: ${fresh} packets${w === undefined ? '' : ` in the last ${Math.round((nowMs - w.atMs) / 1000)} s`} (${count} in all)${hint === '' ? '' : `: ${hint}`}; they are counted and the replication goes on`,
      });
      this.warned.set(code, { count, atMs: nowMs });
    }
    return out;
  }
}

/** The summary's line of failed sends by cause, or null when none failed. */
export function formatSendErrors(byCode: Readonly<Record<string, number>>): LogLine | null {
  const parts = Object.entries(byCode)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`);
  return parts.length === 0 ? null : { level: 'notice', text: `send errors by cause: ${parts.join(', ')}` };
}
