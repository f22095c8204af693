// The offline replay's progress bar on a terminal (packets, sessions, bytes, elapsed, ETA), drawn
// with the cli-progress package. Behind a small interface: when the module cannot be loaded, or the
// stream is not a TTY, a no-op display is used and the replay runs the same.

import type { Writable } from 'node:stream';
import type * as CliProgress from 'cli-progress';

export interface ProgressFigures {
  readonly packets: number;
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

/** ETA of a timed replay: where the schedule is vs. its end; at top speed, by the packet rate. */
export function estimateEtaMs(f: {
  packets: number;
  totalPackets: number;
  elapsedMs: number;
  positionMs: number;
  totalMs: number;
  topSpeed: boolean;
}): number | null {
  if (!f.topSpeed) return Math.max(0, f.totalMs - f.positionMs);
  if (f.packets === 0) return null;
  return Math.max(0, (f.elapsedMs * (f.totalPackets - f.packets)) / f.packets);
}

function seconds(ms: number | null): string {
  return ms === null ? '?' : (ms / 1000).toFixed(1);
}

/** A progress bar on `stream` when it is a TTY and cli-progress loads; otherwise a no-op. */
export async function createProgress(
  stream: Writable & { isTTY?: boolean },
  totalPackets: number,
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
        '{bar} {percentage}% | {value}/{total} packets | {sessions} sessions | {mb} MB | {elapsedS} s elapsed | ETA {etaS} s',
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    mod.Presets.shades_classic,
  );
  bar.start(Math.max(1, totalPackets), 0, { sessions: 0, mb: '0.0', elapsedS: '0.0', etaS: '?' });
  return {
    update: (f) =>
      bar.update(f.packets, {
        sessions: f.sessions,
        mb: (f.bytes / 1e6).toFixed(1),
        elapsedS: seconds(f.elapsedMs),
        etaS: seconds(f.etaMs),
      }),
    stop: () => bar.stop(),
  };
}
