// Packet senders on their own thread. send() packs the packets into one buffer and transfers it to
// the worker (no copy across the thread boundary), so the calling thread never waits for the
// kernel: over veth a sendmmsg also runs the receiver's softirq work and can take a long time under
// load. Packets keep their order. The bytes waiting for the worker are bounded by `queueBytes`; a
// batch over the bound is refused and counted as failed (code EQUEUEFULL). Counters (SendCounters)
// come from the worker every statsIntervalMs and at close. ThreadedSender is the shared part;
// ThreadedRawSender (raw IP, here) and ThreadedLinkInjector (data link, threaded-link-injector.ts)
// open their socket in the one worker script, send-thread.ts.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { NativeIoError } from '../io/errors.js';
import type { LinkInjectorOptions } from './link-injector.js';
import type { RawSenderOptions } from './raw-sender.js';
import type { SendCounters } from './packet-sender.js';
import { awaitReady } from '../io/worker-start.js';

/** Options every threaded sender takes. */
export interface ThreadedSenderOptions {
  /** Most packet bytes waiting for the worker. Default 256 MiB. */
  queueBytes?: number;
  /** How often the worker reports its counters, ms. Default 200. */
  statsIntervalMs?: number;
}

export interface ThreadedRawSenderOptions extends RawSenderOptions, ThreadedSenderOptions {}

/** What the worker learnt when it opened its socket (device fields only for the data link). */
export interface SenderSocketInfo {
  sndbuf: number;
  ifindex?: number;
  mtu?: number;
  /** "aa:bb:cc:dd:ee:ff", "" when the device has no Ethernet address. */
  mac?: string;
}

/** @internal What the worker receives as workerData. */
export type SenderThreadInit = { inFlight: SharedArrayBuffer; statsIntervalMs: number } & (
  { kind: 'raw'; options: RawSenderOptions } | { kind: 'link'; options: LinkInjectorOptions }
);

/** @internal Messages from the worker. */
export type SenderThreadMessage =
  | { type: 'ready'; info: SenderSocketInfo; counters: SendCounters }
  | { type: 'failed'; code: string; message: string }
  | { type: 'stats'; counters: SendCounters }
  | { type: 'error'; code: string; message: string }
  | { type: 'closed'; counters: SendCounters };

export interface ThreadedSenderEvents {
  /** The worker's sender failed (polling error) or the worker died. */
  error: [error: NativeIoError];
}
export type ThreadedRawSenderEvents = ThreadedSenderEvents;

/**
 * Packs packets as [count u32][length u32 × count][bytes...] (host byte order) in a fresh
 * ArrayBuffer. Pure.
 */
export function packBatch(packets: readonly Uint8Array[]): ArrayBuffer {
  let total = 4 + 4 * packets.length;
  for (const p of packets) total += p.length;
  const ab = new ArrayBuffer(total);
  const words = new Uint32Array(ab, 0, 1 + packets.length);
  const bytes = new Uint8Array(ab);
  words[0] = packets.length;
  let off = 4 + 4 * packets.length;
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    words[1 + i] = p.length;
    bytes.set(p, off);
    off += p.length;
  }
  return ab;
}

/** The packets of a packBatch buffer, as views into it. Throws RangeError on a malformed buffer. */
export function unpackBatch(ab: ArrayBuffer): Buffer[] {
  if (ab.byteLength < 4) throw new RangeError('packed batch shorter than its count');
  const count = new Uint32Array(ab, 0, 1)[0]!;
  if (4 + 4 * count > ab.byteLength) throw new RangeError(`packed batch of ${count} packets does not hold its lengths`);
  const lengths = new Uint32Array(ab, 4, count);
  const out: Buffer[] = new Array<Buffer>(count);
  let off = 4 + 4 * count;
  for (let i = 0; i < count; i++) {
    const len = lengths[i]!;
    if (off + len > ab.byteLength) throw new RangeError(`packed packet ${i} ends past the buffer`);
    out[i] = Buffer.from(ab, off, len);
    off += len;
  }
  return out;
}

const DEFAULT_QUEUE_BYTES = 256 << 20;

