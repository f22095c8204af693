// The channel's one error type: a ChannelError carries a machine-readable code; decode errors also
// carry the byte offset within the stream (or frame) where the problem was found. CodedError is that
// shape for any code list (the TCPCopy 1.x format's Tcpcopy1Error is the other one).

export type ChannelErrorCode =
  /** The frame header's version byte is not the protocol version this side speaks. */
  | 'BAD_VERSION'
  /** The frame header names a message type this side does not know. */
  | 'UNKNOWN_TYPE'
  /** The frame header announces a body larger than the receiver's bound. */
  | 'FRAME_TOO_LARGE'
  /** A frame body whose length or fields do not fit its message type. */
  | 'MALFORMED'
  /** The stream ended in the middle of a frame. */
  | 'TRUNCATED'
  /** A value given to the encoder does not fit its field. */
  | 'BAD_FIELD'
  /** The peer did not prove the shared secret, or spoke before authenticating. */
  | 'AUTH_FAILED'
  /** The peer did not finish the handshake in time. */
  | 'AUTH_TIMEOUT'
  /** A message that is valid on the wire but not allowed in this state or direction. */
  | 'PROTOCOL'
  /** No shared secret was given (option or TCPCOPY_SECRET). */
  | 'NO_SECRET'
  /** The peer reported an error with an ERROR message. */
  | 'PEER_ERROR'
  /** The channel is closed. */
  | 'CLOSED';

export class CodedError<C extends string> extends Error {
  readonly code: C;
  /** Byte offset of the problem in the received stream (-1 when not about received bytes). */
  readonly offset: number;

  constructor(code: C, message: string, offset = -1) {
    super(message);
    this.code = code;
    this.offset = offset;
  }
}

export class ChannelError extends CodedError<ChannelErrorCode> {
  override readonly name = 'ChannelError';
}
