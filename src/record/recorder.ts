// tcpcopy --record: captures both directions of the recorded ports on the -i devices (each on its
// own thread, ThreadedCapture, so a slow disk never makes the kernel ring overflow: batches wait in
// memory instead) and writes them with their capture timestamps to pcapng files (files.ts), rotated
// by size and time (rotation.ts). Runs alone or beside the live replication, with its own capture:
// the replication's capture sees only the client → server direction.
//
// stop() closes the captures first (what they had queued is still written), then ends and closes the
// current file, so SIGINT/SIGTERM leave complete files. A write failure (disk full, a file that
// cannot be created) stops the recording and, through watchdog(), the process with exit code 1.

import { ThreadedCapture } from '../capture/index.js';
import type { CaptureBatch } from '../capture/index.js';
import type { Logger } from '../log/index.js';
import type { StopRequest, Watchdog } from '../process/supervise.js';
import { VERSION } from '../version.js';
import type { RecordConfig } from './config.js';
import { RecordingFiles } from './files.js';
import type { RecordedFile } from './files.js';

export interface RecorderOptions {
  readonly config: RecordConfig;
  /** -i devices; empty = 'any'. */
  readonly interfaces: readonly string[];
  /** -S */
  readonly snaplenBytes: number;
  /** -B */
  readonly captureBufferBytes: number;
  readonly logger: Logger;
  /** Periodic statistics line; 0 = only the summary. Default 0. */
  readonly statsIntervalMs?: number;
  /**
   * TPACKET_V3 block timeout, ms. Default RECORD_BLOCK_TIMEOUT_MS: a recording needs no 1 ms latency,
   * and at moderate packet rates the ring's blocks are retired by this timeout rather than filled, so
   * the ring rides out a capture thread stalled for about (buffer / block size) × this long (16 MiB
   * of 128 KiB blocks: 1.3 s at 10 ms, 0.13 s at the replication's 1 ms) without drops.
   */
  readonly blockTimeoutMs?: number;
  /** Capture inside this network namespace (tests); default: where the process runs. */
  readonly netns?: string;
  /** Monotonic ms; default performance.now. */
  readonly nowMs?: () => number;
}

/** The recorder's default capture block timeout (see RecorderOptions.blockTimeoutMs). */
export const RECORD_BLOCK_TIMEOUT_MS = 10;

export interface RecordCounters {
  /** Packets written to the files. */
  packets: number;
  /** Captured bytes of those packets. */
  bytes: number;
  /** Files begun. */
  files: number;
  /** Bytes of all files. */
  fileBytes: number;
  /** Packets the kernel ring or the capture thread's queue dropped. */
  captureDrops: number;
  /** Packets lost because the files could not be written. */
  writeFailed: number;
}

export class Recorder {
  private readonly captures: ThreadedCapture[] = [];
  private files: RecordingFiles | null = null;
  /** Batches delivered while the first file was still opening: [batch, interface id]. */
  private early: [CaptureBatch, number][] = [];
  private failure: Error | null = null;
  private writeFailed = 0;
  private onFailure: ((err: Error) => void) | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private readonly nowMs: () => number;
  private startedMs = 0;

  constructor(private readonly opts: RecorderOptions) {
    this.nowMs = opts.nowMs ?? (() => performance.now());
  }

  /** The files of the recording so far (the last is open while recording). */
  get recordedFiles(): readonly RecordedFile[] {
    return this.files?.files ?? [];
  }

