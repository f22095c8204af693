// Captured packets spelled out one object each, for tests that compare packets field by field with
// fixtures, tshark's rows or another capture (the code under test hands out CaptureBatches).
import type { CaptureBatch } from '../../src/packet/batch.js';
import { loadCaptureFile, parseCapture } from '../../src/pcap/index.js';
import type { CaptureFileInfo, ReadCaptureOptions } from '../../src/pcap/index.js';

export interface PacketFields {
  data: Buffer;
  caplen: number;
  origLen: number;
  tsNs: bigint;
  linkType: number;
  interfaceId: number;
  epbFlags: number | undefined;
}

/** Every packet of the batches, in order. */
export function packetsOf(batches: Iterable<CaptureBatch>): PacketFields[] {
  const out: PacketFields[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.count; i++) {
      out.push({
        data: b.data(i),
        caplen: b.caplen(i),
        origLen: b.origLen(i),
        tsNs: b.tsNs(i),
        linkType: b.linkType,
        interfaceId: b.interfaceId,
        epbFlags: b.epbFlags(i),
      });
    }
  }
  return out;
}

/** loadCaptureFile, its packets spelled out. */
export async function loadPackets(
  path: string,
  options: ReadCaptureOptions = {},
): Promise<{ info: CaptureFileInfo; packets: PacketFields[] }> {
  const { info, batches } = await loadCaptureFile(path, options);
  return { info, packets: packetsOf(batches) };
}

/** parseCapture, its packets spelled out. */
export function parsePackets(buf: Buffer, file?: string): { info: CaptureFileInfo; packets: PacketFields[] } {
  const { info, batches } = parseCapture(buf, file);
  return { info, packets: packetsOf(batches) };
}
