// The socket transport on live traffic: `tcpcopy --transport socket -x PORT-TARGET:TPORT -i DEV`.
// Captures both directions of the online ports (ThreadedCapture: only this needs privileges) and
// hands each session to replayCaptureOverSockets as soon as it ended online (FIN/RST or idle), which
// replays it over an ordinary TCP connection to the target. Traffic to or from the target itself is
// left out of the capture, so the replay's own connections are never captured again (loop guard).
import { CaptureBatch, ThreadedCapture } from '../../capture/index.js';
import { replayCaptureOverSockets } from './index.js';
import type { ReplayReport, SocketReplayRequest } from './index.js';

export interface LiveSocketReplayOptions extends Omit<SocketReplayRequest, 'file' | 'packets' | 'live'> {
  devices: readonly string[];
  /** Capture filter; default: both directions of `ports`, without the target's own traffic. */
  filter?: string;
  snaplen?: number;
  bufferBytes?: number;
  /** Stops capturing; the sessions already captured are still replayed. */
  signal: AbortSignal;
  /** Called once the captures are open. */
  onCapturing?: (filter: string) => void;
}

/** Both directions of the online ports, without the target host's traffic (loop guard). Pure. */
export function liveSocketFilter(ports: readonly number[], targetHost: string): string {
  const p = ports.map((x) => `port ${x}`).join(' or ');
  return `tcp and (${p}) and not host ${targetHost}`;
}

/** What the capture of a live socket replay is set up with, for the hints below. */
export interface LiveCaptureSetup {
  readonly devices: readonly string[];
  readonly filter: string;
  /** The filter is liveSocketFilter's (not -F). */
  readonly filterIsAuto: boolean;
  readonly targetHost: string;
  /** The target address is one of this machine's. */
  readonly targetIsLocal: boolean;
}

/**
 * Said before capturing: with the target on this machine, the automatic filter leaves out every packet
 * to or from that address (so the replay never captures itself), and with it any client that reaches the
 * online server over the same address — on one host over loopback, that is every client. Null if fine.
 */
export function localTargetWarning(s: LiveCaptureSetup): string | null {
  if (!s.filterIsAuto || !s.targetIsLocal) return null;
  return (
    `the target ${s.targetHost} is an address of this machine: the capture leaves out every packet to or from it ` +
    `(the replay's own connections), so clients that reach the online server over ${s.targetHost} are not ` +
    `captured; replay to another address of this machine, or give -F`
  );
}

/** Said at the end when the capture delivered no packet at all: why that may be. Null when packets came. */
export function emptyCaptureHint(s: LiveCaptureSetup, packetsRead: number): string | null {
  if (packetsRead > 0) return null;
  const where = s.devices.join(', ');
  const local = s.filterIsAuto && s.targetIsLocal ? ` (it leaves out ${s.targetHost}, the target's address)` : '';
  return (
    `no packet captured on ${where} with filter "${s.filter}"${local}: check that clients reach the online ` +
    `server through ${s.devices.length === 1 ? 'that device' : 'those devices'} (traffic on one host ` +
    `goes over lo: -i lo)`
  );
}

/** Yielded when no packet came for a while, so idle sessions are flushed. */
const NO_PACKETS = CaptureBatch.fromPackets([], 0);

/** Captures until `signal` aborts, replaying every captured session over sockets; resolves with the report. */
export async function replayLiveOverSockets(o: LiveSocketReplayOptions): Promise<ReplayReport> {
  const { devices, filter: userFilter, snaplen, bufferBytes, signal, onCapturing, ...replay } = o;
  const filter = userFilter ?? liveSocketFilter(replay.ports, replay.target.host);
  const queue: CaptureBatch[] = []; // a ThreadedCapture's batches are their own copies: safe to keep
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const captures: ThreadedCapture[] = [];
  try {
    for (const device of devices) {
      const c = await ThreadedCapture.open({
        device,
        filter,
        ...(snaplen === undefined ? {} : { snaplen }),
        ...(bufferBytes === undefined ? {} : { bufferBytes }),
      });
      c.on('batch', (b) => {
        queue.push(b);
        notify();
      });
      captures.push(c);
    }
  } catch (e) {
    await Promise.all(captures.map((c) => c.close()));
    throw e;
  }
  onCapturing?.(filter);
  const tick = setInterval(notify, 1000); // an empty batch now and then flushes idle sessions
  signal.addEventListener('abort', notify, { once: true });
  async function* packets(): AsyncGenerator<CaptureBatch> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (signal.aborted) break;
      await new Promise<void>((res) => {
        wake = res;
      });
      yield NO_PACKETS;
    }
    await Promise.all(captures.map((c) => c.close()));
    while (queue.length > 0) yield queue.shift()!;
  }
  try {
    return await replayCaptureOverSockets({ ...replay, packets: packets(), live: true });
  } finally {
    clearInterval(tick);
    await Promise.all(captures.map((c) => c.close()));
  }
}
