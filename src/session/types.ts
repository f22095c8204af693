// Inputs, outputs and options of the session engine: plain data, no behaviour.

import type { SessionKey, TcpSegment, TcpSegmentFields } from '../packet/index.js';

/** TCP option values as read from a header; `TcpOptionSummary` from src/packet fits this shape. */
export interface TcpOptionValues {
  /** MSS, or -1 when absent. */
  readonly mss: number;
  /** Window scale shift, or -1 when absent. */
  readonly windowScale: number;
  readonly sackPermitted: boolean;
  readonly hasTimestamps: boolean;
  readonly tsval: number;
  readonly tsecr: number;
}

/**
 * A captured client → online-server TCP segment (src = the client, dst = the online server). The
 * engine copies the payload bytes it keeps.
 */
export interface ClientSegment extends TcpSegmentFields {
  readonly options: TcpOptionValues;
  readonly payload: Uint8Array;
}

/**
 * A target → client reply header relayed by intercept (src = the target, dst = the client); the
 * payload itself is carried only for a session whose stream transform asked for it.
 */
export interface TargetHeader extends Omit<TcpSegmentFields, 'family'> {
  readonly options: TcpOptionValues;
  readonly payloadLength: number;
  /** The first bytes of the payload (RESPONSE_DATA), or undefined. */
  readonly payload?: Buffer | undefined;
}

/**
 * A contiguous piece of the client stream as a transform sees and emits it (the shape of
 * reassembly.ts's StreamChunk): `seq` in the numbering of the side it is on.
 */
export interface TransformChunk {
  seq: number;
  data: Buffer;
  fin: boolean;
  onlineAck: number;
  capturedMs: number;
}

/**
 * A per-session rewrite of the client's byte stream (the MySQL mode re-signs logins): it takes the
 * reassembled client chunks in order and emits the chunks to send, numbered in the stream the target
 * sees (it may hold, replace, drop or add bytes: later chunks move by the difference). Pure.
 */
export interface StreamTransform {
  /** Reply payload bytes it wants to read now (0: none); the session asks intercept for them. */
  readonly replyPayloadBytes: number;
  /** Client bytes it holds back. */
  readonly heldBytes: number;
  /** A client chunk in the reassembler's numbering (the transform may keep the object). */
  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void;
  /**
   * A target reply carrying `payloadLength` bytes, `prefix` the first of them (undefined when
   * intercept sent none); `inOrder` false when it does not start where the previous reply ended;
   * `freshBytes` of them were not seen before (a retransmission may repeat some).
   */
  targetReply(
    prefix: Buffer | undefined,
    payloadLength: number,
    inOrder: boolean,
    emit: (c: TransformChunk) => void,
    freshBytes?: number,
  ): void;
  /**
   * A packet of the online server to the client (its payload; captured only in modes that ask for
   * them, e.g. the MySQL mode's answers to prepared statements), in capture order with the client's.
   */
  onlineReply?(payload: Uint8Array, emit: (c: TransformChunk) => void): void;
  /**
   * Something the transform waited for outside its session happened (SessionEngine.resume), or its
   * deadline came: emit what may go now.
   */
  resume?(emit: (c: TransformChunk) => void, nowMs?: number): void;
  /** When the transform wants resume() called if nothing else happened (engine clock, ms); Infinity: never. */
  readonly deadlineMs?: number;
}

/**
 * Makes the transform of a new session (null: none), or says that the session is not replayed at
 * all ('skip'). `joined`: its SYN was not captured, and `first` is the payload of its first packet.
 */
export type StreamTransformFactory = (
  tuple: SessionKey,
  joined: boolean,
  first: Uint8Array,
) => StreamTransform | 'skip' | null;

/** Where an online address:port is replicated to. */
export interface TargetAddress {
  readonly ip: string;
  readonly port: number;
}

/** A segment to send to the target, addresses already rewritten (src = client, dst = target). */
export type OutgoingSegment = TcpSegment;

export type CloseReason =
  | 'finished'
  | 'clientReset'
  | 'targetReset'
  | 'sessionTimeout'
  | 'keepaliveTimeout'
  | 'handshakeTimeout'
  | 'replaced'
  | 'shed'
  /** tcpcopy stopped (SIGTERM, SIGINT, the end of a replay): the target's side is reset. */
  | 'stopped';

/** Where the engine's output goes: the edge sends segments and tells intercept about sessions. */
export interface EngineSink {
  /**
   * A segment to send. `seg` (its options and payload included) is valid only during the call: the
   * engine rewrites the same object for the next packet, so a sink that keeps it copies it.
   */
  sendSegment(seg: OutgoingSegment): void;
  /** A new session: intercept must route replies for this 4-tuple to us. Called before its SYN is sent. */
  registerSession(tuple: SessionKey): void;
  /** The session's transform asks intercept for the first `maxBytes` of each reply (0: no more). */
  wantReplyPayload?(tuple: SessionKey, maxBytes: number): void;
  /** The session ended (`clientIsn`: its client's initial sequence number, which connection of the 4-tuple it was). */
  sessionClosed?(tuple: SessionKey, reason: CloseReason, clientIsn: number): void;
}

