// Constants of the pcap and pcapng file formats (magic numbers, block types, option codes, sizes).

/** Classic pcap magic, microsecond timestamps, as read in the writer's byte order. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Classic pcap magic, nanosecond timestamps. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** The same magics as they appear when read in the opposite byte order. */
export const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
export const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;

export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;

/** In the pcap header's link-type field only the low 16 bits are the link type. */
export const PCAP_LINKTYPE_MASK = 0xffff;
/** Set when the upper 4 bits hold the FCS length (in 16-bit words). */
export const PCAP_FCS_PRESENT_BIT = 0x04000000;

/** libpcap's largest snapshot length; writers default to it. */
export const DEFAULT_SNAPLEN = 262144;

/** pcapng block types. */
export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  /** Obsolete Packet Block. */
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
  CUSTOM: 0x00000bad,
  CUSTOM_NOCOPY: 0x40000bad,
} as const;

/** Section Header Block byte-order magic. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** The byte-order magic read in the opposite byte order. */
export const PCAPNG_BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
export const PCAPNG_VERSION_MAJOR = 1;
export const PCAPNG_VERSION_MINOR = 0;

/** Smallest legal total lengths (type + length + fixed body + trailing length). */
export const MIN_BLOCK_LEN = 12;
export const SHB_MIN_LEN = 28;
export const IDB_MIN_LEN = 20;
export const EPB_MIN_LEN = 32;
export const SPB_MIN_LEN = 16;
export const PB_MIN_LEN = 32;

/** Option codes. */
export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const SHB_HARDWARE = 2;
export const SHB_OS = 3;
export const SHB_USERAPPL = 4;
export const IF_NAME = 2;
export const IF_DESCRIPTION = 3;
export const IF_TSRESOL = 9;
export const IF_TSOFFSET = 14;
export const EPB_FLAGS = 2;

/** if_tsresol when the option is absent: 10^-6 s. */
export const DEFAULT_TSRESOL = 6;
/** if_tsresol value for nanoseconds. */
export const TSRESOL_NS = 9;

/** epb_flags bits 0-1: packet direction. */
export const EPB_DIRECTION_INBOUND = 1;
export const EPB_DIRECTION_OUTBOUND = 2;

/**
 * Blocks and records larger than this are refused as corrupt (a reader must buffer a whole block).
 * 16 MiB is far above any real snapshot length (libpcap's maximum is 256 KiB).
 */
export const DEFAULT_MAX_BLOCK_BYTES = 16 * 1024 * 1024;
