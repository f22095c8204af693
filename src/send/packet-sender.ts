// The send side shared by RawSender and LinkInjector: hands batches to the addon (sendmmsg), turns
// the per-packet outcome into a report, and keeps a bounded retry queue for packets the kernel
// could not take right now (EAGAIN: waits until the socket is writable; ENOBUFS: retries after a
// short timer). Packets keep their order: while the queue is not empty, new packets join its tail.
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { NativeIoError, callNative } from '../io/errors.js';
import type { NativeBinding, SocketHandle } from '../io/native.js';

/** 'sent', 'queued' (held for retry, sent later), or the error code of a packet that was not sent. */
export type SendOutcome = 'sent' | 'queued' | `E${string}`;

export interface SendReport {
  /** Per input packet, in order. */
  readonly results: readonly SendOutcome[];
  /** Handed to the kernel by this call. */
  readonly sent: number;
  /** Held in the retry queue (sent later; see counters().retriedSent and 'drain'). */
  readonly queued: number;
  /** Not sent and not queued: rejected (EMSGSIZE, EINVAL, EPERM, ...) or the queue was full (EQUEUEFULL). */
  readonly failed: number;
}

export interface SendCounters {
  /** Packets passed to send(). */
  packets: number;
  /** Packets the kernel accepted (directly or from the queue). */
  sent: number;
  /** Of `sent`, packets that went out from the retry queue. */
  retriedSent: number;
  /** Packets not sent for good. */
  failed: number;
  /** Packets in the retry queue now. */
  queued: number;
  /** Error occurrences by code, including the EAGAIN/ENOBUFS that sent packets to the queue. */
  errors: Record<string, number>;
}

export interface PacketSenderOptions {
  /** Most packets held for retry; 0 disables the queue (EAGAIN/ENOBUFS are then reported). Default 65536. */
  queueLimit?: number;
  /** Delay before retrying after ENOBUFS, ms. Default 1. */
  retryMs?: number;
}

export interface PacketSenderEvents {
  /** The retry queue became empty. */
  drain: [];
  /** The retry machinery failed (polling error); queued packets are dropped. */
  error: [error: NativeIoError];
}

const ERRNO_NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, num] of Object.entries(osConstants.errno)) if (!m.has(num)) m.set(num, name);
  return m;
})();

/** The errno name for a number ('EMSGSIZE'), or 'E<n>' if unknown. */
export function errnoName(errno: number): `E${string}` {
  const n = ERRNO_NAMES.get(errno);
  return n !== undefined && n.startsWith('E') ? (n as `E${string}`) : `E${errno}`;
}

const EAGAIN = osConstants.errno.EAGAIN;
const ENOBUFS = osConstants.errno.ENOBUFS;
const NOT_ATTEMPTED = -1;

export abstract class PacketSender extends EventEmitter<PacketSenderEvents> {
  private readonly native: NativeBinding;
  private readonly handle: SocketHandle;
  private readonly queueLimit: number;
  private readonly retryMs: number;
  private readonly what: string;
  private results = new Int32Array(256);
  private queue: Uint8Array[] = [];
  private head = 0;
  private waiting = false;
  private timer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private flushWaiters: (() => void)[] = [];
  private readonly c: SendCounters = { packets: 0, sent: 0, retriedSent: 0, failed: 0, queued: 0, errors: {} };