/** Starts the send worker for `init` and resolves with its 'ready' message. */
export function startSendThread(
  init: Omit<SenderThreadInit, 'inFlight' | 'statsIntervalMs'>,
  opts: ThreadedSenderOptions,
  what: string,
): Promise<{
  worker: Worker;
  inFlight: Int32Array;
  queueBytes: number;
  ready: Extract<SenderThreadMessage, { type: 'ready' }>;
}> {
  const { queueBytes = DEFAULT_QUEUE_BYTES, statsIntervalMs = 200 } = opts;
  if (!Number.isInteger(queueBytes) || queueBytes < 1 << 16 || queueBytes > 0x7fff_ffff) {
    return Promise.reject(new RangeError(`queueBytes must be an integer in [65536, 2^31), got ${queueBytes}`));
  }
  const shared = new SharedArrayBuffer(4);
  const workerData = { ...init, inFlight: shared, statsIntervalMs } as SenderThreadInit;
  const worker = new Worker(new URL('./send-thread.js', import.meta.url), { workerData });
  return awaitReady<Extract<SenderThreadMessage, { type: 'ready' }>>(worker, what).then((ready) => ({
    worker,
    inFlight: new Int32Array(shared),
    queueBytes,
    ready,
  }));
}

/** The part every threaded sender shares: the bounded hand-over, the counters, the close. */
export class ThreadedSender extends EventEmitter<ThreadedSenderEvents> {
  readonly sndbuf: number;
  private readonly worker: Worker;
  private readonly inFlight: Int32Array;
  private readonly queueBytes: number;
  private totals: SendCounters;
  private refused = 0;
  private closing: Promise<void> | null = null;
  private isClosed = false;

  protected constructor(started: Awaited<ReturnType<typeof startSendThread>>, what: string) {
    super();
    const { worker, inFlight, queueBytes, ready } = started;
    this.worker = worker;
    this.inFlight = inFlight;
    this.queueBytes = queueBytes;
    this.sndbuf = ready.info.sndbuf;
    this.totals = ready.counters;
    worker.on('message', (m: SenderThreadMessage) => {
      if (m.type === 'stats' || m.type === 'closed') this.totals = m.counters;
      else if (m.type === 'error') this.emit('error', new NativeIoError(m.code, m.message));
    });
    worker.on('error', (e) =>
      this.emit('error', new NativeIoError('EPCAP', `${what} failed: ${e.message}`, { cause: e })),
    );
    worker.on('exit', (code) => {
      const unexpected = !this.isClosed && this.closing === null;
      this.isClosed = true;
      if (unexpected) this.emit('error', new NativeIoError('EPCAP', `${what} exited (${code})`));
    });
  }

  get closed(): boolean {
    return this.isClosed || this.closing !== null;
  }

  /** Bytes handed to send() and not yet taken by the worker. */
  get queuedBytes(): number {
    return Atomics.load(this.inFlight, 0);
  }

  /**
   * Hands the packets to the worker, in order. Returns false (and counts them as failed,
   * EQUEUEFULL) when the worker is `queueBytes` behind or the sender is closed.
   */
  send(packets: readonly Uint8Array[]): boolean {
    if (packets.length === 0) return true;
    const ab = packBatch(packets);
    if (this.closed || Atomics.load(this.inFlight, 0) + ab.byteLength > this.queueBytes) {
      this.refused += packets.length;
      return false;
    }
    Atomics.add(this.inFlight, 0, ab.byteLength);
    this.worker.postMessage(ab, [ab]);
    return true;
  }

  /** The worker's SendCounters as last reported, plus the packets refused here (EQUEUEFULL). */
  counters(): SendCounters {
    const c = this.totals;
    if (this.refused === 0) return { ...c, errors: { ...c.errors } };
    return {
      ...c,
      packets: c.packets + this.refused,
      failed: c.failed + this.refused,
      errors: { ...c.errors, EQUEUEFULL: (c.errors.EQUEUEFULL ?? 0) + this.refused },
    };
  }

  /** Sends what was handed over (and the retry queue), then closes the socket. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      if (this.isClosed) {
        resolve();
        return;
      }
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('close');
    });
    return this.closing;
  }
}

/** A RawSender on its own thread. */
export class ThreadedRawSender extends ThreadedSender {
  readonly family: 4 | 6;

  private constructor(started: Awaited<ReturnType<typeof startSendThread>>, family: 4 | 6) {
    super(started, 'send thread');
    this.family = family;
  }

  /** Opens the raw socket in a new worker thread. Rejects with NativeIoError (EPERM, ENETNS) like RawSender.open. */
  static open(opts: ThreadedRawSenderOptions): Promise<ThreadedRawSender> {
    const { queueBytes, statsIntervalMs, ...options } = opts;
    if (options.family !== 4 && options.family !== 6)
      return Promise.reject(new RangeError(`family must be 4 or 6, got ${String(options.family)}`));
    return startSendThread(
      { kind: 'raw', options },
      {
        ...(queueBytes === undefined ? {} : { queueBytes }),
        ...(statsIntervalMs === undefined ? {} : { statsIntervalMs }),
      },
      'send thread',
    ).then((started) => new ThreadedRawSender(started, options.family));
  }
}
