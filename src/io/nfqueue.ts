// NFQUEUE reader (traditional intercept): binds one netfilter queue through the addon (nfqueue.c),
// copy mode "packet" truncated to copyBytes, fail-open and GSO flags set. Each poll of the netlink
// socket becomes one NfqBatch 'batch' event; verdicts go back in batches with verdict(). A packet
// the kernel queued waits for its verdict (the target's reply is held), so every id must get one,
// and close() drops what is still unanswered: answer the held ones first.
import { EventEmitter } from 'node:events';
import { NativeIoError, callNative, wrapNativeError } from './errors.js';
import { loadNative } from './native.js';
import type { NativeBinding } from './native.js';

declare const nfqKind: unique symbol;
/** An opaque addon handle for an open queue. */
interface NfqHandle {
  readonly [nfqKind]: 'nfqueue';
}

/** The addon's NFQUEUE exports (nfqueue.c). */
interface NfqBinding {
  readonly NFQ_META_WORDS: number;
  nfqOpen(
    opts: { queue: number; copyBytes: number; maxLen: number; netns: string },
    onBatch: (buffer: Buffer | null, count: number, error?: Error) => void,
  ): NfqHandle;
  /** verdicts[k]: 0 DROP, 1 ACCEPT. Returns how many were sent. */
  nfqVerdict(handle: NfqHandle, ids: Uint32Array, verdicts: Uint8Array, count: number): number;
  /** [received, stagingLost, verdicts, verdictErrors, overruns] */
  nfqStats(handle: NfqHandle): [number, number, number, number, number];
  nfqClose(handle: NfqHandle): void;
}

/** Verdict values of verdict(): DROP 0, ACCEPT 1. */
export const NfqVerdict = { DROP: 0, ACCEPT: 1 } as const;
export type NfqVerdict = (typeof NfqVerdict)[keyof typeof NfqVerdict];

/** The words of one packet's record: [dataOffset, caplen, origLen, packetId, hwProtocol]. */
export const NFQ_META_WORDS = 5;

/** A view over one batch of queued packets: records of NFQ_META_WORDS uint32, then the IP packets. */
export class NfqBatch {
  readonly buffer: Buffer;
  readonly count: number;
  private readonly meta: Uint32Array;
  private readonly dataStart: number;

  constructor(buffer: Buffer, count: number) {
    this.buffer = buffer;
    this.count = count;
    this.dataStart = count * NFQ_META_WORDS * 4;
    // The addon's buffer is freshly allocated (aligned); copy when a caller hands a misaligned slice.
    const aligned = buffer.byteOffset % 4 === 0 ? buffer : Buffer.from(buffer);
    this.meta = new Uint32Array(aligned.buffer, aligned.byteOffset, count * NFQ_META_WORDS);
  }

  /** Offset of packet i's IP header in buffer. */
  offset(i: number): number {
    return this.dataStart + (this.meta[i * NFQ_META_WORDS] ?? 0);
  }

  /** Bytes of packet i present (at most copyBytes). */
  caplen(i: number): number {
    return this.meta[i * NFQ_META_WORDS + 1] ?? 0;
  }

  /** The packet's full length. */
  origLen(i: number): number {
    return this.meta[i * NFQ_META_WORDS + 2] ?? 0;
  }

  /** The kernel's packet id, which its verdict names. */
  id(i: number): number {
    return this.meta[i * NFQ_META_WORDS + 3] ?? 0;
  }

  /** EtherType of the packet: 0x0800 IPv4, 0x86dd IPv6. */
  hwProtocol(i: number): number {
    return this.meta[i * NFQ_META_WORDS + 4] ?? 0;
  }
}

export interface NfQueueOptions {
  /** Queue number (iptables --queue-num). */
  queue: number;
  /** Bytes copied per packet from its IP header. Default 256 (headers only). */
  copyBytes?: number;
  /** Packets the kernel holds for us before fail-open lets further ones through. Default 65536. */
  maxLen?: number;
  /** Network namespace under /run/netns to bind the queue in. */
  netns?: string;
}

