// The built-in demo (`tcpcopy demo`): builds a two-host lab in network namespaces (a client and an
// nginx server), captures the server's HTTP traffic live with the native capture, decodes every
// packet with the packet layer, prints one line per packet and a summary, and records the packets
// to a pcapng file that tshark can open. Everything it builds is torn down at the end.
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Lab } from '../lab/index.js';
import { LiveCapture, tcpChecksumState } from '../capture/index.js';
import type { CaptureBatch } from '../capture/index.js';
import { PacketDecoder, TcpFlags, formatTcpFlags, TcpOptionSummary, linkTypeName } from '../packet/index.js';
import { openPcapngWriter } from '../pcap/index.js';

export interface DemoOptions {
  /** HTTP requests the client sends (sequentially over one keep-alive connection per 5). */
  requests: number;
  /** Where the lines go (default: stdout). */
  out?: (line: string) => void;
}

export interface DemoSummary {
  packets: number;
  decoded: number;
  syns: number;
  requestBytes: number;
  responseBytes: number;
  checksums: { valid: number; partial: number; bad: number };
  dropped: number;
  pcapngPath: string;
}

const SERVER_PORT = 80;

function describeOptions(d: PacketDecoder, opts: TcpOptionSummary): string {
  if (!d.readTcpOptions(opts)) return ' opts=<malformed>';
  const parts: string[] = [];
  if (opts.mss >= 0) parts.push(`mss ${opts.mss}`);
  if (opts.sackPermitted) parts.push('sackOK');
  if (opts.hasTimestamps) parts.push(`TS ${opts.tsval}:${opts.tsecr}`);
  if (opts.windowScale >= 0) parts.push(`wscale ${opts.windowScale}`);
  if (opts.sackBlockCount > 0) parts.push(`sack ${opts.sackBlockCount}`);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

function formatTime(sec: number, nsec: number): string {
  const t = new Date(sec * 1000).toISOString().slice(11, 19);
  return `${t}.${String(nsec).padStart(9, '0')}`;
}

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const out = opts.out ?? ((line: string) => console.log(line));
  if (!Number.isInteger(opts.requests) || opts.requests < 1 || opts.requests > 1000) {
    throw new Error(`--requests must be an integer from 1 to 1000, got ${String(opts.requests)}`);
  }
  out('tcpcopy demo: building a lab (hosts cli, srv) in network namespaces ...');
  const lab = await Lab.create({ hosts: ['cli', 'srv'] });
  const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-demo-'));
  const pcapngPath = join(dir, 'demo.pcapng');
  const summary: DemoSummary = {
    packets: 0, decoded: 0, syns: 0, requestBytes: 0, responseBytes: 0,
    checksums: { valid: 0, partial: 0, bad: 0 }, dropped: 0, pcapngPath,
  };
  let capture: LiveCapture | null = null;
  try {
    const cli = lab.host('cli');
    const srv = lab.host('srv');
    await srv.startNginx({ port: SERVER_PORT });
    out(`  cli ${cli.ip}  --bridge--  srv ${srv.ip} (nginx :${SERVER_PORT})`);

    capture = LiveCapture.open({ device: srv.ifname, netns: srv.name, filter: `tcp port ${SERVER_PORT}` });
    const writer = await openPcapngWriter(pcapngPath, { interfaces: [{ linkType: capture.linkType, name: `${srv.ifname}@srv` }] });
    out(`capturing on srv:${srv.ifname} (${linkTypeName(capture.linkType)}), filter "tcp port ${SERVER_PORT}"`);

    const d = new PacketDecoder();
    const tcpOpts = new TcpOptionSummary();
    const onBatch = (batch: CaptureBatch): void => {
      for (let i = 0; i < batch.count; i++) {
        summary.packets++;
        const data = batch.data(i);
        writer.write({ tsNs: batch.tsNs(i), data, origLen: batch.origLen(i) });
        const time = formatTime(batch.tsSec(i), batch.tsNsec(i));
        if (!d.decode(data, 0, data.length, batch.linkType) || !d.isTcp) {
          out(`${time} undecoded: ${d.toError()?.message ?? 'not TCP'}`);
          continue;
        }
        summary.decoded++;
        if (d.hasFlags(TcpFlags.SYN) && !d.hasFlags(TcpFlags.ACK)) summary.syns++;
        if (d.dstPort === SERVER_PORT) summary.requestBytes += d.payloadLength;
        else summary.responseBytes += d.payloadLength;
        const state = tcpChecksumState(d);
        if (state === 'valid' || state === 'partial' || state === 'bad') summary.checksums[state]++;
        out(
          `${time} ${d.srcAddress()}:${d.srcPort} > ${d.dstAddress()}:${d.dstPort} ` +
            `[${formatTcpFlags(d.flags)}] seq ${d.seq} ack ${d.ack} win ${d.window} len ${d.payloadLength}` +
            `${describeOptions(d, tcpOpts)} csum ${state}`,
        );
      }
    };
    capture.on('batch', onBatch);

    const url = `http://${srv.ip}/`;
    out(`cli: ${opts.requests} GET ${url}`);
    const codes = await cli.curl(url, { count: opts.requests });
    // Let the last packets (FIN/ACK) reach the ring and the 1 ms block timeout deliver them.
    await new Promise((r) => setTimeout(r, 200));
    summary.dropped = capture.stats().dropped;
    capture.close();
    capture = null;
    await writer.close();

    const ok = codes.filter((c) => c === 200).length;
    out('');
    out(`HTTP: ${ok}/${codes.length} responses 200`);
    out(
      `captured ${summary.packets} packets, decoded ${summary.decoded}, connections ${summary.syns}, ` +
        `request bytes ${summary.requestBytes}, response bytes ${summary.responseBytes}, kernel drops ${summary.dropped}`,
    );
    out(
      `TCP checksums: ${summary.checksums.valid} valid, ${summary.checksums.partial} partial ` +
        `(checksum offload: the sender left only the pseudo-header sum), ${summary.checksums.bad} bad`,
    );
    out(`recorded to ${pcapngPath} (open it with: tshark -r ${pcapngPath})`);
    out('(live replication to a target server arrives with the session engine; see the README)');
    return summary;
  } finally {
    capture?.close();
    await lab.destroy();
  }
}
