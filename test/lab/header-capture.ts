// Headers-only tcpdump captures on a lab host's eth0 (for the relay latency of the replication bench),
// and the reading of such a capture back into segment events with the project's own pcap reader and
// packet decoder.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readCaptureFile } from '../../src/pcap/index.js';
import { PacketDecoder, TcpFlags } from '../../src/packet/index.js';
import type { LabHost } from './host.js';
import { LabError } from './errors.js';
import { watchProcess, stopWatched } from './proc-watch.js';
import type { ProcessWatch } from './proc-watch.js';
import type { SegmentEvent } from './relay-latency.js';

export interface HeaderCaptureOptions {
  /** Bytes kept per packet (tcpdump -s). Default 128: Ethernet + IP + TCP with options. */
  snaplen?: number;
  /** tcpdump exits after this many packets (-c), bounding the file. Default 1.5 million (< 250 MB at 128 B). */
  maxPackets?: number;
  /** Kernel buffer in KiB (-B). Default 65536. */
  bufferKiB?: number;
  /** Bound on the wait for tcpdump to start listening. Default 10 s. */
  startTimeoutMs?: number;
}

export interface HeaderCaptureResult {
  path: string;
  /** tcpdump's final statistics (-1 when it printed none). */
  captured: number;
  droppedByKernel: number;
}

export interface HeaderCapture {
  readonly path: string;
  /** Stops tcpdump (SIGINT; it may have ended at maxPackets already) and returns its statistics. Idempotent. */
  stop(): Promise<HeaderCaptureResult>;
}

/** tcpdump's closing statistics from its stderr. Pure. */
export function parseTcpdumpStats(stderr: string): { captured: number; droppedByKernel: number } {
  const n = (re: RegExp): number => {
    const m = re.exec(stderr);
    return m ? Number(m[1]) : -1;
  };
  return { captured: n(/^(\d+) packets? captured$/m), droppedByKernel: n(/^(\d+) packets? dropped by kernel$/m) };
}

/** Starts `tcpdump -w` on host's eth0 for filter, in the lab's temp dir; resolves once it listens. */
export async function startHeaderCapture(
  host: LabHost,
  filter: string,
  opts: HeaderCaptureOptions = {},
): Promise<HeaderCapture> {
  const dir = await host.makeTempDir('tcpdump');
  const path = join(dir, `${host.hostName}.pcap`);
  const child: ChildProcess = host.spawn('tcpdump', [
    '-i',
    host.ifname,
    '-n',
    '-s',
    String(opts.snaplen ?? 128),
    '-B',
    String(opts.bufferKiB ?? 65536),
    '-c',
    String(opts.maxPackets ?? 1_500_000),
    '-Z',
    'root',
    '-w',
    path,
    filter,
  ]);
  const watch: ProcessWatch = watchProcess(child);
  try {
    await watch.waitFor(/listening on /, opts.startTimeoutMs ?? 10_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new LabError('ESTART', `tcpdump did not start on ${host.hostName}: ${(e as Error).message}\n${watch.text()}`);
  }
  let result: HeaderCaptureResult | null = null;
  return {
    path,
    async stop(): Promise<HeaderCaptureResult> {
      if (result !== null) return result;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await stopWatched(child, watch, 10_000);
      result = { path, ...parseTcpdumpStats(watch.text()) };
      return result;
    },
  };
}

/**
 * Reads a capture and calls onEvent with each TCP segment to or from serverPort (the client is the
 * other end). The event object is reused between calls: copy what you keep. Returns the events seen.
 */
export async function readSegmentEvents(
  path: string,
  serverPort: number,
  onEvent: (e: SegmentEvent) => void,
): Promise<number> {
  const dec = new PacketDecoder();
  const ev: SegmentEvent = { tsUs: 0, clientPort: 0, fromClient: false, syn: false, seq: 0, dataLength: 0 };
  let n = 0;
  for await (const batch of readCaptureFile(path)) {
    for (let i = 0; i < batch.count; i++) {
      if (!dec.decode(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType) || !dec.isTcp) continue;
      if (dec.dstPort === serverPort) {
        ev.fromClient = true;
        ev.clientPort = dec.srcPort;
      } else if (dec.srcPort === serverPort) {
        ev.fromClient = false;
        ev.clientPort = dec.dstPort;
      } else {
        continue;
      }
      ev.tsUs = batch.tsSec(i) * 1e6 + batch.tsNsec(i) / 1000;
      ev.syn = (dec.flags & TcpFlags.SYN) !== 0;
      ev.seq = dec.seq >>> 0;
      ev.dataLength = dec.wirePayloadLength;
      onEvent(ev);
      n++;
    }
  }
  return n;
}
