// Public API of live capture, raw IP send and data-link inject (wrappers around the native addon).
export { LiveCapture } from './live-capture.js';
export type { LiveCaptureOptions, CaptureStats, LiveCaptureEvents } from './live-capture.js';
export { CaptureBatch, META_WORDS } from './batch.js';
export type { BatchPacketInit } from './batch.js';
export { RawSender } from './raw-sender.js';
export type { RawSenderOptions } from './raw-sender.js';
export { LinkInjector } from './link-injector.js';
export type { LinkInjectorOptions } from './link-injector.js';
export { PacketSender, errnoName } from './packet-sender.js';
export type { SendOutcome, SendReport, SendCounters, PacketSenderOptions, PacketSenderEvents } from './packet-sender.js';
export { NativeIoError } from './errors.js';
export type { KnownNativeIoErrorCode } from './errors.js';
export { loadNative, addonPath } from './native.js';
export { tcpChecksumState, completeTcpChecksum } from './offload.js';
export type { TcpChecksumState } from './offload.js';
