// Public surface of the tcpcopy ⇄ intercept channel: messages, codec, streaming decoder,
// authentication, routing table (pure) and the socket edge (ChannelServer; ChannelClient
// on the connection pool that Tcpcopy1Client shares).

export { ChannelError } from './errors.js';
export type { ChannelErrorCode } from './errors.js';
export {
  CHANNEL_PROTOCOL_VERSION,
  DEFAULT_CHANNEL_PORT,
  FRAME_HEADER_LENGTH,
  MAX_FRAME_BODY_LENGTH,
  NONCE_LENGTH,
  MAC_LENGTH,
  MAX_INSTANCE_ID_LENGTH,
  MessageType,
  PeerRole,
  ChannelErrorWireCode,
  NoticeCode,
  sessionKeyString,
  responseSessionKey,
  responseSessionKeyString,
  responseTcpFlags,
} from './messages.js';
export type {
  MessageTypeValue,
  PeerRoleValue,
  ChannelErrorWireCodeValue,
  NoticeCodeValue,
  NoticeMessage,
  IpFamily,
  SessionKey,
  ChallengeMessage,
  HelloMessage,
  WelcomeMessage,
  RegisterMessage,
  UnregisterMessage,
  ResponseMessage,
  PingMessage,
  PongMessage,
  ErrorMessage,
  StatsWantMessage,
  ChannelMessage,
} from './messages.js';
export { MAX_ERROR_TEXT_LENGTH, bodyLength, frameLength, encodeInto, encodeMessage, decodeBody } from './codec.js';
export { FrameDecoder, DEFAULT_MAX_FRAME_BODY_BYTES } from './frame-decoder.js';
export type { FrameDecoderOptions } from './frame-decoder.js';
export {
  SECRET_ENV_VAR,
  newNonce,
  computeMac,
  verifyMac,
  findSecret,
  resolveSecret,
  secretMissing,
  missingSecretMessage,
} from './auth.js';
export { RoutingTable, DEFAULT_ROUTING_LIMITS } from './routing.js';
export type { RoutingLimits, RoutingCounters, RouteResult } from './routing.js';
export { stderrLogger, silentLogger } from './logger.js';
export type { ChannelLogger } from './logger.js';
export { ChannelConnection, DEFAULT_CONNECTION_LIMITS } from './connection.js';
export type { ConnectionLimits, ConnectionStats, ConnectionHandlers } from './connection.js';
export { ChannelServer, STATS_INTERVAL_BOUNDS_MS } from './server.js';
export { formatStatsNotice, parseStatsNotice } from './stats-notice.js';
export type { ChannelServerOptions, ChannelPeer, ChannelServerStats } from './server.js';
export type { ConnectionPoolOptions, ChannelClientStats, ChannelServerAddress, BackoffOptions } from './pool.js';
export { ChannelClient, parseServerList } from './client.js';
export type { ChannelClientOptions } from './client.js';
export type { RegistrationClient, ReplyRouter } from './ends.js';
