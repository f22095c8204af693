// Shared types of the capture-file layer: the file-level description (format, sections, interfaces) a
// reader builds while it parses, and the packet a writer takes. The packets read are CaptureBatches
// (src/packet/batch.ts).

export type ByteOrder = 'LE' | 'BE';
export type CaptureFormat = 'pcap' | 'pcapng';

/** A capture interface: the pcap file header, or one pcapng Interface Description Block. */
export interface CaptureInterface {
  /** File-wide index (CaptureBatch.interfaceId). */
  id: number;
  /** Index of the section that declared it (always 0 for pcap). */
  section: number;
  /** Index within its section (the id EPBs of that section use). */
  sectionInterfaceId: number;
  linkType: number;
  /** 0 means "no limit" in pcapng. */
  snaplen: number;
  /** if_name. */
  name?: string | undefined;
  /** if_description. */
  description?: string | undefined;
  /**
   * Timestamp resolution as the if_tsresol byte: 6 = µs (the default), 9 = ns; with the high bit set
   * the resolution is 2^-(value & 0x7f) seconds. For pcap: 6 or 9 from the magic.
   */
  tsresol: number;
  /** Timestamp units per second derived from tsresol. */
  unitsPerSecond: bigint;
  /** if_tsoffset in seconds (0n when absent). */
  tsOffsetSec: bigint;
  /** pcap only: FCS bytes at the end of every packet when the header says so. */
  fcsBytes?: number | undefined;
}

/** A pcapng section (one Section Header Block), or the single implicit section of a pcap file. */
export interface CaptureSection {
  index: number;
  /** File offset of the Section Header Block (0 for pcap). */
  offset: number;
  byteOrder: ByteOrder;
  versionMajor: number;
  versionMinor: number;
  /** pcapng section length, -1n when unknown; for pcap -1n. */
  sectionLength: bigint;
  hardware?: string | undefined;
  os?: string | undefined;
  userAppl?: string | undefined;
  /** Interfaces declared in this section (ids into CaptureFileInfo.interfaces). */
  interfaceIds: number[];
}

/** What a reader learned about the file so far (complete after the last packet). */
export interface CaptureFileInfo {
  format: CaptureFormat;
  /** Byte order of the pcap header or of the first pcapng section. */
  byteOrder: ByteOrder;
  /** pcap only: true for the nanosecond magic. */
  nanosecond: boolean;
  sections: CaptureSection[];
  interfaces: CaptureInterface[];
  /** Packets returned so far. */
  packets: number;
  /** Bytes consumed so far. */
  bytes: number;
  /** pcapng: blocks skipped because their type is unknown or carries no packets (NRB, ISB, DSB, custom). */
  skippedBlocks: number;
}

/** Direction recorded in pcapng epb_flags bits 0-1. */
export type PacketDirection = 'inbound' | 'outbound';

/** One packet handed to a writer. */
export interface PacketToWrite {
  /** Nanoseconds since the Unix epoch (≥ 0). */
  tsNs: bigint;
  /** The captured bytes; cut to the interface's snaplen when longer. */
  data: Buffer;
  /** Length on the wire; defaults to data.length and must not be smaller. */
  origLen?: number | undefined;
  /** pcapng interface index (default 0); pcap accepts only 0. */
  interfaceId?: number | undefined;
  /** pcapng only: stored as epb_flags bits 0-1. */
  direction?: PacketDirection | undefined;
  /** pcapng only: raw epb_flags (direction, if given, is OR-ed in). */
  epbFlags?: number | undefined;
}
