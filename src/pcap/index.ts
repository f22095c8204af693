// Public surface of the capture-file layer: streaming pcap/pcapng readers and writers.

export type {
  ByteOrder,
  CaptureFileInfo,
  CaptureFormat,
  CaptureInterface,
  CaptureSection,
  PacketDirection,
  PacketToWrite,
} from './types.js';
export { CaptureFileError, CaptureWriteError } from './errors.js';
export type { CaptureFileErrorCode, CaptureWriteErrorCode } from './errors.js';
export { CaptureFileParser, parseCapture, parseCaptureBuffer } from './parser.js';
export type { CaptureFileParserOptions } from './parser.js';
export { CaptureFileReader, loadCaptureFile, readCaptureFile, readCaptureStream } from './file.js';
export type { ReadCaptureOptions } from './file.js';
export { epbDirection, unitsPerSecond } from './pcapng-reader.js';
export {
  PcapWriter,
  encodePcapHeader,
  encodePcapRecord,
  encodePcapRecordInto,
  openPcapWriter,
  pcapRecordLength,
} from './pcap-writer.js';
export type { PcapHeaderOptions, PcapWriterOptions } from './pcap-writer.js';
export {
  PcapngWriter,
  encodeEnhancedPacketBlock,
  encodeEnhancedPacketBlockInto,
  encodeInterfaceDescriptionBlock,
  encodeSectionHeaderBlock,
  enhancedPacketBlockLength,
  openPcapngWriter,
} from './pcapng-writer.js';
export type { PcapngInterfaceOptions, PcapngSectionOptions, PcapngWriterOptions } from './pcapng-writer.js';
export * as PcapFormat from './format.js';