export interface SessionOptions {
  /** Hold a new request until the target answered the previous one (false = `-W`). */
  waitForResponse: boolean;
  /** Refuse sessions whose SYN was not captured (`-O`). */
  onlyWithSyn: boolean;
  /** No target packet for this long while data waits ⇒ session dropped (`-t`). */
  sessionTimeoutMs: number;
  /** Nothing waiting and no packet either way for this long ⇒ session closed (`-k`). */
  keepaliveTimeoutMs: number;
  /** No SYN-ACK within this long ⇒ session dropped. */
  handshakeTimeoutMs: number;
  /** Fallback: the previous response counts as finished after this quiet period. */
  responseQuietMs: number;
  /** How long a capture gap (missing client bytes) is waited for before it is skipped. */
  captureGapWaitMs: number;
  /**
   * Retransmission timeout before any RTT sample (the SYN's, RFC 6298's 1 s); afterwards the RTO is
   * SRTT + 4·RTTVAR within [minRtoMs, maxRtoMs], doubled per retry up to `maxRtoMs`.
   */
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** An ACK for target data is delayed at most this long when nothing else carries it. */
  delayedAckMs: number;
  /** Bound on client bytes held per session (unsent, unacknowledged and out of order). */
  maxBufferedBytes: number;
  /**
   * Bound on client bytes held by all sessions together (the backlog). Reaching it sheds the
   * sessions with the oldest unsent data (RST to the target, close reason 'shed', counted) until
   * the backlog is under 90 % of the bound. 0: no bound.
   */
  maxQueuedBytes: number;
  /** Live sessions at most: a new session past it resets the oldest (close reason 'shed', counted). 0: no bound. */
  maxSessions: number;
  /**
   * A new connection on a client port whose old session still has client data to replay waits at
   * most this long for the old session to finish before the old one is reset.
   */
  reusedPortWaitMs: number;
  /** Bound on the new connection's packets held meanwhile (past it, the old session is reset). */
  reusedPortQueuePackets: number;
  /**
   * How many times a connection is opened again (same SYN) when the target resets it before
   * acknowledging any client byte; 0 = never (the session ends with 'targetReset').
   */
  maxHandshakeRestarts: number;
  /** MSS put in a SYN when the client's is unknown. */
  defaultMss: number;
  /**
   * Largest IP packet sent to the target (`-M`, the MTU towards it): a data segment carries at most
   * min(target MSS, this − IP header − 20) − the TCP option bytes it carries.
   */
  maxIpPacketBytes: number;
  /** Window field we advertise, and the window scale offered in our SYN. */
  advertisedWindow: number;
  advertisedWindowScale: number;
}

export const DEFAULT_SESSION_OPTIONS: Readonly<SessionOptions> = Object.freeze({
  waitForResponse: true,
  onlyWithSyn: false,
  sessionTimeoutMs: 120_000,
  keepaliveTimeoutMs: 3_600_000,
  handshakeTimeoutMs: 7_000,
  responseQuietMs: 100,
  captureGapWaitMs: 1_000,
  initialRtoMs: 1_000,
  minRtoMs: 200,
  maxRtoMs: 3_000,
  delayedAckMs: 10,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxQueuedBytes: 512 * 1024 * 1024,
  maxSessions: 0,
  reusedPortWaitMs: 3_000,
  reusedPortQueuePackets: 256,
  maxHandshakeRestarts: 3,
  defaultMss: 1460,
  maxIpPacketBytes: 1500,
  advertisedWindow: 65535,
  advertisedWindowScale: 7,
});

/** A copy of a type whose fields can be set in place (scratch objects reused per packet). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A ClientSegment to fill in place, options included. */
export type ScratchClientSegment = Mutable<ClientSegment> & { options: Mutable<TcpOptionValues> };

/** TCP option values meaning "none present". */
export function blankOptionValues(): Mutable<TcpOptionValues> {
  return { mss: -1, windowScale: -1, sackPermitted: false, hasTimestamps: false, tsval: 0, tsecr: 0 };
}

/** An empty ClientSegment for the decoder and the rewriter to fill per packet. */
export function blankClientSegment(): ScratchClientSegment {
  // Written out, not spread from a shared blank: objects built by spread are slower on the per-packet path
  // (measured with the engine bench: +0.5 µs and +50 B per folded keep-alive request).
  return {
    family: 4,
    src: '',
    srcPort: 0,
    dst: '',
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    options: blankOptionValues(),
    payload: new Uint8Array(0),
  };
}
