// Public API of the native addon edge: loading it, its typed errors, and the NFQUEUE verdict queue.
export { NativeIoError } from './errors.js';
export type { KnownNativeIoErrorCode } from './errors.js';
export { loadNative, addonPath } from './native.js';
export { NfQueue, NfqBatch, NfqVerdict, NFQ_META_WORDS } from './nfqueue.js';
export type { NfQueueOptions, NfQueueStats, NfQueueEvents } from './nfqueue.js';