export interface NfQueueStats {
  /** Packets read from the queue. */
  received: number;
  /** Packets not delivered to JS (no memory); the kernel's fail-open / queue timeout applies. */
  stagingLost: number;
  /** Verdicts sent. */
  verdicts: number;
  /** Verdicts the kernel refused (unknown id) or that could not be sent. */
  verdictErrors: number;
  /** Times the socket buffer overflowed (the kernel let those packets through: fail-open). */
  overruns: number;
}

export interface NfQueueEvents {
  batch: [batch: NfqBatch];
  error: [error: NativeIoError];
}

function nfqBinding(): NfqBinding {
  const native = loadNative() as NativeBinding & Partial<NfqBinding>;
  if (typeof native.nfqOpen !== 'function' || native.NFQ_META_WORDS !== NFQ_META_WORDS) {
    throw new NativeIoError(
      'ELOAD',
      'the native addon has no NFQUEUE support: rebuild it (node scripts/build-native.mjs)',
    );
  }
  return native as NfqBinding;
}

export class NfQueue extends EventEmitter<NfQueueEvents> {
  readonly queue: number;
  private readonly native: NfqBinding;
  private handle: NfqHandle | null = null;
  private ids = new Uint32Array(4096);
  private verdicts = new Uint8Array(4096);

  private constructor(native: NfqBinding, queue: number) {
    super();
    this.native = native;
    this.queue = queue;
  }

  /** Binds the queue; throws NativeIoError (EPERM without CAP_NET_ADMIN, and when another program has bound it). */
  static open(opts: NfQueueOptions): NfQueue {
    const native = nfqBinding();
    const q = new NfQueue(native, opts.queue);
    q.handle = callNative(() =>
      native.nfqOpen(
        { queue: opts.queue, copyBytes: opts.copyBytes ?? 256, maxLen: opts.maxLen ?? 65536, netns: opts.netns ?? '' },
        (buffer, count, error) => q.onBatch(buffer, count, error),
      ),
    );
    return q;
  }

  get closed(): boolean {
    return this.handle === null;
  }

  /** Sends verdicts for ids[0..count) (parallel arrays); returns how many were sent. */
  verdict(ids: Uint32Array, verdicts: Uint8Array, count: number): number {
    const h = this.handle;
    if (h === null) return 0;
    return callNative(() => this.native.nfqVerdict(h, ids, verdicts, count));
  }

  /** One verdict for every packet of a list of ids. */
  verdictAll(ids: readonly number[], verdict: NfqVerdict): number {
    if (ids.length === 0) return 0;
    if (this.ids.length < ids.length) {
      this.ids = new Uint32Array(ids.length);
      this.verdicts = new Uint8Array(ids.length);
    }
    for (let k = 0; k < ids.length; k++) {
      this.ids[k] = ids[k] ?? 0;
      this.verdicts[k] = verdict;
    }
    return this.verdict(this.ids, this.verdicts, ids.length);
  }

  stats(): NfQueueStats {
    const h = this.handle;
    if (h === null) return this.final ?? { received: 0, stagingLost: 0, verdicts: 0, verdictErrors: 0, overruns: 0 };
    const [received, stagingLost, verdicts, verdictErrors, overruns] = this.native.nfqStats(h);
    return { received, stagingLost, verdicts, verdictErrors, overruns };
  }

  private final: NfQueueStats | null = null;

  /** Unbinds the queue (packets still unanswered are dropped by the kernel). Idempotent. */
  close(): void {
    const h = this.handle;
    if (h === null) return;
    this.final = this.stats();
    this.handle = null;
    this.native.nfqClose(h);
  }

  private onBatch(buffer: Buffer | null, count: number, error?: Error): void {
    if (buffer === null) {
      const e = wrapNativeError(error);
      this.emit('error', e instanceof NativeIoError ? e : new NativeIoError('EPOLL', String(error)));
      return;
    }
    this.emit('batch', new NfqBatch(buffer, count));
  }
}
