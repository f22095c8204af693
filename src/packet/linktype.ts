// Link-layer header type numbers (LINKTYPE_* values used in pcap/pcapng files and by libpcap).
// Shared by the codecs, the capture-file reader and the live capture wrappers.

export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  /** Ethernet II (DLT_EN10MB). */
  EN10MB: 1,
  /** Raw IP on some BSDs (DLT_RAW value 12 on most, 14 on OpenBSD). */
  DLT_RAW_12: 12,
  DLT_RAW_14: 14,
  /** Raw IPv4/IPv6, version taken from the first nibble. */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family in network (big-endian) order. */
  LOOP: 108,
  /** Linux cooked capture v1 (16-byte header). */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Raw IPv6 only. */
  IPV6: 229,
  /** Linux cooked capture v2 (20-byte header). */
  LINUX_SLL2: 276,
} as const;

export type LinkTypeName = keyof typeof LinkType;
export type LinkTypeValue = (typeof LinkType)[LinkTypeName];

/** Link types the packet decoder understands. */
export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LinkType.NULL:
    case LinkType.EN10MB:
    case LinkType.DLT_RAW_12:
    case LinkType.DLT_RAW_14:
    case LinkType.RAW:
    case LinkType.LOOP:
    case LinkType.LINUX_SLL:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case LinkType.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/** Human-readable name for a link type number (for messages). */
export function linkTypeName(linkType: number): string {
  for (const [name, value] of Object.entries(LinkType)) {
    if (value === linkType) return name;
  }
  return `LINKTYPE_${linkType}`;
}
