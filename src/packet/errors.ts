// The packet layer's one error type: a PacketError carries a machine-readable code and the byte
// offset (within the buffer handed to the parser) where the problem was found.

export type PacketErrorCode =
  /** Fewer bytes are present than the header or field needs. */
  | 'TRUNCATED'
  /** The IP version nibble is not 4/6 (or not the one the link type promises). */
  | 'BAD_VERSION'
  /** IPv4 header length below 5 words. */
  | 'BAD_IHL'
  /** IPv4 total length / IPv6 payload length inconsistent with the headers. */
  | 'BAD_TOTAL_LENGTH'
  /** TCP data offset below 5 words or beyond the segment. */
  | 'BAD_DATA_OFFSET'
  /** A TCP or IPv4 option with an impossible length, or options that do not fit. */
  | 'BAD_OPTION'
  /** An IPv6 extension header that does not fit or a chain that is too long. */
  | 'BAD_EXT_HEADER'
  /** The capture's link type is not one the decoder knows. */
  | 'UNSUPPORTED_LINKTYPE'
  /** The link layer carries something other than IPv4/IPv6 (ARP, 802.3 length field, ...). */
  | 'UNSUPPORTED_ETHERTYPE'
  /** NULL/LOOP address family that is not IPv4/IPv6. */
  | 'UNSUPPORTED_FAMILY'
  /** The IP packet does not carry TCP (returned by parsers that require TCP). */
  | 'NOT_TCP'
  /** An IP fragment, which cannot be decoded to TCP without reassembly. */
  | 'FRAGMENTED'
  /** A textual address (IPv4, IPv6, MAC) that does not parse. */
  | 'BAD_ADDRESS'
  /** A value given to an emitter does not fit its field. */
  | 'BAD_FIELD'
  /** The output buffer is too small for what is being emitted. */
  | 'BUFFER_TOO_SMALL';

export class PacketError extends Error {
  override readonly name = 'PacketError';
  readonly code: PacketErrorCode;
  /** Byte offset of the problem within the buffer given to the parser (-1 when not about a buffer). */
  readonly offset: number;

  constructor(code: PacketErrorCode, offset: number, detail?: string) {
    super(`${code} at offset ${offset}${detail !== undefined ? `: ${detail}` : ''}`);
    this.code = code;
    this.offset = offset;
  }
}
