// Public surface of the packet layer: link types, errors, checksums, addresses, per-layer codecs
// (views + Repr parse/emit), the whole-frame Repr, builders, the allocation-free decoder and the
// segment writer (outgoing TCP segments → IP packets).

export { LinkType, isSupportedLinkType, linkTypeName } from './linktype.js';
export type { LinkTypeName, LinkTypeValue } from './linktype.js';
export { PacketError } from './errors.js';
export type { PacketErrorCode } from './errors.js';
export {
  onesSum,
  foldSum,
  finishChecksum,
  internetChecksum,
  pseudoSumV4,
  pseudoSumV6,
  ipv4HeaderChecksum,
  verifyIpv4HeaderChecksum,
  transportChecksum,
  verifyTransportChecksum,
  checksumUpdate16,
  checksumUpdate32,
  writeU16Adjusting,
  writeU32Adjusting,
} from './checksum.js';
export {
  parseIpv4Address,
  writeIpv4,
  readIpv4,
  formatIpv4,
  ipv4ToString,
  parseIpv6Address,
  writeIpv6,
  formatIpv6,
  formatIp,
  writeIp,
  formatMac,
  writeMac,
} from './address.js';
export type { IpAddress, IpFamily } from './address.js';
export {
  EtherType,
  ETHERNET_HEADER_LENGTH,
  VLAN_TAG_LENGTH,
  MAX_VLAN_TAGS,
  isVlanTpid,
  parseVlanTags,
  emitVlanTags,
  ethernetHeaderLength,
  parseEthernet,
  emitEthernet,
  EthernetView,
} from './ethernet.js';
export type { EthernetRepr, VlanTag } from './ethernet.js';
export { SLL_HEADER_LENGTH, SLL2_HEADER_LENGTH, SllPacketType, parseSll, emitSll, parseSll2, emitSll2 } from './sll.js';
export type { SllRepr, Sll2Repr } from './sll.js';
export { NULL_HEADER_LENGTH, AddressFamily, familyIpVersion, readNullFamily, parseNull, emitNull } from './null.js';
export type { NullRepr } from './null.js';
export {
  IPV4_MIN_HEADER_LENGTH,
  IPV4_MAX_HEADER_LENGTH,
  IpProtocol,
  ipv4HeaderLength,
  parseIpv4,
  emitIpv4,
  Ipv4View,
} from './ipv4.js';
export type { Ipv4Repr, EmitOptions } from './ipv4.js';
export {
  IPV6_HEADER_LENGTH,
  MAX_IPV6_EXTENSION_HEADERS,
  ipv6ExtensionKind,
  ipv6ExtensionLength,
  ipv6HeaderLength,
  parseIpv6,
  emitIpv6,
  Ipv6View,
} from './ipv6.js';
export type { Ipv6Repr, Ipv6ExtensionHeader, Ipv6FragmentInfo } from './ipv6.js';
export {
  TcpOptionKind,
  tcpOptionLength,
  tcpOptionsLength,
  tcpOptionSpan,
  walkTcpOptions,
  parseTcpOptions,
  emitTcpOptions,
  writeTcpOption,
  TcpOptionSummary,
  readTcpOptionSummary,
} from './tcp-options.js';
export type { TcpOption, SackBlock } from './tcp-options.js';
export {
  TCP_MIN_HEADER_LENGTH,
  TCP_MAX_HEADER_LENGTH,
  TcpFlags,
  formatTcpFlags,
  tcpHeaderLength,
  tcpLength,
  parseTcp,
  tcpPseudoSum,
  emitTcp,
  TcpView,
} from './tcp.js';
export type { TcpRepr, PseudoHeader } from './tcp.js';
export { parsePacket, emitPacket, packetLength } from './packet.js';
export type { PacketRepr, LinkRepr, IpRepr, CookedTags } from './packet.js';
export { buildTcpPacket, buildEthernetFrame } from './build.js';
export type { TcpPacketSpec, EthernetFrameSpec } from './build.js';
export { LinkDecoder } from './link.js';
export { PacketDecoder } from './decoder.js';
export { tcpChecksumState, completeTcpChecksum } from './offload.js';
export type { TcpChecksumState } from './offload.js';
export { SegmentWriter, SegmentArena, emitSegment } from './segment-writer.js';
export type { TcpSegment, TcpSegmentFields } from './segment-writer.js';
export { sessionKeyString } from './session-key.js';
export type { SessionKey } from './session-key.js';
export { CaptureBatch, META_WORDS } from './batch.js';
export type { BatchPacketInit, BatchRecords } from './batch.js';