  protected constructor(native: NativeBinding, handle: SocketHandle, what: string, opts: PacketSenderOptions) {
    super();
    this.native = native;
    this.handle = handle;
    this.what = what;
    this.queueLimit = opts.queueLimit ?? 65536;
    this.retryMs = opts.retryMs ?? 1;
    if (!(Number.isInteger(this.queueLimit) && this.queueLimit >= 0))
      throw new RangeError('queueLimit must be an integer ≥ 0');
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Packets waiting in the retry queue. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Effective SO_SNDBUF of the socket, bytes. */
  get sndbuf(): number {
    return this.isClosed ? 0 : this.native.socketInfo(this.handle).sndbuf;
  }

  private count(code: string, n = 1): void {
    this.c.errors[code] = (this.c.errors[code] ?? 0) + n;
  }

  private resultsFor(n: number): Int32Array {
    if (this.results.length < n) this.results = new Int32Array(Math.max(n, this.results.length * 2));
    return this.results;
  }

  /**
   * Sends a batch (one sendmmsg per 64 packets). Never throws for a packet's failure: the report
   * says per packet. Throws NativeIoError ECLOSED after close().
   */
  send(packets: readonly Uint8Array[]): SendReport {
    if (this.isClosed) throw new NativeIoError('ECLOSED', `send on a closed ${this.what}`);
    const n = packets.length;
    this.c.packets += n;
    const results: SendOutcome[] = new Array<SendOutcome>(n);
    let sent = 0;
    let queued = 0;
    let failed = 0;
    let from = 0;
    if (this.queued === 0 && n > 0) {
      const r = this.resultsFor(n);
      sent = callNative(() => this.native.socketSend(this.handle, packets, 0, n, r));
      from = n;
      for (let i = 0; i < n; i++) {
        const v = r[i]!;
        if (v === 0) {
          results[i] = 'sent';
        } else if (v === EAGAIN || v === ENOBUFS || v === NOT_ATTEMPTED) {
          // the addon reports the blocking errno on the first unsent packet, -1 on the rest
          const blocking = v === NOT_ATTEMPTED ? EAGAIN : v;
          const code = errnoName(blocking);
          this.count(code);
          if (this.queueLimit === 0) {
            // no queue: the blocking error stands for this packet and every one after it
            for (let k = i; k < n; k++) results[k] = code;
            failed += n - i;
            if (n - i > 1) this.count(code, n - i - 1);
            break;
          }
          from = i;
          this.scheduleRetry(blocking);
          break;
        } else {
          const code = errnoName(v);
          results[i] = code;
          failed++;
          this.count(code);
        }
      }
    }
    for (let i = from; i < n; i++) {
      if (this.queued < this.queueLimit) {
        this.queue.push(Uint8Array.prototype.slice.call(packets[i]!));
        results[i] = 'queued';
        queued++;
      } else {
        results[i] = 'EQUEUEFULL';
        failed++;
        this.count('EQUEUEFULL');
      }
    }
    if (queued > 0 && !this.waiting && this.timer === undefined) this.scheduleRetry(EAGAIN);
    this.c.sent += sent;
    this.c.failed += failed;
    return { results, sent, queued, failed };
  }

  /**
   * Sends `count` packets lying back to back in `buffer` (lengths[k] bytes each) in one native call:
   * no JS object per packet and no per-packet report. Same rules as send(): what the kernel cannot
   * take now is copied into the retry queue, in order. Returns how many packets failed for good.
   */
  sendPacked(buffer: Uint8Array, lengths: Uint32Array, count: number): number {
    if (this.isClosed) throw new NativeIoError('ECLOSED', `send on a closed ${this.what}`);
    if (count === 0) return 0;
    this.c.packets += count;
    let failed = 0;
    let queued = 0;
    let sent = 0;
    let from = 0;
    let fromOff = 0;
    if (this.queued === 0) {
      const r = this.resultsFor(count);
      sent = callNative(() => this.native.socketSendPacked(this.handle, buffer, lengths, count, r));
      from = count;
      let off = 0;
      for (let i = 0; i < count; i++) {
        const v = r[i]!;
        if (v !== 0) {
          if (v === EAGAIN || v === ENOBUFS || v === NOT_ATTEMPTED) {
            const blocking = v === NOT_ATTEMPTED ? EAGAIN : v;
            const code = errnoName(blocking);
            this.count(code);
            if (this.queueLimit === 0) {
              failed += count - i;
              if (count - i > 1) this.count(code, count - i - 1);
              from = count;
            } else {
              from = i;
              fromOff = off;
              this.scheduleRetry(blocking);
            }
            break;
          }
          failed++;
          this.count(errnoName(v));
        }
        off += lengths[i]!;
      }
    }
    for (let i = from, off = fromOff; i < count; i++) {
      const len = lengths[i]!;
      if (this.queued < this.queueLimit) {
        this.queue.push(Uint8Array.prototype.slice.call(buffer, off, off + len)); // a copy: the buffer is reused
        queued++;
      } else {
        failed++;
        this.count('EQUEUEFULL');
      }
      off += len;
    }
    if (queued > 0 && !this.waiting && this.timer === undefined) this.scheduleRetry(EAGAIN);
    this.c.sent += sent;
    this.c.failed += failed;
    return failed;
  }

  private scheduleRetry(errno: number): void {
    if (this.isClosed || this.waiting || this.timer !== undefined) return;
    if (errno === EAGAIN) {
      this.waiting = true;
      try {
        this.native.socketWaitWritable(this.handle, (err) => {
          this.waiting = false;
          if (err) this.fail(err);
          else this.drainQueue();
        });
      } catch (e) {
        this.waiting = false;
        this.fail(e);
      }
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drainQueue();
      }, this.retryMs);
    }
  }

  private fail(e: unknown): void {
    const dropped = this.queued;
    this.queue = [];
    this.head = 0;
    this.c.failed += dropped;
    const err =
      e instanceof NativeIoError
        ? e
        : new NativeIoError('EPOLL', `${this.what} retry failed: ${String(e)}`, { cause: e });
    this.count(err.code, dropped);
    this.resolveFlush();
    this.emit('error', err);
  }

  private drainQueue(): void {
    if (this.isClosed) return;
    while (this.queued > 0) {
      const n = this.queued;
      const r = this.resultsFor(n);
      let sent: number;
      try {
        sent = callNative(() => this.native.socketSend(this.handle, this.queue, this.head, n, r));
      } catch (e) {
        this.fail(e);
        return;
      }
      this.c.sent += sent;
      this.c.retriedSent += sent;
      let blocked = 0;
      let done = 0;
      for (; done < n; done++) {
        const v = r[done]!;
        if (v === 0) continue;
        if (v === NOT_ATTEMPTED) break;
        if (v === EAGAIN || v === ENOBUFS) {
          blocked = v;
          this.count(errnoName(v));
          break;
        }
        this.c.failed++;
        this.count(errnoName(v));
      }
      this.head += done;
      if (blocked !== 0) {
        this.compact();
        this.scheduleRetry(blocked);
        return;
      }
    }
    this.queue = [];
    this.head = 0;
    this.resolveFlush();
    this.emit('drain');
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private resolveFlush(): void {
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const f of w) f();
  }

  /** Resolves when the retry queue is empty (at once if it is; also on close). */
  flush(): Promise<void> {
    if (this.queued === 0 || this.isClosed) return Promise.resolve();
    return new Promise((res) => this.flushWaiters.push(res));
  }

  counters(): SendCounters {
    return { ...this.c, queued: this.queued, errors: { ...this.c.errors } };
  }

  /** Closes the socket; queued packets are dropped (counted as ECLOSED). Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const dropped = this.queued;
    if (dropped > 0) {
      this.c.failed += dropped;
      this.count('ECLOSED', dropped);
    }
    this.queue = [];
    this.head = 0;
    this.waiting = false;
    this.native.socketClose(this.handle);
    this.resolveFlush();
  }
}
