// The files of one recording: pcapng (one section, one Interface Description Block per capture
// device, ns timestamps, Enhanced Packet Blocks), rotated by RotationPolicy. Each file is a complete
// pcapng file on its own: it starts with the Section Header Block and every IDB, and is ended and
// closed (its last block written) before the recording moves on; the next file is opened at once,
// so no packet waits for the disk.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import {
  PcapngWriter,
  encodeInterfaceDescriptionBlock,
  encodeSectionHeaderBlock,
  enhancedPacketBlockLength,
} from '../pcap/index.js';
import type { PacketToWrite, PcapngInterfaceOptions, PcapngSectionOptions } from '../pcap/index.js';
import type { CaptureBatch } from '../capture/index.js';
import { RotationPolicy, recordingFileName } from './rotation.js';
import type { RotationLimits } from './rotation.js';

export interface RecordingFilesOptions {
  /** --record: the file name (numbered when rotating, see rotation.ts). */
  readonly path: string;
  /** One per capture device, in the order of their interface ids. */
  readonly interfaces: readonly PcapngInterfaceOptions[];
  readonly limits: RotationLimits;
  /** Section header options (shb_userappl etc.). */
  readonly section?: PcapngSectionOptions;
}

/** One file of a recording. */
export interface RecordedFile {
  readonly path: string;
  packets: number;
  /** Bytes of the file (headers and blocks). */
  bytes: number;
}

export class RecordingFiles {
  readonly policy: RotationPolicy;
  /** Files begun so far, in order; the last one is open until close(). */
  readonly files: RecordedFile[] = [];
  /** Packets and captured bytes written (all files). */
  packets = 0;
  capturedBytes = 0;
  private writer: PcapngWriter | null = null;
  private readonly snaplens: number[];
  private readonly headerBytes: number;
  private readonly closing: Promise<void>[] = [];
  private closed = false;

  constructor(private readonly opts: RecordingFilesOptions) {
    if (opts.interfaces.length === 0) throw new RangeError('a recording needs at least one interface');
    this.headerBytes =
      encodeSectionHeaderBlock(opts.section).length +
      opts.interfaces.reduce((n, i) => n + encodeInterfaceDescriptionBlock(i).length, 0);
    this.policy = new RotationPolicy(opts.limits, this.headerBytes);
    this.snaplens = opts.interfaces.map((i) => i.snaplen ?? 262144);
  }

  /** Creates the first file and waits until it is open (a bad path fails here). */
  async open(): Promise<void> {
    if (this.writer !== null) return;
    this.policy.begin();
    const stream = this.nextStream();
    try {
      await once(stream, 'open');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(
        `cannot create the recording file ${this.files[0]?.path ?? this.opts.path}: ${err.code ?? err.message}`,
        { cause: e },
      );
    }
  }

  /** Writes every packet of a capture batch as captured on interface `interfaceId`. Throws CaptureWriteError. */
  writeBatch(batch: CaptureBatch, interfaceId: number): void {
    const snaplen = this.snaplens[interfaceId];
    if (snaplen === undefined)
      throw new RangeError(`interface ${interfaceId} is not one of the recording's ${this.snaplens.length}`);
    for (let i = 0; i < batch.count; i++) {
      this.write({ tsNs: batch.tsNs(i), data: batch.data(i), origLen: batch.origLen(i), interfaceId }, snaplen);
    }
  }

  /** Writes one packet (interfaceId must be one of the recording's). Throws CaptureWriteError. */
  writePacket(p: PacketToWrite): void {
    const snaplen = this.snaplens[p.interfaceId ?? 0];
    if (snaplen === undefined)
      throw new RangeError(`interface ${p.interfaceId} is not one of the recording's ${this.snaplens.length}`);
    this.write(p, snaplen);
  }

  /** Ends the current file and waits until every file is written and closed. Idempotent; rethrows a write failure. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.writer !== null) this.closing.push(this.writer.close());
    this.writer = null;
    await Promise.all(this.closing);
  }

  private write(p: PacketToWrite, snaplen: number): void {
    if (this.closed) throw new RangeError('the recording is closed');
    const len = enhancedPacketBlockLength(p, snaplen);
    if (this.policy.place(p.tsNs, len) || this.writer === null) this.rotate();
    (this.writer as PcapngWriter).write(p);
    const f = this.files[this.files.length - 1] as RecordedFile;
    f.packets++;
    f.bytes += len;
    this.packets++;
    this.capturedBytes += Math.min(p.data.length, snaplen === 0 ? p.data.length : snaplen);
  }

  /** Ends the current file (its close completes in the background) and starts the next one. */
  private rotate(): void {
    if (this.writer !== null) {
      const done = this.writer.close();
      done.catch(() => undefined); // awaited (and rethrown) by close()
      this.closing.push(done);
      this.writer = null;
    }
    this.nextStream();
  }

  private nextStream(): NodeJS.WritableStream {
    const n = Math.max(this.policy.files, 1);
    const path = recordingFileName(this.opts.path, n, this.policy.rotating);
    const stream = createWriteStream(path);
    this.writer = new PcapngWriter(stream, { ...this.opts.section, interfaces: [...this.opts.interfaces] });
    this.files.push({ path, packets: 0, bytes: this.headerBytes });
    return stream;
  }
}