  /** Opens a capture thread per device, then the first file. Rejects (closing what was opened) on failure. */
  async start(): Promise<void> {
    const { config, logger } = this.opts;
    const devices = this.opts.interfaces.length === 0 ? ['any'] : this.opts.interfaces;
    this.startedMs = this.nowMs();
    try {
      for (const device of devices) {
        const id = this.captures.length;
        const c = await ThreadedCapture.open({
          device,
          filter: config.filter,
          snaplen: this.opts.snaplenBytes,
          bufferBytes: this.opts.captureBufferBytes,
          timeoutMs: this.opts.blockTimeoutMs ?? RECORD_BLOCK_TIMEOUT_MS,
          ...(this.opts.netns === undefined ? {} : { netns: this.opts.netns }),
        });
        c.on('batch', (b) => this.onBatch(b, id));
        c.on('error', (e) => logger.error(`record: capture on ${device}: ${e.message}`));
        this.captures.push(c);
      }
      const files = new RecordingFiles({
        path: config.path,
        limits: {
          maxFileBytes: config.maxFileBytes,
          maxFileNs: config.maxFileMs === null ? null : BigInt(config.maxFileMs) * 1_000_000n,
        },
        interfaces: this.captures.map((c) => ({
          linkType: c.linkType,
          snaplen: c.snaplen,
          name: c.device,
          description: `tcpcopy --record, filter: ${config.filter}`,
        })),
        section: { userAppl: `tcpcopy ${VERSION}` },
      });
      await files.open();
      this.files = files;
    } catch (e) {
      await Promise.all(this.captures.map((c) => c.close()));
      throw e;
    }
    const early = this.early;
    this.early = [];
    for (const [b, id] of early) this.onBatch(b, id);
    const every = this.opts.statsIntervalMs ?? 0;
    if (every > 0) this.statsTimer = setInterval(() => logger.notice(this.statsLine('record')), every);
    const rotation = [
      config.maxFileBytes === null
        ? null
        : `every ${(config.maxFileBytes / (1024 * 1024)).toFixed(2).replace(/\.?0+$/, '')} MB`,
      config.maxFileMs === null ? null : `every ${config.maxFileMs / 1000} s`,
    ].filter((x) => x !== null);
    logger.notice(
      `recording on ${devices.join(',')} with filter "${config.filter}" to ${this.files.files[0]?.path ?? config.path}${rotation.length > 0 ? ` (new file ${rotation.join(' or ')})` : ''}`,
    );
  }

  /** Current counters. */
  counters(): RecordCounters {
    let drops = 0;
    for (const c of this.captures) drops += c.stats().dropped;
    const files = this.files?.files ?? [];
    return {
      packets: this.files?.packets ?? 0,
      bytes: this.files?.capturedBytes ?? 0,
      files: files.length,
      fileBytes: files.reduce((n, f) => n + f.bytes, 0),
      captureDrops: drops,
      writeFailed: this.writeFailed,
    };
  }

  /** Stops the process (exit 1) when the recording cannot be written; for supervise(). */
  watchdog(): Watchdog {
    return {
      start: (requestStop: (req: StopRequest) => void): void => {
        this.onFailure = (err) => requestStop({ reason: `record: ${err.message}, stopping`, exitCode: 1 });
        if (this.failure !== null) this.onFailure(this.failure);
      },
      stop: (): void => {
        this.onFailure = null;
      },
    };
  }

  /** Stops capturing, writes what the captures had queued, closes the last file, logs the summary. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    await Promise.all(this.captures.map((c) => c.close()));
    try {
      await this.files?.close();
    } catch (e) {
      this.fail(e as Error);
    }
    const { logger } = this.opts;
    logger.notice(this.statsLine('record summary'));
    for (const f of this.files?.files ?? [])
      logger.notice(`record file ${f.path}: ${f.packets} packets, ${f.bytes} bytes`);
  }

  private statsLine(what: string): string {
    const c = this.counters();
    const s = ((this.nowMs() - this.startedMs) / 1000).toFixed(1);
    return `${what} after ${s} s: packets ${c.packets}, bytes ${c.bytes}, files ${c.files}, file bytes ${c.fileBytes}, capture dropped ${c.captureDrops}, write failed ${c.writeFailed}`;
  }

  private onBatch(batch: CaptureBatch, id: number): void {
    const files = this.files;
    if (files === null) {
      this.early.push([batch, id]);
      return;
    }
    if (this.failure !== null) {
      this.writeFailed += batch.count;
      return;
    }
    const before = files.packets;
    try {
      files.writeBatch(batch, id);
    } catch (e) {
      this.writeFailed += batch.count - (files.packets - before);
      this.fail(e as Error);
    }
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.opts.logger.error(`record: ${err.message}; recording stopped`);
    this.onFailure?.(err);
  }
}
