// Loads the project's N-API addon (build/Release/tcpcopy_native.node, resolved from the package
// root) and describes its raw interface. Everything above this file uses these types only.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packageRoot as findPackageRoot } from '../paths.js';
import { join, resolve } from 'node:path';
import { NativeIoError } from './errors.js';

declare const handleKind: unique symbol;
/** An opaque addon handle (a JS external); only the addon reads it. */
export interface NativeHandle<K extends 'capture' | 'socket' | 'rx'> {
  readonly [handleKind]: K;
}
export type CaptureHandle = NativeHandle<'capture'>;
export type SocketHandle = NativeHandle<'socket'>;
export type RxHandle = NativeHandle<'rx'>;

export interface NativeRxOptions {
  device: string;
  filter: string;
  snaplen: number;
  /** The socket's receive buffer (SO_RCVBUFFORCE). */
  bufferBytes: number;
  /** Most time one readable event spends reading before the loop's other work runs. */
  sliceMs: number;
  promisc: boolean;
  netns: string | null;
}

/**
 * One call per recvmmsg: `count` packets are in the staging buffer (valid until the call returns);
 * count −1 with `error`: the socket failed and polling stopped. Counters are cumulative since open.
 */
export type NativeRxCallback = (
  count: number,
  received: number,
  dropped: number,
  ifDropped: number,
  error?: Error,
) => void;

export interface NativeRxInfo {
  handle: RxHandle;
  /** The staging buffer: `batch` records of CAPTURE_META_WORDS uint32, then `batch` slots of snaplen bytes. */
  buffer: Buffer;
  batch: number;
  linkType: number;
  snaplen: number;
}

export interface NativeCaptureOptions {
  device: string;
  filter: string;
  snaplen: number;
  bufferBytes: number;
  /** TPACKET_V3 block timeout; 0 selects immediate mode. */
  timeoutMs: number;
  promisc: boolean;
  netns: string | null;
}

/**
 * One call per batch: `buffer` holds `count` records of CAPTURE_META_WORDS uint32 then the packet
 * bytes (see batch.ts). On failure `buffer` is null and `error` says why; polling has stopped.
 * received/dropped/ifDropped are cumulative since open.
 */
export type NativeBatchCallback = (
  buffer: Buffer | null,
  count: number,
  received: number,
  dropped: number,
  ifDropped: number,
  error?: Error,
) => void;

export interface NativeCaptureInfo {
  handle: CaptureHandle;
  linkType: number;
  snaplen: number;
  /** Timestamps came from libpcap in ns (otherwise µs, converted). */
  nano: boolean;
}

export interface NativeLinkInfo {
  handle: SocketHandle;
  ifindex: number;
  mtu: number;
  /** "aa:bb:cc:dd:ee:ff", or "" when the device has no Ethernet address. */
  mac: string;
  sndbuf: number;
}

export interface NativeBinding {
  readonly ABI: number;
  readonly CAPTURE_META_WORDS: number;
  captureOpen(opts: NativeCaptureOptions, onBatch: NativeBatchCallback): NativeCaptureInfo;
  captureClose(handle: CaptureHandle): void;
  /** [received, dropped, ifDropped], cumulative. */
  captureStats(handle: CaptureHandle): [number, number, number];
  captureSetRef(handle: CaptureHandle, ref: boolean): void;
  rxOpen(opts: NativeRxOptions, onBatch: NativeRxCallback): NativeRxInfo;
  rxClose(handle: RxHandle): void;
  /** [received, dropped, ifDropped], cumulative. */
  rxStats(handle: RxHandle): [number, number, number];
  rxSetRef(handle: RxHandle, ref: boolean): void;
  /** Compiles without opening anything; returns the instruction count or throws EBADFILTER. */
  compileFilter(linkType: number, snaplen: number, filter: string): number;
  pcapVersion(): string;
  rawOpen(family: 4 | 6, sndbuf: number, netns: string | null): { handle: SocketHandle; sndbuf: number };
  linkOpen(device: string, netns: string | null, qdiscBypass: boolean, sndbuf: number): NativeLinkInfo;
  /**
   * Sends packets[start .. start+count) with sendmmsg; results[k] = 0 sent, > 0 errno, -1 not
   * attempted (stopped at EAGAIN/ENOBUFS). Returns how many were sent.
   */
  socketSend(
    handle: SocketHandle,
    packets: readonly Uint8Array[],
    start: number,
    count: number,
    results: Int32Array,
  ): number;
  /** socketSend for `count` packets lying back to back in `buffer` (lengths[k] bytes each, from offset 0). */
  socketSendPacked(
    handle: SocketHandle,
    buffer: Uint8Array,
    lengths: Uint32Array,
    count: number,
    results: Int32Array,
  ): number;
  /** Calls cb once when the socket becomes writable (cb(error) if polling failed). */
  socketWaitWritable(handle: SocketHandle, cb: (error?: Error) => void): void;
  socketClose(handle: SocketHandle): void;
  socketInfo(handle: SocketHandle): { kind: number; fd: number; sndbuf: number; ifindex: number };
}

/** The Node-API surface version this TypeScript expects (addon.c sets ABI). */
const EXPECTED_ABI = 1;

/** The package root (see src/paths.ts), as a NativeIoError when it cannot be found. */
export function packageRoot(): string {
  try {
    return findPackageRoot();
  } catch (e) {
    throw new NativeIoError('ENOTBUILT', `native addon not built (package root not found): ${rebuildHint()}`, {
      cause: e,
    });
  }
}

/** Where the addon is looked for: $TCPCOPY_NATIVE_ADDON, else <root>/build/Release/tcpcopy_native.node. */
export function addonPath(): string {
  const override = process.env.TCPCOPY_NATIVE_ADDON;
  if (override) return resolve(override);
  return join(packageRoot(), 'build', 'Release', 'tcpcopy_native.node');
}

let cached: NativeBinding | undefined;

/**
 * How to get the addon built: from a checkout, its set-up script; from an installed package, the
 * system packages its install step checks for, then `npm rebuild`.
 */
export function rebuildHint(): string {
  let checkout = false;
  try {
    checkout = existsSync(join(findPackageRoot(), 'scripts', 'setup.sh'));
  } catch {
    // no package root: an installed copy cannot have lost it, say what an installed copy needs
  }
  return checkout
    ? 'run scripts/setup.sh'
    : 'apt-get install libpcap-dev libnetfilter-queue-dev libmnl-dev build-essential python3, then npm rebuild tcpcopy ' +
        '(npm rebuild -g tcpcopy for a global install); --transport socket works without it';
}

/** Loads the addon once. Throws NativeIoError ENOTBUILT (missing) or ELOAD (failed to load). */
export function loadNative(): NativeBinding {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new NativeIoError('ENOTBUILT', `native addon not built (missing ${path}): ${rebuildHint()}`);
  }
  const require = createRequire(import.meta.url);
  let mod: NativeBinding;
  try {
    mod = require(path) as NativeBinding;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new NativeIoError('ELOAD', `native addon ${path} did not load: ${why} (${rebuildHint()})`, { cause: e });
  }
  if (mod.ABI !== EXPECTED_ABI) {
    throw new NativeIoError(
      'ELOAD',
      `native addon ${path} has interface version ${String(mod.ABI)}, expected ${EXPECTED_ABI}: ${rebuildHint()}`,
    );
  }
  cached = mod;
  return mod;
}
