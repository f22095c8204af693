// Errors of the native packet I/O layer: one class whose `code` names the cause
// (EPERM, ENODEV, EBADFILTER, ENETNS, ENETDOWN, ECLOSED, ENOTBUILT, ...), wrapping the addon's error.

/** Codes the capture/send layer produces itself or passes on from the addon. */
export type KnownNativeIoErrorCode =
  | 'EPERM' // needs root or CAP_NET_RAW (CAP_SYS_ADMIN for namespaces)
  | 'ENODEV' // no such network device (the message names it)
  | 'EBADFILTER' // the BPF filter did not compile (libpcap's own message follows)
  | 'ENETNS' // network namespace not found or not a namespace
  | 'ENETDOWN' // the interface is down / went down while capturing
  | 'ECLOSED' // the capture or socket was closed
  | 'ENOTBUILT' // build/Release/tcpcopy_native.node is missing
  | 'ELOAD' // the addon exists but did not load
  | 'EPCAP' // another libpcap failure (message from libpcap)
  | 'EPOLL' // libuv could not poll the descriptor
  | 'EINVAL';

export interface NativeIoErrorOptions {
  cause?: unknown;
  errno?: number;
}

export class NativeIoError extends Error {
  override readonly name = 'NativeIoError';
  /** A KnownNativeIoErrorCode, or the errno name the kernel gave (EMFILE, ENOMEM, ...). */
  readonly code: string;
  readonly errno: number | undefined;

  constructor(code: string, message: string, opts: NativeIoErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.errno = opts.errno;
  }
}

function isCodedError(e: unknown): e is Error & { code: string; errno?: unknown } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

/** Turns an error thrown by the addon into a NativeIoError; argument errors (ERR_*) pass unchanged. */
export function wrapNativeError(e: unknown): unknown {
  if (e instanceof NativeIoError) return e;
  if (isCodedError(e) && !e.code.startsWith('ERR_')) {
    const errno = typeof e.errno === 'number' ? e.errno : undefined;
    return new NativeIoError(e.code, e.message, { cause: e, errno });
  }
  return e;
}

/** Runs an addon call, rethrowing its errors as NativeIoError. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw wrapNativeError(e);
  }
}
