// Public API of sending: raw IP send and data-link inject, each directly or from a worker thread.
export { RawSender } from './raw-sender.js';
export { ThreadedRawSender, packBatch, unpackBatch } from './threaded-sender.js';
export type { ThreadedRawSenderOptions, ThreadedRawSenderEvents } from './threaded-sender.js';
export type { RawSenderOptions } from './raw-sender.js';
export { LinkInjector } from './link-injector.js';
export { ThreadedLinkInjector } from './threaded-link-injector.js';
export type {
  ThreadedLinkInjectorOptions,
  ThreadedLinkInjectorEvents,
  LinkDeviceInfo,
} from './threaded-link-injector.js';
export type { LinkInjectorOptions } from './link-injector.js';
export { PacketSender, errnoName } from './packet-sender.js';
export type {
  SendOutcome,
  SendReport,
  SendCounters,
  PacketSenderOptions,
  PacketSenderEvents,
} from './packet-sender.js';
export type { PacketSink, PackedPackets } from './sink.js';
