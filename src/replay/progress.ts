// The offline replay's progress bar on a terminal (packets or sessions done, sessions, bytes, elapsed, ETA), drawn
// with the cli-progress package. Behind a small interface: when the module cannot be loaded, or the
// stream is not a TTY, a no-op display is used and the replay runs the same.

import type { Writable } from 'node:stream';
import type * as CliProgress from 'cli-progress';

export interface ProgressFigures {
  /** Units done (packets for the packet transport, sessions for the socket transport). */
  readonly packets: number;
  /** Units in all; may grow while a file is still being read. */
  readonly totalPackets: number;
  readonly sessions: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  /** Estimated ms to the end of the replay; null when unknown. */
  readonly etaMs: number | null;
}

export interface ProgressDisplay {
  update(f: ProgressFigures): void;
  stop(): void;
}

const NO_PROGRESS: ProgressDisplay = { update: () => undefined, stop: () => undefined };

/**
 * ETA of a timed replay: where the schedule is vs. its end; at top speed, by the packet rate. Under a
 * rate cap (--pps, --rps) the schedule is only a lower bound (the cap holds packets back): the ETA is
 * the later of the schedule's and the rate's.
 */
export function estimateEtaMs(f: {
  packets: number;
  totalPackets: number;
  elapsedMs: number;
  positionMs: number;
  totalMs: number;
  topSpeed: boolean;
  capped?: boolean;
}): number | null {
  const byRate = estimateEtaByRate(f.packets, f.totalPackets, f.elapsedMs);
  if (f.topSpeed) return byRate;
  const bySchedule = Math.max(0, f.totalMs - f.positionMs);
  return f.capped === true ? Math.max(bySchedule, byRate ?? 0) : bySchedule;
}

function seconds(ms: number | null): string {
  return ms === null ? '?' : (ms / 1000).toFixed(1);
}

/** ETA from the rate so far: what is left at the pace of what is done; null before anything is done. */
export function estimateEtaByRate(done: number, total: number, elapsedMs: number): number | null {
  if (done === 0) return null;
  return Math.max(0, (elapsedMs * (total - done)) / done);
}

/**
 * A progress bar on `stream` when it is a TTY and cli-progress loads; otherwise a no-op. `unit` names
 * what the bar counts: the packet transport counts packets, the socket transport sessions.
 */
export async function createProgress(
  stream: Writable & { isTTY?: boolean },
  totalPackets: number,
  unit: 'packets' | 'sessions' = 'packets',
): Promise<ProgressDisplay> {
  if (stream.isTTY !== true) return NO_PROGRESS;
  let mod: typeof CliProgress;
  try {
    mod = await import('cli-progress');
  } catch {
    return NO_PROGRESS;
  }
  const bar = new mod.SingleBar(
    {
      stream,
      format:
        `{bar} {percentage}% | {value}/{total} ${unit} | {sessions} ${unit === 'packets' ? 'sessions' : 'open'} | ` +
        '{mb} MB | {elapsedS} s elapsed | ETA {etaS} s',
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    mod.Presets.shades_classic,
  );
  let total = Math.max(1, totalPackets);
  bar.start(total, 0, { sessions: 0, mb: '0.0', elapsedS: '0.0', etaS: '?' });
  return {
    update: (f) => {
      if (f.totalPackets > total) {
        total = f.totalPackets;
        bar.setTotal(total);
      }
      bar.update(f.packets, {
        sessions: f.sessions,
        mb: (f.bytes / 1e6).toFixed(1),
        elapsedS: seconds(f.elapsedMs),
        etaS: seconds(f.etaMs),
      });
    },
    stop: () => bar.stop(),
  };
}
