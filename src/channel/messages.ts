// Message types of the tcpcopy ⇄ intercept channel: wire constants and the plain objects the codec
// reads and writes. See README.md in this folder for the byte layout.
import { sessionKeyString } from '../packet/index.js';
import type { IpFamily, SessionKey } from '../packet/index.js';

/** Version byte carried by every frame header; a receiver refuses any other value. */
export const CHANNEL_PROTOCOL_VERSION = 1;
/** Port intercept listens on unless told otherwise (same as the C tool). */
export const DEFAULT_CHANNEL_PORT = 36524;
/** Bytes of the frame header: version, type, body length (u16). */
export const FRAME_HEADER_LENGTH = 4;
/** Largest body the 16-bit length field can announce. */
export const MAX_FRAME_BODY_LENGTH = 0xffff;
/** Bytes of the server's challenge nonce. */
export const NONCE_LENGTH = 32;
/** Bytes of the HMAC-SHA256 authenticator. */
export const MAC_LENGTH = 32;
/** Longest instance id in HELLO (bytes of UTF-8). */
export const MAX_INSTANCE_ID_LENGTH = 255;

export const MessageType = {
  CHALLENGE: 1,
  HELLO: 2,
  WELCOME: 3,
  REGISTER: 4,
  UNREGISTER: 5,
  RESPONSE: 6,
  PING: 7,
  PONG: 8,
  ERROR: 9,
  NOTICE: 10,
  /** tcpcopy → intercept: forward (a prefix of) this session's reply payloads, or stop. */
  PAYLOAD_WANT: 11,
  /** intercept → tcpcopy: RESPONSE with the first bytes of the reply's payload. */
  RESPONSE_DATA: 12,
  /** tcpcopy → intercept: send your counters (NOTICE STATS) every so many ms, or stop (0). */
  STATS_WANT: 13,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** Who is speaking in HELLO. */
export const PeerRole = { TCPCOPY: 1, INTERCEPT: 2 } as const;
export type PeerRoleValue = (typeof PeerRole)[keyof typeof PeerRole];

export type { IpFamily, SessionKey };
export { sessionKeyString };

/** Server → client, first frame on every connection. */
export interface ChallengeMessage {
  type: 'challenge';
  version: number;
  nonce: Buffer;
}

/** Client → server: identity and proof of the shared secret over the challenge nonce. */
export interface HelloMessage {
  type: 'hello';
  version: number;
  role: PeerRoleValue;
  instanceId: string;
  mac: Buffer;
}

/** Server → client: authentication accepted. */
export interface WelcomeMessage {
  type: 'welcome';
  version: number;
}

export interface RegisterMessage {
  type: 'register';
  session: SessionKey;
}

export interface UnregisterMessage {
  type: 'unregister';
  session: SessionKey;
}

/**
 * The header of one target reply (target → client): the IP fields tcpcopy needs, the whole TCP header
 * with options, and the TCP payload length. The payload itself crosses the channel only for a session
 * whose tcpcopy asked for it (PAYLOAD_WANT): then `payload` holds its first bytes (RESPONSE_DATA).
 */
export interface ResponseMessage {
  type: 'response';
  family: IpFamily;
  /** IPv4 TTL or IPv6 hop limit of the captured reply. */
  hopLimit: number;
  /** TCP payload bytes the reply carried. */
  payloadLength: number;
  /** The target (reply source). */
  src: string;
  /** The client (reply destination). */
  dst: string;
  /** The TCP header as captured, 20..60 bytes, options included; ports, seq, ack, flags are read from it. */
  tcpHeader: Buffer;
  /**
   * The first bytes of the TCP payload (at most payloadLength), when the session asked for them;
   * undefined otherwise. A folded reply (several segments in one) carries their payloads in order.
   */
  payload?: Buffer | undefined;
}

/**
 * tcpcopy → intercept, after REGISTER on the same connection, and only to an intercept that announced
 * the feature (NOTICE FEATURES): forward up to `maxBytes` of the payload of each of this session's
 * replies from now on; 0 stops it.
 */
export interface PayloadWantMessage {
  type: 'payload-want';
  session: SessionKey;
  maxBytes: number;
}

/**
 * tcpcopy → intercept, only to an intercept that announced `stats` (NOTICE FEATURES): send a NOTICE
 * STATS with your counters every `intervalMs` ms on this connection from now on; 0 stops it.
 */
export interface StatsWantMessage {
  type: 'stats-want';
  intervalMs: number;
}

export interface PingMessage {
  type: 'ping';
  token: number;
}

export interface PongMessage {
  type: 'pong';
  token: number;
}

export const ChannelErrorWireCode = {
  PROTOCOL: 1,
  AUTH_FAILED: 2,
  BAD_FRAME: 3,
  SHUTDOWN: 4,
} as const;
export type ChannelErrorWireCodeValue = (typeof ChannelErrorWireCode)[keyof typeof ChannelErrorWireCode];

export interface ErrorMessage {
  type: 'error';
  code: number;
  message: string;
}

/** What intercept's NOTICE reports (a deployment problem it diagnosed). */
export const NoticeCode = {
  /** IP forwarding is on at the assistant: the target's replies also reach the real clients. */
  FORWARDING_ON: 1,
  /** The target's replies pass intercept's host but its capture filter does not match them. */
  FILTER_MISMATCH: 2,
  /** The target's replies to registered sessions do not pass intercept's host (no route via it). */
  NO_REPLIES: 3,
  /**
   * Not a diagnosis: what this intercept can do beyond the base protocol, as space-separated words
   * (`reply-payload=N`: PAYLOAD_WANT is understood, up to N bytes of each reply). Sent once after
   * WELCOME; a tcpcopy that knows no features logs it and carries on.
   */
  FEATURES: 4,
  /**
   * Not a diagnosis: intercept's own counters as `name=value` words (stats-notice.ts), sent every
   * interval a STATS_WANT asked for; a tcpcopy that never asks never gets it.
   */
  STATS: 5,
} as const;
export type NoticeCodeValue = (typeof NoticeCode)[keyof typeof NoticeCode];

/** intercept → tcpcopy: a diagnosis for the operator (logged by tcpcopy); the connection stays up. */
export interface NoticeMessage {
  type: 'notice';
  code: number;
  message: string;
}

export type ChannelMessage =
  | ChallengeMessage
  | HelloMessage
  | WelcomeMessage
  | RegisterMessage
  | UnregisterMessage
  | ResponseMessage
  | PingMessage
  | PongMessage
  | ErrorMessage
  | NoticeMessage
  | PayloadWantMessage
  | StatsWantMessage;

/** The session a reply belongs to: its destination is the client, its source the target. */
export function responseSessionKey(r: ResponseMessage): SessionKey {
  const h = r.tcpHeader;
  return {
    family: r.family,
    clientIp: r.dst,
    clientPort: h.readUInt16BE(2),
    targetIp: r.src,
    targetPort: h.readUInt16BE(0),
  };
}

/** TCP flags (low 9 bits) of a reply's header. */
export function responseTcpFlags(r: ResponseMessage): number {
  return r.tcpHeader.readUInt16BE(12) & 0x1ff;
}

/** sessionKeyString(responseSessionKey(r)) without building the intermediate object. */
export function responseSessionKeyString(r: ResponseMessage): string {
  const h = r.tcpHeader;
  return `${r.family}|${r.dst}|${h.readUInt16BE(2)}|${r.src}|${h.readUInt16BE(0)}`;
}
