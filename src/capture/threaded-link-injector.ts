// A LinkInjector on its own thread, the data-link counterpart of ThreadedRawSender: send() packs
// whole frames (link header included) into one buffer and transfers it to the worker (no copy
// across the thread boundary), so the calling thread never waits for the kernel — over veth a
// sendmmsg on a packet socket runs the receiver's softirq work in the sender's context too. Frames
// keep their order. The bytes waiting for the worker are bounded by `queueBytes`; a batch over the
// bound is refused and counted as failed (EQUEUEFULL). Counters come from the worker every
// statsIntervalMs and at close.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { NativeIoError } from './errors.js';
import type { LinkInjectorOptions } from './link-injector.js';
import type { SendCounters } from './packet-sender.js';
import { packBatch } from './threaded-sender.js';
import { awaitReady } from './worker-start.js';

export interface ThreadedLinkInjectorOptions extends LinkInjectorOptions {
  /** Most frame bytes waiting for the worker. Default 256 MiB. */
  queueBytes?: number;
  /** How often the worker reports its counters, ms. Default 200. */
  statsIntervalMs?: number;
}

/** What the worker found out about the device when it opened the socket. */
export interface LinkDeviceInfo {
  ifindex: number;
  mtu: number;
  /** "aa:bb:cc:dd:ee:ff", "" when the device has no Ethernet address. */
  mac: string;
  sndbuf: number;
}

/** @internal What the worker receives as workerData. */
export interface LinkInjectThreadInit {
  options: LinkInjectorOptions;
  inFlight: SharedArrayBuffer;
  statsIntervalMs: number;
}

/** @internal Messages from the worker. */
export type LinkInjectThreadMessage =
  | { type: 'ready'; device: LinkDeviceInfo; counters: SendCounters }
  | { type: 'failed'; code: string; message: string }
  | { type: 'stats'; counters: SendCounters }
  | { type: 'error'; code: string; message: string }
  | { type: 'closed'; counters: SendCounters };

export interface ThreadedLinkInjectorEvents {
  /** The worker's injector failed (polling error) or the worker died. */
  error: [error: NativeIoError];
}

const DEFAULT_QUEUE_BYTES = 256 << 20;

export class ThreadedLinkInjector extends EventEmitter<ThreadedLinkInjectorEvents> {
  readonly device: string;
  readonly ifindex: number;
  readonly mtu: number;
  /** The device's own MAC, "" when it has none. */
  readonly mac: string;
  readonly sndbuf: number;
  readonly #worker: Worker;
  readonly #inFlight: Int32Array;
  readonly #queueBytes: number;
  #counters: SendCounters;
  #refused = 0;
  #closing: Promise<void> | null = null;
  #closed = false;

  private constructor(worker: Worker, inFlight: Int32Array, queueBytes: number, device: string, ready: { device: LinkDeviceInfo; counters: SendCounters }) {
    super();
    this.#worker = worker;
    this.#inFlight = inFlight;
    this.#queueBytes = queueBytes;
    this.device = device;
    this.ifindex = ready.device.ifindex;
    this.mtu = ready.device.mtu;
    this.mac = ready.device.mac;
    this.sndbuf = ready.device.sndbuf;
    this.#counters = ready.counters;
    worker.on('message', (m: LinkInjectThreadMessage) => {
      if (m.type === 'stats' || m.type === 'closed') this.#counters = m.counters;
      else if (m.type === 'error') this.emit('error', new NativeIoError(m.code, m.message));
    });
    worker.on('error', (e) => this.emit('error', new NativeIoError('EPCAP', `link inject thread failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => {
      const unexpected = !this.#closed && this.#closing === null;
      this.#closed = true;
      if (unexpected) this.emit('error', new NativeIoError('EPCAP', `link inject thread exited (${code})`));
    });
  }

  /** Opens the packet socket on `device` in a new worker thread. Rejects like LinkInjector.open (EPERM, ENODEV, ENETNS). */
  static open(opts: ThreadedLinkInjectorOptions): Promise<ThreadedLinkInjector> {
    const { queueBytes = DEFAULT_QUEUE_BYTES, statsIntervalMs = 200, ...options } = opts;
    if (!Number.isInteger(queueBytes) || queueBytes < 1 << 16 || queueBytes > 0x7fff_ffff) {
      return Promise.reject(new RangeError(`queueBytes must be an integer in [65536, 2^31), got ${queueBytes}`));
    }
    const shared = new SharedArrayBuffer(4);
    const init: LinkInjectThreadInit = { options, inFlight: shared, statsIntervalMs };
    const worker = new Worker(new URL('./link-inject-thread.js', import.meta.url), { workerData: init });
    return awaitReady<Extract<LinkInjectThreadMessage, { type: 'ready' }>>(worker, 'link inject thread')
      .then((m) => new ThreadedLinkInjector(worker, new Int32Array(shared), queueBytes, options.device, m));
  }

  get closed(): boolean {
    return this.#closed || this.#closing !== null;
  }

  /** Bytes handed to send() and not yet taken by the worker. */
  get queuedBytes(): number {
    return Atomics.load(this.#inFlight, 0);
  }

  /**
   * Hands the frames to the worker, in order. Returns false (and counts them as failed,
   * EQUEUEFULL) when the worker is `queueBytes` behind or the injector is closed.
   */
  send(frames: readonly Uint8Array[]): boolean {
    if (frames.length === 0) return true;
    const ab = packBatch(frames);
    if (this.closed || Atomics.load(this.#inFlight, 0) + ab.byteLength > this.#queueBytes) {
      this.#refused += frames.length;
      return false;
    }
    Atomics.add(this.#inFlight, 0, ab.byteLength);
    this.#worker.postMessage(ab, [ab]);
    return true;
  }

  /** The worker's SendCounters as last reported, plus the frames refused here (EQUEUEFULL). */
  counters(): SendCounters {
    const c = this.#counters;
    if (this.#refused === 0) return { ...c, errors: { ...c.errors } };
    return {
      ...c,
      packets: c.packets + this.#refused,
      failed: c.failed + this.#refused,
      errors: { ...c.errors, EQUEUEFULL: (c.errors.EQUEUEFULL ?? 0) + this.#refused },
    };
  }

  /** Sends what was handed over (and the retry queue), then closes the socket. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = new Promise<void>((resolve) => {
      if (this.#closed) {
        resolve();
        return;
      }
      this.#worker.once('exit', () => resolve());
      this.#worker.postMessage('close');
    });
    return this.#closing;
  }
}
