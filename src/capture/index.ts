// Public API of packet capture: live (libpcap in a worker thread), socket (AF_PACKET) and the batches they deliver.
export { LiveCapture } from './live-capture.js';
export type { LiveCaptureOptions, CaptureStats, LiveCaptureEvents } from './live-capture.js';
export { SocketCapture } from './socket-capture.js';
export type { SocketCaptureOptions } from './socket-capture.js';
export { ThreadedCapture } from './threaded-capture.js';
export type { ThreadedCaptureOptions } from './threaded-capture.js';
export { CaptureBatch, META_WORDS } from '../packet/batch.js';
export type { BatchPacketInit } from '../packet/batch.js';
export type { PacketSource } from './source.js';
export { ReopeningCapture, REOPEN_RETRY_MS } from './reopening.js';
export type { ReopeningOptions } from './reopening.js';
