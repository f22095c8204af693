// TCPCopy 1.x wire compatibility: the C tool's channel format (pure codec and streaming decoders) and
// the socket edges that speak it (Tcpcopy1Server for intercept --tcpcopy1, Tcpcopy1Client for
// tcpcopy --tcpcopy1). See README.md in this folder.

export {
  TCPCOPY1_VERSION,
  CLIENT_RECORD_LENGTH,
  CLIENT_RECORD_MIN_LENGTH,
  SERVER_RECORD_LENGTH,
  SERVER_RECORD_IP_LENGTH,
  SERVER_RECORD_MAX_TCP_LENGTH,
  MAX_COMBINED_RECORDS,
  COMBINED_HEADER_LENGTH,
  MAX_COMBINED_FRAME_LENGTH,
  ClientRecordType,
  Tcpcopy1Error,
  versionRecord,
  parseClientRecord,
  emitClientRecord,
  emitClientRecordInto,
  tcpcopy1Session,
  sessionKeyOf,
  serverRecordPayloadLength,
  parseServerRecord,
  emitServerRecord,
  emitServerRecordInto,
  serverRecordFromResponse,
  responseFromServerRecord,
  combinedFramesLength,
  emitCombinedFrame,
  emitCombinedFrames,
  parseCombinedFrame,
} from './records.js';
export type {
  Tcpcopy1ErrorCode,
  Tcpcopy1Session,
  VersionRecord,
  SessionRecord,
  ClientRecord,
  ServerRecord,
} from './records.js';
export { ClientRecordStream, CombinedFrameStream } from './stream.js';
export { Tcpcopy1Server } from './server.js';
export type { Tcpcopy1ServerOptions, Tcpcopy1Peer, Tcpcopy1PeerStats, Tcpcopy1ServerStats } from './server.js';
export { Tcpcopy1Client } from './client.js';
export type { Tcpcopy1ClientOptions } from './client.js';
