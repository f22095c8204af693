// Live capture on its own thread. LiveCapture drains the kernel ring from the event loop of the
// thread that opened it; when that loop is busy (a long sendmmsg whose veth delivery runs in the
// sender's context, a GC pause, a burst of engine work) the ring overflows and packets are lost.
// ThreadedCapture runs a LiveCapture inside a worker thread whose loop does nothing else, and hands
// each batch to this thread by transferring its buffer (no copy). Batches wait in the message queue
// while this thread is busy; the bytes waiting are bounded by `queueBytes` (beyond it the worker
// drops whole batches and counts them in stats().dropped).
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { CaptureBatch } from '../packet/batch.js';
import { NativeIoError } from '../io/errors.js';
import { awaitReady } from '../io/worker-start.js';
import type { CaptureStats, LiveCaptureEvents, LiveCaptureOptions } from './live-capture.js';

export interface ThreadedCaptureOptions extends LiveCaptureOptions {
  /** Most captured bytes waiting for this thread. Default 256 MiB. */
  queueBytes?: number;
  /** How often the worker reports its counters, ms. Default 200. */
  statsIntervalMs?: number;
}

/** @internal What the worker receives as workerData. */
export interface ThreadInit {
  options: LiveCaptureOptions;
  inFlight: SharedArrayBuffer;
  queueBytes: number;
  statsIntervalMs: number;
}

/** @internal Messages from the worker. */
export type ThreadMessage =
  | { type: 'ready'; linkType: number; snaplen: number; stats: CaptureStats }
  | { type: 'failed'; code: string; message: string }
  | { type: 'batch'; buffer: ArrayBuffer; count: number }
  | { type: 'stats'; stats: CaptureStats }
  | { type: 'error'; code: string; message: string }
  | { type: 'closed'; stats: CaptureStats };

const DEFAULT_QUEUE_BYTES = 256 << 20;

export class ThreadedCapture extends EventEmitter<LiveCaptureEvents> {
  readonly device: string;
  readonly filter: string;
  readonly netns: string | undefined;
  readonly linkType: number;
  readonly snaplen: number;
  private readonly worker: Worker;
  private readonly inFlight: Int32Array;
  private lastStats: CaptureStats;
  private packets = 0;
  private batches = 0;
  private isClosed = false;
  private closing: Promise<void> | null = null;
  private onClosed: (() => void) | null = null;

  private constructor(
    worker: Worker,
    inFlight: Int32Array,
    opts: LiveCaptureOptions,
    ready: { linkType: number; snaplen: number; stats: CaptureStats },
  ) {
    super();
    this.worker = worker;
    this.inFlight = inFlight;
    this.device = opts.device;
    this.filter = opts.filter ?? '';
    this.netns = opts.netns;
    this.linkType = ready.linkType;
    this.snaplen = ready.snaplen;
    this.lastStats = ready.stats;
    worker.on('message', (m: ThreadMessage) => this.onMessage(m));
    worker.on('error', (e) => {
      if (!this.isClosed)
        this.emit('error', new NativeIoError('EPCAP', `capture thread failed: ${e.message}`, { cause: e }));
    });
    worker.on('exit', (code) => {
      const unexpected = !this.isClosed && this.closing === null;
      this.isClosed = true;
      if (unexpected) this.emit('error', new NativeIoError('EPCAP', `capture thread exited (${code})`));
      this.onClosed?.();
    });
  }

  /** Opens the capture in a new worker thread. Rejects with NativeIoError like LiveCapture.open throws. */
  static open(opts: ThreadedCaptureOptions): Promise<ThreadedCapture> {
    const { queueBytes = DEFAULT_QUEUE_BYTES, statsIntervalMs = 200, ...options } = opts;
    if (!Number.isInteger(queueBytes) || queueBytes < 1 << 16 || queueBytes > 0x7fff_ffff) {
      return Promise.reject(new RangeError(`queueBytes must be an integer in [65536, 2^31), got ${queueBytes}`));
    }
    const shared = new SharedArrayBuffer(4);
    const init: ThreadInit = { options, inFlight: shared, queueBytes, statsIntervalMs };
    const worker = new Worker(new URL('./capture-thread.js', import.meta.url), { workerData: init });
    return awaitReady<Extract<ThreadMessage, { type: 'ready' }>>(worker, 'capture thread').then(
      (m) => new ThreadedCapture(worker, new Int32Array(shared), options, m),
    );
  }

  private onMessage(m: ThreadMessage): void {
    switch (m.type) {
      case 'batch': {
        Atomics.sub(this.inFlight, 0, m.buffer.byteLength);
        if (this.isClosed) return;
        this.packets += m.count;
        this.batches++;
        this.emit('batch', new CaptureBatch(Buffer.from(m.buffer), m.count, this.linkType));
        return;
      }
      case 'stats':
      case 'closed':
        this.lastStats = m.stats;
        return;
      case 'error':
        if (!this.isClosed) this.emit('error', new NativeIoError(m.code, m.message));
        return;
      default:
        return;
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Counters as the worker last reported them (every statsIntervalMs, and at close); `packets` and
   * `batches` count what reached this thread.
   */
  stats(): CaptureStats {
    return { ...this.lastStats, packets: this.packets, batches: this.batches };
  }

  /** Bytes captured and not yet delivered to this thread. */
  get queuedBytes(): number {
    return Atomics.load(this.inFlight, 0);
  }

  /** An open capture keeps the process alive (default); unref() lets it exit anyway. */
  unref(): this {
    this.worker.unref();
    return this;
  }

  ref(): this {
    this.worker.ref();
    return this;
  }

  /**
   * Stops capturing. Batches already queued for this thread are still delivered before the promise
   * resolves; the final counters are in stats(). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      if (this.isClosed) {
        resolve();
        return;
      }
      this.onClosed = () => {
        this.emit('close');
        resolve();
      };
      this.worker.postMessage('close');
    });
    return this.closing;
  }
}
